"""Zalo connection status, held replies, claim leases on inbound events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zalo_connection",
        sa.Column("oa_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("oa_id"),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    if op.get_bind().dialect.name == "postgresql":
        # A native enum on PostgreSQL; ADD VALUE cannot run inside a transaction block.
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE deliveryoutcome ADD VALUE IF NOT EXISTS 'held'")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        if op.get_bind().dialect.name == "sqlite":
            batch_op.alter_column(
                "outcome",
                existing_type=sa.Enum("sent", "simulated", "failed", name="deliveryoutcome"),
                type_=sa.Enum("sent", "simulated", "failed", "held", name="deliveryoutcome"),
            )


def downgrade() -> None:
    # PostgreSQL cannot drop an enum value; held replies become failed ones instead.
    op.execute("UPDATE outbound_messages SET outcome = 'failed' WHERE outcome = 'held'")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_column("resent_at")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
    op.drop_table("zalo_connection")
