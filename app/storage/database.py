"""The database: its engine, sessions and units of work. The queries are small functions, one
module per area beside it (events, outbox, held, followers, conversations, questions, groups,
announcements, reports, staff, tokens, catalogue); the tables are in app.storage.tables.
Nothing here knows HTTP or Zalo's wire format."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine, select

from app.storage.tables import Heartbeat, utcnow


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
    engine = create_engine(
        url,
        connect_args={"options": "-c timezone=UTC", "connect_timeout": PG_CONNECT_TIMEOUT_SECONDS},
    )
    event.listen(engine, "checkout", _ping_if_idle(engine))
    event.listen(engine, "checkin", _remember_checkin)
    return engine


PING_AFTER_IDLE_SECONDS = 10.0
"""A pooled PostgreSQL connection idle longer than this is pinged before it is handed out,
and replaced if the server dropped it (a restart, a failover, an idle timeout); one used more
recently is trusted. Pinging on every checkout (`pool_pre_ping`) cost one round trip per
query function: a quarter of a worker's time in an announcement fan-out
(bench/bench_province.py). If the server goes away within these seconds, the next query
fails once and the pool starts again with new connections."""


def _remember_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    def ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in_at")
        if last is not None and time.monotonic() - last < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the database connection was lost") from exc
        if not alive:
            raise DisconnectionError("the database connection was lost")

    return ping


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


def rowcount(result: object) -> int:
    """The rows an UPDATE or INSERT matched: who won a guarded move."""
    count = getattr(result, "rowcount", 0)
    return count if isinstance(count, int) else 0


__all__ = ["Database", "as_utc", "make_engine", "rowcount"]
