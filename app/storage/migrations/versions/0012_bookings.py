"""Bookings: booked visits, closed slots, booking drafts

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 10:44:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booking_closures",
        sa.Column("oa_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("counter_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("slot_start", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("oa_id", "counter_id", "slot_start"),
    )
    op.create_table(
        "booking_drafts",
        sa.Column("oa_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("oa_id", "user_id"),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("oa_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("procedure_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("counter_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("slot_start", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("slot_end", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("seat_no", sa.Integer(), nullable=True),
        sa.Column("active_day", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("made_by_event", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("marked_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reminder_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reminder_claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reminder_message_id", sa.Integer(), nullable=True),
        sa.Column("reminder_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.CheckConstraint("seat_no >= 1", name="ck_booking_seat"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("made_by_event", name="uq_booking_event"),
        sa.UniqueConstraint("oa_id", "counter_id", "slot_start", "seat_no", name="uq_booking_seat"),
        sa.UniqueConstraint("oa_id", "user_id", "active_day", name="uq_booking_resident_day"),
    )
    op.create_index("ix_bookings_slot", "bookings", ["oa_id", "slot_start"], unique=False)
    op.create_index("ix_bookings_status", "bookings", ["status"], unique=False)
    op.create_index("ix_bookings_user_id", "bookings", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_bookings_user_id", table_name="bookings")
    op.drop_index("ix_bookings_status", table_name="bookings")
    op.drop_index("ix_bookings_slot", table_name="bookings")
    op.drop_table("bookings")
    op.drop_table("booking_drafts")
    op.drop_table("booking_closures")
