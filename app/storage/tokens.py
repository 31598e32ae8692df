"""The Zalo token pair kept in the database, so a refreshed pair survives restarts, and the
lock that lets only one process at a time spend the single-use refresh token."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select, text, update

from app.storage.database import Database, as_utc
from app.storage.tables import ZaloToken, utcnow
from app.zalo.tokens import TokenPair, TokenStore

log = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 60
"""Longer than a refresh can take (HTTP timeout plus retries), short enough to surface a hang."""


def load_token(db: Database, oa_id: str) -> ZaloToken | None:
    with db.session() as session:
        return session.get(ZaloToken, oa_id)


def save_token(
    db: Database, oa_id: str, access_token: str, refresh_token: str, expires_at: datetime | None
) -> None:
    with db.session() as session:
        row = session.get(ZaloToken, oa_id)
        if row is None:
            row = ZaloToken(oa_id=oa_id, access_token="", refresh_token="")
            session.add(row)
        row.access_token, row.refresh_token = access_token, refresh_token
        row.expires_at, row.updated_at = expires_at, utcnow()
        session.commit()


class DatabaseTokenStore:
    """Implements app.zalo.tokens.LockingTokenStore for one OA.

    The refresh lock is `pg_advisory_xact_lock` on PostgreSQL (held by the transaction that
    re-reads and saves the pair, so the save commits as the lock is released) and an
    exclusive `flock` on a file next to the database on SQLite. The flock rather than
    `BEGIN IMMEDIATE` keeps SQLite's single write lock free during the HTTP call, so
    webhooks are still recorded while a refresh is slow; SQLite is shared by processes on
    one host only, which is what a file lock covers.
    """

    def __init__(self, db: Database, oa_id: str) -> None:
        self._db = db
        self._oa_id = oa_id

    def load(self) -> TokenPair | None:
        row = load_token(self._db, self._oa_id)
        if row is None:
            return None
        return TokenPair(row.access_token, row.refresh_token, as_utc(row.expires_at))

    def save(self, pair: TokenPair) -> None:
        save_token(self._db, self._oa_id, pair.access_token, pair.refresh_token, pair.expires_at)

    @asynccontextmanager
    async def refresh_lock(self) -> AsyncIterator[TokenStore]:
        dialect = self._db.engine.dialect.name
        if dialect == "postgresql":
            async with self._advisory_lock() as store:
                yield store
        elif dialect == "sqlite" and self._db.engine.url.database not in (None, "", ":memory:"):
            path = Path(f"{self._db.engine.url.database}.token-lock")
            async with _file_lock(path):
                yield self
        else:
            yield self

    @asynccontextmanager
    async def _advisory_lock(self) -> AsyncIterator[TokenStore]:
        # Waiting for the lock blocks, so it happens in a thread; the connection then stays
        # in this task until the transaction commits (save) or rolls back (error).
        locking = asyncio.ensure_future(asyncio.to_thread(self._locked_connection))
        try:
            connection = await asyncio.shield(locking)
        except asyncio.CancelledError:
            # Cancelled (e.g. at shutdown) while the thread waits: it still returns a
            # connection holding the lock, which nobody else would close.
            locking.add_done_callback(_close_connection)
            raise
        try:
            yield _ConnectionTokenStore(connection, self._oa_id)
            connection.commit()
        finally:
            connection.close()  # rolls back if not committed, which releases the lock

    def _locked_connection(self) -> Connection:
        connection = self._db.engine.connect()
        try:
            connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'"))
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(self._oa_id)}
            )
        except BaseException:
            connection.close()
            raise
        return connection


def _close_connection(locking: asyncio.Future[Connection]) -> None:
    if not locking.cancelled() and locking.exception() is None:
        connection = locking.result()
        # Closed for real, not returned to the pool: the database may have been closed
        # meanwhile (shutdown), and ending the session releases the lock.
        connection.invalidate()
        connection.close()


def _lock_key(oa_id: str) -> int:
    # A stable 31-bit key per OA, offset so it cannot collide with the migration lock.
    return 0x10000000 + zlib.crc32(f"zalo_token:{oa_id}".encode()) % 0x40000000


class _ConnectionTokenStore:
    """The store seen inside the PostgreSQL lock: reads and writes in the locked transaction."""

    def __init__(self, connection: Connection, oa_id: str) -> None:
        self._connection = connection
        self._oa_id = oa_id

    def load(self) -> TokenPair | None:
        row = self._connection.execute(
            select(ZaloToken.access_token, ZaloToken.refresh_token, ZaloToken.expires_at).where(  # type: ignore[call-overload]
                ZaloToken.oa_id == self._oa_id
            )
        ).one_or_none()
        if row is None:
            return None
        return TokenPair(row.access_token, row.refresh_token, as_utc(row.expires_at))

    def save(self, pair: TokenPair) -> None:
        values = {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_at": pair.expires_at,
            "updated_at": utcnow(),
        }
        result = self._connection.execute(
            update(ZaloToken).where(ZaloToken.oa_id == self._oa_id).values(**values)  # type: ignore[arg-type]
        )
        if result.rowcount == 0:
            self._connection.execute(insert(ZaloToken).values(oa_id=self._oa_id, **values))


@asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
