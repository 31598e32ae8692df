"""Held parts: the queries of the held-replies job (app.outbox.held).

A part is held when the Zalo connection was down as it was sent, or when nobody sends it any
more (its process died). The job sends them once the connection is back, oldest message
first; an apology may go in front of a reply nothing of which went out (position 0).
Announcements' parts are never held here: their delivery rows schedule the retries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from app.storage.database import Database, rowcount
from app.storage.outbox import NewPart, if_sending, move_unsent
from app.storage.tables import (
    DeliveryOutcome,
    OutboundMessage,
    OutboundPart,
    OutboundPurpose,
    PartStatus,
)


def _holdable() -> Any:
    # An announcement's delivery row schedules its retries; the held-replies job leaves it be.
    return col(OutboundMessage.purpose) != OutboundPurpose.announcement.value


def held_message_ids(db: Database, oa_id: str | None, limit: int) -> list[int]:
    """Messages with parts waiting for the connection, oldest first; every OA when None."""
    query = (
        select(OutboundPart.message_id)
        .join(OutboundMessage, col(OutboundMessage.id) == col(OutboundPart.message_id))
        .where(col(OutboundPart.status) == PartStatus.held)
        .where(_holdable())
        .group_by(col(OutboundPart.message_id))
        .order_by(col(OutboundPart.message_id))
        .limit(limit)
    )
    if oa_id is not None:
        query = query.where(col(OutboundMessage.oa_id) == oa_id)
    with db.session() as session:
        return list(session.exec(query).all())


def count_held(db: Database, oa_id: str | None) -> int:
    """Messages with parts waiting for the connection."""
    query = (
        select(func.count(func.distinct(col(OutboundPart.message_id))))
        .select_from(OutboundPart)
        .join(OutboundMessage, col(OutboundMessage.id) == col(OutboundPart.message_id))
        .where(col(OutboundPart.status) == PartStatus.held)
        .where(_holdable())
    )
    if oa_id is not None:
        query = query.where(col(OutboundMessage.oa_id) == oa_id)
    with db.session() as session:
        return int(session.exec(query).one())


def hold_stale(db: Database, stale_before: datetime, now: datetime) -> int:
    """Parts nobody is sending any more go to the held-replies job: claims older than the
    lease (a dead process's: uncertain, it may have sent them) and parts left pending that
    long (their process died before trying). Announcements are left to their worker."""
    holdable = col(OutboundPart.message_id).in_(
        select(OutboundMessage.id).where(_holdable()).scalar_subquery()
    )
    stale_claim = and_(
        col(OutboundPart.status) == PartStatus.sending,
        or_(col(OutboundPart.claimed_at).is_(None), col(OutboundPart.claimed_at) < stale_before),
    )
    left_pending = and_(
        col(OutboundPart.status) == PartStatus.pending,
        col(OutboundPart.updated_at) < stale_before,
    )
    with db.session() as session:
        # Look before writing: on SQLite an UPDATE takes the write lock even when it matches
        # nothing, and this runs every round.
        found = session.exec(
            select(OutboundPart.id).where(holdable).where(or_(stale_claim, left_pending))
        ).all()
        if not found:
            return 0
        result = session.execute(
            update(OutboundPart)
            .where(col(OutboundPart.id).in_(found))
            .where(or_(stale_claim, left_pending))
            .values(
                uncertain_since=func.coalesce(
                    OutboundPart.uncertain_since, if_sending(OutboundPart.claimed_at)
                ),
                status=PartStatus.held,
                claim_token=None,
                reason="stale",
                updated_at=now,
            )
        )
        messages = session.exec(
            select(OutboundPart.message_id).where(col(OutboundPart.id).in_(found)).distinct()
        ).all()
        session.execute(
            update(OutboundMessage)
            .where(col(OutboundMessage.id).in_(messages))
            .values(outcome=DeliveryOutcome.held)
        )
        session.commit()
        return rowcount(result)


def adopt_unsplit_held(
    db: Database, now: datetime, split: Callable[[str, str], Sequence[NewPart]]
) -> int:
    """Held messages recorded before the outbox (no parts) get their parts now: nothing of
    them went out, so this is their first and only split. `split(text, buttons)` gives them."""
    no_parts = ~exists().where(col(OutboundPart.message_id) == col(OutboundMessage.id))
    with db.session() as session:
        rows = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.outcome == DeliveryOutcome.held)
            .where(no_parts)
        ).all()
        for row in rows:
            assert row.id is not None
            for position, part in enumerate(split(row.text, row.buttons), start=1):
                session.add(
                    OutboundPart(
                        message_id=row.id,
                        position=position,
                        text=part.text,
                        buttons=part.buttons,
                        status=PartStatus.held,
                        updated_at=now,
                    )
                )
        session.commit()
        return len(rows)


def expire_held(db: Database, message_id: int, now: datetime, reason: str) -> int:
    return move_unsent(db, [message_id], now, PartStatus.failed, reason=reason)


def add_apology(db: Database, message_id: int, text: str, now: datetime) -> bool:
    """Put an apology (position 0) in front of the message's parts, held like them; once."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    with db.session() as session:
        result = session.execute(
            insert(OutboundPart)
            .values(
                message_id=message_id,
                position=0,
                text=text,
                buttons="[]",
                status=PartStatus.held,
                attempts=0,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["message_id", "position"])
        )
        session.commit()
        return rowcount(result) == 1
