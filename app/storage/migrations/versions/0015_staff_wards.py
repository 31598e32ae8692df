"""Staff per ward: the ward (slug) a console account belongs to

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 11:30:00

Existing accounts keep no ward: in a one-ward deployment they belong to that ward, nothing is
lost; with several wards an operator assigns them (`wardbot staff add USER --ward SLUG`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f("ix_staff_accounts_ward"), ["ward"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_accounts_ward"))
        batch_op.drop_column("ward")
