"""The token pair shared by several processes: one refresh at a time through the database lock.

Each "process" here is its own Database (own engine and connections) and TokenManager on the
same database file or PostgreSQL database, so only the store's lock keeps them apart.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.errors import ZaloAuthError
from app.storage.database import Database
from app.storage.tokens import DatabaseTokenStore
from app.zalo.tokens import TokenManager, TokenPair
from tests.conftest import make_settings
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
