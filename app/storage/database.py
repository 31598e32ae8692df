"""The database behind small query functions; nothing here knows HTTP or Zalo's wire format."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, Insert, event, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, create_engine, select

from app.storage.tables import (
    Conversation,
    DeliveryOutcome,
    EventStatus,
    Follower,
    Heartbeat,
    InboundEvent,
    OutboundMessage,
    UnansweredQuestion,
    ZaloToken,
    utcnow,
)

EVENT_CLAIM_LEASE = timedelta(minutes=5)
"""How long a claimed inbound event belongs to the process that claimed it. Handling one takes
seconds (a few Zalo calls, each bounded by ZALO_TIMEOUT_SECONDS and a short retry), so a claim
this old was left by a process that crashed or was killed: it is released for another try.
Much shorter would risk releasing an event a slow but live process is still answering (a
second answer); much longer only delays the answer after a crash."""


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


SQLITE_BUSY_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the webhook write while the worker reads; the timeout absorbs short lock waits.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


PG_CONNECT_TIMEOUT_SECONDS = 5

WRITE_PROBE_TIMEOUT_SECONDS = 2.0
"""How long /readyz waits for its heartbeat write: a database locked longer is not ready."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Columns are `timestamp without time zone` holding UTC: make the session agree. A server
    # that does not answer fails a connection after a few seconds instead of libpq's forever.
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC", "connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
    )


class _UnitSession(Session):
    """The session shared by a `Database.unit()`: the query functions' commits only flush."""

    in_unit = True
    """False once its unit has ended: a task started inside the unit copied the context
    variable that still names this session, and must not write into a finished transaction."""

    def commit(self) -> None:
        self.flush()

    def commit_unit(self) -> None:
        super().commit()


_UNIT: ContextVar[_UnitSession | None] = ContextVar("wardbot_db_unit", default=None)
"""Per task (contextvars): a unit in one asyncio task is invisible to the others."""


@dataclass(frozen=True)
class NewEvent:
    """A webhook event to record (`Database.record_inbound_many`)."""

    oa_id: str
    event_key: str
    event_name: str
    user_id: str | None
    payload: str


