"""The Zalo connection's state as every process of a deployment sees it, and the replies held
while it was down (outcome `held` in outbound_messages)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, update
from sqlmodel import col, func, select

from app.dialogue.reply import Button, ButtonKind, Reply
from app.storage.database import Database
from app.storage.tables import DeliveryOutcome, OutboundMessage, ZaloConnection, utcnow


def record_connection(
    db: Database, oa_id: str, *, ok: bool, error_code: int | None = None, error: str | None = None
) -> None:
    """Store the latest state; `changed_at` moves only when the state itself changes."""
    with db.session() as session:
        row = session.get(ZaloConnection, oa_id)
        if row is None:
            row = ZaloConnection(oa_id=oa_id)
        elif (row.ok, row.error_code, row.error) == (ok, error_code, error):
            return
        row.ok, row.error_code, row.error, row.changed_at = ok, error_code, error, utcnow()
        session.add(row)
        session.commit()


def connection_status(db: Database, oa_id: str) -> ZaloConnection | None:
    """None until some process has talked to Zalo's OAuth or been connected."""
    with db.session() as session:
        return session.get(ZaloConnection, oa_id)


def _waiting(oa_id: str | None) -> list[ColumnElement[bool]]:
    conditions = [
        col(OutboundMessage.outcome) == DeliveryOutcome.held,
        col(OutboundMessage.resent_at).is_(None),
    ]
    if oa_id is not None:
        conditions.append(col(OutboundMessage.oa_id) == oa_id)
    return conditions


def held_replies(db: Database, oa_id: str | None, limit: int) -> Sequence[OutboundMessage]:
    """The oldest replies waiting for the connection, in the order they were written; for
    every OA when `oa_id` is None (ZALO_OA_ID unset: one OA per deployment)."""
    with db.session() as session:
        return session.exec(
            select(OutboundMessage)
            .where(*_waiting(oa_id))
            .order_by(col(OutboundMessage.id))
            .limit(limit)
        ).all()


def count_held(db: Database, oa_id: str | None) -> int:
    with db.session() as session:
        count = session.exec(select(func.count()).where(*_waiting(oa_id))).one()
        return int(count)


def claim_held(db: Database, message_id: int, now: datetime) -> bool:
    """Take one held reply for sending; False if another process took it first.

    The claim is `resent_at`: a process that dies between the claim and `finish_held` leaves
    the row held but claimed, so it is not sent twice (at most once, like the first try).
    """
    with db.session() as session:
        result = session.execute(
            update(OutboundMessage)
            .where(col(OutboundMessage.id) == message_id)
            .where(col(OutboundMessage.outcome) == DeliveryOutcome.held)
            .where(col(OutboundMessage.resent_at).is_(None))
            .values(resent_at=now)
        )
        session.commit()
        return getattr(result, "rowcount", 0) == 1


def finish_held(
    db: Database,
    message_id: int,
    outcome: DeliveryOutcome,
    *,
    zalo_message_ids: Sequence[str] = (),
    error_code: int | None = None,
    reason: str | None = None,
) -> None:
    """Record how the second try ended; `held` again puts the reply back in the queue."""
    values: dict[str, object] = {"outcome": outcome, "error_code": error_code, "reason": reason}
    if outcome is DeliveryOutcome.held:
        values["resent_at"] = None
    else:
        values["zalo_message_ids"] = ",".join(zalo_message_ids)
    with db.session() as session:
        session.execute(
            update(OutboundMessage).where(col(OutboundMessage.id) == message_id).values(**values)
        )
        session.commit()


def reply_of(row: OutboundMessage) -> Reply:
    """The reply as it was first written (text and buttons are stored with the row)."""
    buttons = tuple(
        Button(b["title"], ButtonKind(b["kind"]), b["payload"]) for b in json.loads(row.buttons)
    )
    return Reply(row.text, buttons)
