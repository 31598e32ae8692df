"""The typed inbound message: the fields the bot reads, stored beside the raw payload

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 14:30:00

Zalo's event JSON is read once, at the webhook (webhooks.events.inbound_message); the worker,
reports and the outbox's echo search read these columns. Events recorded before are
back-filled from their stored payload with the webhook's own translation, so an event
received just before the upgrade is answered exactly as it would have been. The payload stays
(audit).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="other"
            )
        )
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("msg_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("admin_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("image_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
    _back_fill()
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)


def _back_fill() -> None:
    # Imported here: only the upgrade of a database that has events needs the translation.
    from webhooks.events import stored_message

    bind = op.get_bind()
    events = sa.table(
        "inbound_events",
        sa.column("id", sa.Integer()),
        sa.column("event_name", sa.String()),
        sa.column("payload", sa.Text()),
        sa.column("kind", sa.String()),
        sa.column("text", sa.Text()),
        sa.column("msg_id", sa.String()),
        sa.column("admin_id", sa.String()),
        sa.column("image_url", sa.Text()),
        sa.column("latitude", sa.Float()),
        sa.column("longitude", sa.Float()),
    )
    update = (
        events.update()
        .where(events.c.id == sa.bindparam("row_id"))
        .values(
            kind=sa.bindparam("kind"),
            text=sa.bindparam("text"),
            msg_id=sa.bindparam("msg_id"),
            admin_id=sa.bindparam("admin_id"),
            image_url=sa.bindparam("image_url"),
            latitude=sa.bindparam("latitude"),
            longitude=sa.bindparam("longitude"),
        )
    )
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(events.c.id, events.c.event_name, events.c.payload)
            .where(events.c.id > last_id)
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = []
        for row_id, event_name, payload in rows:
            message = stored_message(event_name, payload)
            values.append(
                {
                    "row_id": row_id,
                    "kind": message.kind.value,
                    "text": message.text,
                    "msg_id": message.msg_id,
                    "admin_id": message.admin_id,
                    "image_url": message.image_url,
                    "latitude": message.latitude,
                    "longitude": message.longitude,
                }
            )
        bind.execute(update, values)
        last_id = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
        batch_op.drop_column("image_url")
        batch_op.drop_column("admin_id")
        batch_op.drop_column("msg_id")
        batch_op.drop_column("text")
        batch_op.drop_column("kind")
