"""Inbound events: recording webhook deliveries (de-duplicated), claiming each for one worker,
finishing it, and releasing the claims of processes that died.

Every datetime is UTC; SQLite hands them back naive, so reads go through `as_utc`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Insert, func, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from app.messages import InboundMessage, MessageKind
from app.storage.database import Database
from app.storage.tables import EventStatus, InboundEvent, utcnow

EVENT_CLAIM_LEASE = timedelta(minutes=5)
"""How long a claimed inbound event belongs to the process that claimed it. Handling one takes
seconds (a few Zalo calls, each bounded by ZALO_TIMEOUT_SECONDS and a short retry), so a claim
this old was left by a process that crashed or was killed: it is released for another try.
Much shorter would risk releasing an event a slow but live process is still answering (a
second answer); much longer only delays the answer after a crash."""

RESIDENT_MESSAGES = ("user_send_text", "user_send_image", "user_send_location")
"""What the console's dashboard counts as residents' messages."""


@dataclass(frozen=True)
class NewEvent:
    """A webhook event to record (`record_events`)."""

    oa_id: str
    event_key: str
    event_name: str
    user_id: str | None
    payload: str
    """The raw body, kept for audit."""
    message: InboundMessage
    """What the bot reads of it, translated at the edge (webhooks.events)."""

    def row(self) -> dict[str, object]:
        """The columns of its inbound_events row."""
        message = self.message
        return {
            "oa_id": self.oa_id,
            "event_key": self.event_key,
            "event_name": self.event_name,
            "user_id": self.user_id,
            "payload": self.payload,
            "kind": message.kind.value,
            "text": message.text,
            "msg_id": message.msg_id,
            "admin_id": message.admin_id,
            "image_url": message.image_url,
            "latitude": message.latitude,
            "longitude": message.longitude,
        }


def message_of(event: InboundEvent) -> InboundMessage:
    """The typed message of a recorded event."""
    return InboundMessage(
        kind=MessageKind(event.kind),
        text=event.text,
        msg_id=event.msg_id,
        admin_id=event.admin_id,
        image_url=event.image_url,
        latitude=event.latitude,
        longitude=event.longitude,
    )


# --- recording ----------------------------------------------------------------------------


def record_event(db: Database, event: NewEvent) -> int | None:
    """Store a webhook event; None when it was already recorded (a Zalo retry)."""
    return record_events(db, [event])[0]


def record_events(db: Database, events: Sequence[NewEvent]) -> list[int | None]:
    """Store webhook events in one transaction: one commit (one flush to disk) for all.

    Each gets its id, or None when it was already recorded (a Zalo retry, also one earlier
    in `events`). A plain INSERT .. ON CONFLICT DO NOTHING, without the ORM: this is the
    webhook's hot path (app.storage.inbound batches concurrent webhooks into one call).
    """
    if not events:
        return []
    rows = [event.row() for event in events]
    with db.engine.connect() as connection:
        result = connection.execute(_insert_inbound(db.engine.dialect.name), rows)
        inserted = {(oa_id, key): id_ for id_, oa_id, key in result}
        connection.commit()
    # Of two events with one key, the first was inserted and the second is a duplicate.
    return [inserted.pop((event.oa_id, event.event_key), None) for event in events]


@cache
def _insert_inbound(dialect: str) -> Insert:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(InboundEvent)
        .on_conflict_do_nothing(index_elements=["oa_id", "event_key"])
        .returning(col(InboundEvent.id), col(InboundEvent.oa_id), col(InboundEvent.event_key))
    )


def record_claimed(db: Database, event: NewEvent) -> InboundEvent:
    """Store an event already claimed by the caller, which answers it itself (the
    simulator): no worker polling the database can take it first."""
    row = InboundEvent.model_validate(
        {**event.row(), "status": EventStatus.processing, "claimed_at": utcnow()}
    )
    with db.session() as session:
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


# --- claiming and finishing ---------------------------------------------------------------


def claim_event(db: Database, event_id: int) -> InboundEvent | None:
    """Move an event from received to processing; None if someone else already has it."""
    with db.session() as session:
        claimed = session.scalars(
            update(InboundEvent)
            .where(col(InboundEvent.id) == event_id)
            .where(col(InboundEvent.status) == EventStatus.received)
            .values(status=EventStatus.processing, claimed_at=utcnow())
            .returning(InboundEvent)
        ).one_or_none()
        session.commit()
        return claimed


def finish_event(
    db: Database, event_id: int, status: EventStatus, error: str | None = None
) -> None:
    with db.session() as session:
        session.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == event_id)
            .values(status=status, error=error, handled_at=utcnow())
        )
        session.commit()


def received_event_ids(db: Database, limit: int) -> list[int]:
    """Events recorded but not claimed yet, oldest first."""
    with db.session() as session:
        ids = session.exec(
            select(InboundEvent.id)
            .where(col(InboundEvent.status) == EventStatus.received)
            .order_by(col(InboundEvent.id))
            .limit(limit)
        ).all()
        return [i for i in ids if i is not None]


def release_stale_events(
    db: Database, now: datetime | None = None, lease: timedelta = EVENT_CLAIM_LEASE
) -> list[int]:
    """Events claimed longer than `lease` ago (a crashed process's) go back to received.

    A claim without a time (made before claims were timed) counts as stale. Returns the
    released ids. Claims younger than the lease are left alone: another live process may
    be answering them right now.
    """
    claimed_before = (now or utcnow()) - lease
    stale = (
        col(InboundEvent.status) == EventStatus.processing,
        or_(
            col(InboundEvent.claimed_at).is_(None),
            col(InboundEvent.claimed_at) < claimed_before,
        ),
    )
    with db.session() as session:
        # Look before writing: on SQLite an UPDATE takes the write lock even when it
        # matches nothing, and every process polls this every second or so.
        ids = [i for i in session.exec(select(InboundEvent.id).where(*stale)).all() if i]
        if not ids:
            return []
        released = (
            session.execute(
                update(InboundEvent)
                .where(col(InboundEvent.id).in_(ids))
                .where(*stale)
                .values(status=EventStatus.received, claimed_at=None)
                .returning(col(InboundEvent.id))
            )
            .scalars()
            .all()
        )
        session.commit()
        return sorted(released)


# --- reading ------------------------------------------------------------------------------


def get_event(db: Database, event_id: int) -> InboundEvent | None:
    with db.session() as session:
        return session.get(InboundEvent, event_id)


def list_events(db: Database, oa_id: str | None = None) -> Sequence[InboundEvent]:
    with db.session() as session:
        query = select(InboundEvent).order_by(col(InboundEvent.id))
        if oa_id is not None:
            query = query.where(InboundEvent.oa_id == oa_id)
        return session.exec(query).all()


def resident_messages_before(
    db: Database, oa_id: str, user_id: str, event_id: int, since: datetime
) -> int:
    """How many messages the resident sent since `since`, up to and including `event_id`.

    Counting by id makes every process agree on each message's place in the burst.
    """
    with db.session() as session:
        return session.exec(
            select(func.count())
            .select_from(InboundEvent)
            .where(InboundEvent.oa_id == oa_id)
            .where(InboundEvent.user_id == user_id)
            .where(col(InboundEvent.event_name).startswith("user_send_"))
            .where(col(InboundEvent.received_at) >= since)
            .where(col(InboundEvent.id) <= event_id)
        ).one()


def count_messages(db: Database, since: datetime, oa_ids: Collection[str] | None = None) -> int:
    """Messages residents sent since `since`, to the given OAs (None: every OA): the
    console's dashboard."""
    with db.session() as session:
        query = (
            select(func.count())
            .select_from(InboundEvent)
            .where(col(InboundEvent.event_name).in_(RESIDENT_MESSAGES))
            .where(col(InboundEvent.received_at) >= since)
        )
        if oa_ids is not None:
            query = query.where(col(InboundEvent.oa_id).in_(oa_ids))
        return int(session.exec(query).one())


def messages_per_oa(db: Database, since: datetime) -> dict[str, int]:
    """Messages residents sent since `since`, per OA: the province dashboard."""
    with db.session() as session:
        rows = session.exec(
            select(InboundEvent.oa_id, func.count())
            .where(col(InboundEvent.event_name).in_(RESIDENT_MESSAGES))
            .where(col(InboundEvent.received_at) >= since)
            .group_by(col(InboundEvent.oa_id))
        ).all()
        return {oa_id: int(n) for oa_id, n in rows}
