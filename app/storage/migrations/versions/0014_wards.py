"""Wards: every ward row keyed by its OA, with indexes for per-ward queries

A ward is an OA (app.wards): rows already carried their OA id, except announcement
deliveries, which now carry their announcement's (filled here, so a single-OA database's
deliveries stay that OA's). The existing OA's rows become the first ward's as they are: the
ward file that names its OA id (or procedures.yaml's ward, without ward files) serves them.
Nothing is dropped or rewritten.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_announcements_oa_created", "announcements", ["oa_id", "created_at"]),
    ("ix_unanswered_oa_created", "unanswered_questions", ["oa_id", "created_at"]),
    ("ix_procedure_asks_oa_asked", "procedure_asks", ["oa_id", "asked_at"]),
    ("ix_group_memberships_oa_group", "group_memberships", ["oa_id", "group_id"]),
    ("ix_reports_oa_created", "reports", ["oa_id", "created_at"]),
    ("ix_reports_oa_status", "reports", ["oa_id", "status"]),
)


def upgrade() -> None:
    with op.batch_alter_table("announcement_deliveries") as batch:
        batch.add_column(
            sa.Column(
                "oa_id",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )
    op.execute(
        "UPDATE announcement_deliveries SET oa_id = ("
        "SELECT announcements.oa_id FROM announcements "
        "WHERE announcements.id = announcement_deliveries.announcement_id)"
    )
    op.create_index(
        "ix_delivery_oa_resident",
        "announcement_deliveries",
        ["oa_id", "user_id", "status"],
        unique=False,
    )
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_delivery_oa_resident", table_name="announcement_deliveries")
    with op.batch_alter_table("announcement_deliveries") as batch:
        batch.drop_column("oa_id")
