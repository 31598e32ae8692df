"""The outbox: outbound messages split once into parts, each sent and recorded on its own

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:05:31

Messages held before this revision have no parts: the outbox splits them the first time it
resends them (nothing of them went out, so that is their only split).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PART_STATUS = sa.Enum("pending", "sending", "sent", "held", "failed", name="partstatus")
OUTCOMES_BEFORE = ("sent", "simulated", "failed", "held")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # A native enum on PostgreSQL; ADD VALUE cannot run inside a transaction block.
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE deliveryoutcome ADD VALUE IF NOT EXISTS 'pending'")
    op.create_table(
        "outbound_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.Text(), nullable=False),
        sa.Column("status", PART_STATUS, nullable=False),
        sa.Column("zalo_message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("uncertain_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["outbound_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "position", name="uq_outbound_part"),
    )
    with op.batch_alter_table("outbound_parts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbound_parts_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index("ix_outbound_parts_status", ["status", "message_id"], unique=False)

    # Uncertainty is the outbox's now, per part.
    with op.batch_alter_table("announcement_deliveries", schema=None) as batch_op:
        batch_op.drop_column("uncertain_since")

    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "purpose",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="reply",
            )
        )
        batch_op.add_column(sa.Column("delivery_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("report_reply_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbound_messages_delivery_id"), ["delivery_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbound_messages_inbound_event_id"), ["inbound_event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbound_messages_report_reply_id"), ["report_reply_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_outbound_messages_delivery_id",
            "announcement_deliveries",
            ["delivery_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            "fk_outbound_messages_report_reply_id", "report_replies", ["report_reply_id"], ["id"]
        )
        if not postgres:
            batch_op.alter_column(
                "outcome",
                existing_type=sa.Enum(*OUTCOMES_BEFORE, name="deliveryoutcome"),
                type_=sa.Enum("pending", *OUTCOMES_BEFORE, name="deliveryoutcome"),
            )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        # The default only filled the rows already there; the code always sets it.
        batch_op.alter_column("purpose", server_default=None)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # PostgreSQL cannot drop an enum value; messages still pending count as failed.
    op.execute("UPDATE outbound_messages SET outcome = 'failed' WHERE outcome = 'pending'")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbound_messages_report_reply_id", type_="foreignkey")
        batch_op.drop_constraint("fk_outbound_messages_delivery_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbound_messages_report_reply_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_messages_inbound_event_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_messages_delivery_id"))
        batch_op.drop_column("report_reply_id")
        batch_op.drop_column("delivery_id")
        batch_op.drop_column("purpose")
        if not postgres:
            batch_op.alter_column(
                "outcome",
                existing_type=sa.Enum("pending", *OUTCOMES_BEFORE, name="deliveryoutcome"),
                type_=sa.Enum(*OUTCOMES_BEFORE, name="deliveryoutcome"),
            )

    with op.batch_alter_table("announcement_deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("uncertain_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )

    with op.batch_alter_table("outbound_parts", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_parts_status")
        batch_op.drop_index(batch_op.f("ix_outbound_parts_message_id"))
    op.drop_table("outbound_parts")
    if postgres:
        PART_STATUS.drop(op.get_bind(), checkfirst=True)
