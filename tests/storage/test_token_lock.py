"""The token pair shared by several processes: one refresh at a time through the database lock.

Each "process" here is its own Database (own engine and connections) and TokenManager on the
same database file or PostgreSQL database, so only the store's lock keeps them apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.errors import ZaloAuthError
from app.storage.database import Database
from app.storage.tokens import DatabaseTokenStore
from app.zalo.tokens import TokenManager, TokenPair
from tests.conftest import make_settings
from tests.support.databases import postgres
from tests.support.fake_zalo import FakeZalo

pytestmark = pytest.mark.anyio

OA = "oa-1"


def _database(tmp_path: Path) -> tuple[Database, str]:
    url = make_settings(tmp_path).database_url
    db = Database(url)
    db.create_schema()
    return db, url


async def test_two_processes_refresh_an_expired_pair_once(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    first, url = _database(tmp_path)
    second = Database(url)
    pair = fake_zalo.current_pair()
    expired = TokenPair(pair.access_token, pair.refresh_token, datetime.now(UTC) - timedelta(1))
    DatabaseTokenStore(first, OA).save(expired)
    try:
        async with httpx.AsyncClient() as http:
            managers = [
                TokenManager(DatabaseTokenStore(db, OA), fake_zalo.oauth_client(http))
                for db in (first, second)
            ]
            tokens = await asyncio.gather(*(m.access_token() for m in managers))
        assert fake_zalo.refresh_count == 1
        assert tokens[0] == tokens[1] == fake_zalo.valid_access_token
        stored = DatabaseTokenStore(second, OA).load()
        assert stored is not None and stored.refresh_token == fake_zalo.valid_refresh_token
        assert all(m.health.ok for m in managers)
    finally:
        first.close()
        second.close()


async def test_rejected_token_across_processes_refreshes_once(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    first, url = _database(tmp_path)
    second = Database(url)
    DatabaseTokenStore(first, OA).save(fake_zalo.current_pair())
    seen = fake_zalo.valid_access_token
    assert seen is not None
    try:
        async with httpx.AsyncClient() as http:
            managers = [
                TokenManager(DatabaseTokenStore(db, OA), fake_zalo.oauth_client(http))
                for db in (first, second, second)
            ]
            tokens = await asyncio.gather(*(m.refresh_after_rejection(seen) for m in managers))
        assert fake_zalo.refresh_count == 1
        assert set(tokens) == {fake_zalo.valid_access_token}
    finally:
        first.close()
        second.close()


async def test_a_failed_refresh_is_reported_and_keeps_the_stored_pair(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    db, _ = _database(tmp_path)
    spent = TokenPair("access-old", "refresh-spent", datetime.now(UTC) - timedelta(1))
    DatabaseTokenStore(db, OA).save(spent)
    try:
        async with httpx.AsyncClient() as http:
            manager = TokenManager(DatabaseTokenStore(db, OA), fake_zalo.oauth_client(http))
            with pytest.raises(ZaloAuthError):
                await manager.access_token()
        assert not manager.health.ok
        assert manager.health.last_error_code == -118
        assert DatabaseTokenStore(db, OA).load() == spent
    finally:
        db.close()


@pytest.mark.skipif(postgres() is None, reason="the advisory lock is PostgreSQL's")
async def test_a_refresh_cancelled_while_waiting_for_the_lock_does_not_keep_it(
    tmp_path: Path,
) -> None:
    """Shutdown cancels the refresher; the thread waiting for the lock must not end up
    holding it (and an open connection) for good."""
    first, url = _database(tmp_path)
    second = Database(url)
    try:
        async with DatabaseTokenStore(first, OA).refresh_lock():
            waiting = asyncio.create_task(_hold(DatabaseTokenStore(second, OA)))
            await _until(lambda: second.engine.pool.checkedout() == 1)  # type: ignore[attr-defined]
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
        # The first lock is released: the thread gets it, and its connection is closed.
        await _until(lambda: second.engine.pool.checkedout() == 0)  # type: ignore[attr-defined]
        async with asyncio.timeout(30), DatabaseTokenStore(first, OA).refresh_lock():
            pass
    finally:
        first.close()
        second.close()


async def _hold(store: DatabaseTokenStore) -> None:
    async with store.refresh_lock():
        raise AssertionError("the lock was taken while another connection held it")


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1500):  # bounded: 30 s
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")