class Database:
    """Owns the engine. Built by the composition root and closed by it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sqlite_path: str | None = None
        self._sqlite_file: tuple[int, int] | None = None
        """(st_dev, st_ino) of the SQLite file the engine opened first."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database and database != ":memory:":
            self._sqlite_path = os.path.abspath(database)
            event.listen(self.engine, "connect", self._remember_sqlite_file)

    def create_schema(self) -> None:
        """Bring the schema up to date by running the migrations (app.storage.migrate)."""
        from app.storage.migrate import upgrade

        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        try:
            with Session(self.engine) as session:
                session.exec(select(1)).one()
            return True
        except Exception:
            return False

    def _remember_sqlite_file(self, _dbapi_connection: Any, _record: Any) -> None:
        if self._sqlite_file is None and self._sqlite_path is not None:
            with contextlib.suppress(OSError):
                stat = os.stat(self._sqlite_path)
                self._sqlite_file = (stat.st_dev, stat.st_ino)

    def same_file(self) -> bool:
        """False when the SQLite file this process opened is no longer the one at its path
        (deleted or replaced under the running process: what it writes would be lost)."""
        if self._sqlite_path is None or self._sqlite_file is None:
            return True
        try:
            stat = os.stat(self._sqlite_path)
        except OSError:
            return False
        return (stat.st_dev, stat.st_ino) == self._sqlite_file

    def write_problem(self, timeout: float = WRITE_PROBE_TIMEOUT_SECONDS) -> str | None:
        """None when a small write (the heartbeat row) commits within `timeout` seconds; else
        why not: a lock held too long, a full disk, a file deleted under us."""
        if not self.same_file():
            return "database file deleted or replaced"
        now = utcnow()
        insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(Heartbeat)
            .values(name="readyz", at=now)
            .on_conflict_do_update(index_elements=["name"], set_={"at": now})
        )
        milliseconds = int(timeout * 1000)
        try:
            with self.engine.connect() as connection:
                sqlite = connection.dialect.name == "sqlite"
                if sqlite:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={milliseconds}")
                else:
                    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
                    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
                try:
                    connection.execute(statement)
                    connection.commit()
                finally:
                    if sqlite:
                        connection.rollback()
                        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        except Exception as exc:
            # The driver's own words ("database is locked", "database or disk is full"),
            # without the statement.
            return str(getattr(exc, "orig", None) or type(exc).__name__)[:200]
        return None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for one query function; inside `unit()`, the unit's shared session."""
        shared = _UNIT.get()
        if shared is not None and shared.in_unit:
            yield shared
            return
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def unit(self) -> Iterator[None]:
        """Run several query functions as one transaction: one commit, one flush to disk.

        Their own commits only flush, and the unit commits at the end; an exception rolls all
        of it back. Use it around synchronous code only: a transaction held across an `await`
        would keep other writers waiting (on SQLite, every writer of the database). Nested
        units join the outer one: an error caught inside the outer unit does not undo what
        the inner one wrote. A task started inside a unit writes on its own once it has ended.
        """
        shared = _UNIT.get()
        if shared is not None and shared.in_unit:
            yield
            return
        with _UnitSession(self.engine, expire_on_commit=False) as session:
            token = _UNIT.set(session)
            try:
                yield
            finally:
                session.in_unit = False
                _UNIT.reset(token)
            session.commit_unit()

    # Inbound events -----------------------------------------------------------------------

    def record_inbound(
        self, *, oa_id: str, event_key: str, event_name: str, user_id: str | None, payload: str
    ) -> int | None:
        """Store a webhook event; None when it was already recorded (a Zalo retry)."""
        event = NewEvent(oa_id, event_key, event_name, user_id, payload)
        return self.record_inbound_many([event])[0]

    def record_inbound_many(self, events: Sequence[NewEvent]) -> list[int | None]:
        """Store webhook events in one transaction: one commit (one flush to disk) for all.

        Each gets its id, or None when it was already recorded (a Zalo retry, also one earlier
        in `events`). A plain INSERT .. ON CONFLICT DO NOTHING, without the ORM: this is the
        webhook's hot path (app.storage.inbound batches concurrent webhooks into one call).
        """
        if not events:
            return []
        rows = [
            {
                "oa_id": event.oa_id,
                "event_key": event.event_key,
                "event_name": event.event_name,
                "user_id": event.user_id,
                "payload": event.payload,
            }
            for event in events
        ]
        with self.engine.connect() as connection:
            result = connection.execute(self._insert_inbound, rows)
            inserted = {(oa_id, key): id_ for id_, oa_id, key in result}
            connection.commit()
        # Of two events with one key, the first was inserted and the second is a duplicate.
        return [inserted.pop((event.oa_id, event.event_key), None) for event in events]

    @cached_property
    def _insert_inbound(self) -> Insert:
        insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        return (
            insert(InboundEvent)
            .on_conflict_do_nothing(index_elements=["oa_id", "event_key"])
            .returning(col(InboundEvent.id), col(InboundEvent.oa_id), col(InboundEvent.event_key))
        )

    def record_claimed(self, event: NewEvent) -> InboundEvent:
        """Store an event already claimed by the caller, which answers it itself (the
        simulator): no worker polling the database can take it first."""
        row = InboundEvent(
            oa_id=event.oa_id,
            event_key=event.event_key,
            event_name=event.event_name,
            user_id=event.user_id,
            payload=event.payload,
            status=EventStatus.processing,
            claimed_at=utcnow(),
        )
        with self.session() as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return row

    def claim_event(self, event_id: int) -> InboundEvent | None:
        """Move an event from received to processing; None if someone else already has it."""
        with self.session() as session:
            claimed = session.scalars(
                update(InboundEvent)
                .where(col(InboundEvent.id) == event_id)
                .where(col(InboundEvent.status) == EventStatus.received)
                .values(status=EventStatus.processing, claimed_at=utcnow())
                .returning(InboundEvent)
            ).one_or_none()
            session.commit()
            return claimed

    def finish_event(self, event_id: int, status: EventStatus, error: str | None = None) -> None:
        with self.session() as session:
            session.execute(
                update(InboundEvent)
                .where(col(InboundEvent.id) == event_id)
                .values(status=status, error=error, handled_at=utcnow())
            )
            session.commit()

    def received_event_ids(self, limit: int) -> list[int]:
        """Events recorded but not claimed yet, oldest first."""
        with self.session() as session:
            ids = session.exec(
                select(InboundEvent.id)
                .where(col(InboundEvent.status) == EventStatus.received)
                .order_by(col(InboundEvent.id))
                .limit(limit)
            ).all()
            return [i for i in ids if i is not None]

    def release_stale_events(
        self, now: datetime | None = None, lease: timedelta = EVENT_CLAIM_LEASE
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
        with self.session() as session:
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

    def event(self, event_id: int) -> InboundEvent | None:
        with self.session() as session:
            return session.get(InboundEvent, event_id)

    def events(self, oa_id: str | None = None) -> Sequence[InboundEvent]:
        with self.session() as session:
            query = select(InboundEvent).order_by(col(InboundEvent.id))
            if oa_id is not None:
                query = query.where(InboundEvent.oa_id == oa_id)
            return session.exec(query).all()

    # Outbound messages --------------------------------------------------------------------

    def outbound(self, user_id: str | None = None) -> Sequence[OutboundMessage]:
        with self.session() as session:
            query = select(OutboundMessage).order_by(col(OutboundMessage.id))
            if user_id is not None:
                query = query.where(OutboundMessage.user_id == user_id)
            return session.exec(query).all()

    # Followers ----------------------------------------------------------------------------

    def _follower(self, session: Session, oa_id: str, user_id: str) -> Follower:
        row = session.get(Follower, (oa_id, user_id))
        if row is None:
            row = Follower(oa_id=oa_id, user_id=user_id, following=False)
            session.add(row)
        return row

    def mark_followed(self, oa_id: str, user_id: str, at: datetime) -> None:
        with self.session() as session:
            row = self._follower(session, oa_id, user_id)
            row.following, row.followed_at, row.last_interaction_at = True, at, at
            session.commit()

    def mark_unfollowed(self, oa_id: str, user_id: str, at: datetime) -> None:
        with self.session() as session:
            row = self._follower(session, oa_id, user_id)
            row.following, row.unfollowed_at = False, at
            session.commit()

    def touch_interaction(self, oa_id: str, user_id: str, at: datetime) -> None:
        """Record that the resident wrote: it opens Zalo's 7-day consultation window."""
        with self.session() as session:
            row = session.get(Follower, (oa_id, user_id))
            if row is None:
                # Non-followers may message an OA too; they are residents we can answer.
                row = Follower(oa_id=oa_id, user_id=user_id, following=False)
                session.add(row)
            row.last_interaction_at = at
            session.commit()

    def follower(self, oa_id: str, user_id: str) -> Follower | None:
        with self.session() as session:
            return session.get(Follower, (oa_id, user_id))

    # Conversation state -------------------------------------------------------------------

    def load_conversation(self, oa_id: str, user_id: str) -> dict[str, Any]:
        with self.session() as session:
            row = session.get(Conversation, (oa_id, user_id))
            if row is None:
                return {}
            data: dict[str, Any] = json.loads(row.state)
            return data

    def save_conversation(self, oa_id: str, user_id: str, state: dict[str, Any]) -> None:
        with self.session() as session:
            row = session.get(Conversation, (oa_id, user_id))
            if row is None:
                row = Conversation(oa_id=oa_id, user_id=user_id)
                session.add(row)
            row.state = json.dumps(state, ensure_ascii=False)
            row.updated_at = utcnow()
            session.commit()

    # Tokens -------------------------------------------------------------------------------

    def load_token(self, oa_id: str) -> ZaloToken | None:
        with self.session() as session:
            return session.get(ZaloToken, oa_id)

    def save_token(
        self, oa_id: str, access_token: str, refresh_token: str, expires_at: datetime | None
    ) -> None:
        with self.session() as session:
            row = session.get(ZaloToken, oa_id)
            if row is None:
                row = ZaloToken(oa_id=oa_id, access_token="", refresh_token="")
                session.add(row)
            row.access_token, row.refresh_token = access_token, refresh_token
            row.expires_at, row.updated_at = expires_at, utcnow()
            session.commit()

    # Unanswered questions -----------------------------------------------------------------

    def record_unanswered(
        self, *, oa_id: str, user_id: str, text: str, kind: str, candidates: list[dict[str, Any]]
    ) -> None:
        with self.session() as session:
            session.add(
                UnansweredQuestion(
                    oa_id=oa_id,
                    user_id=user_id,
                    text=text,
                    kind=kind,
                    candidates=json.dumps(candidates, ensure_ascii=False),
                )
            )
            session.commit()

    def unanswered(self, since: datetime | None = None) -> Sequence[UnansweredQuestion]:
        with self.session() as session:
            query = select(UnansweredQuestion).order_by(col(UnansweredQuestion.id))
            if since is not None:
                query = query.where(col(UnansweredQuestion.created_at) >= since)
            return session.exec(query).all()


__all__ = ["Database", "DeliveryOutcome", "EventStatus", "as_utc"]
