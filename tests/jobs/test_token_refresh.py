"""The background token refresher and what /readyz says about the Zalo connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.jobs.token_refresh import TokenRefresher
from app.storage.tokens import DatabaseTokenStore
from app.zalo.tokens import TokenPair
from tests.conftest import RunningApp
from tests.support.fake_zalo import FakeZalo

pytestmark = pytest.mark.anyio


def _store(running: RunningApp) -> DatabaseTokenStore:
    return DatabaseTokenStore(running.services.db, running.services.settings.zalo_oa_id)


async def test_refreshes_ahead_of_expiry_and_stays_ready(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    pair = fake_zalo.current_pair()
    soon = datetime.now(UTC) + timedelta(minutes=2)
    _store(running).save(TokenPair(pair.access_token, pair.refresh_token, soon))
    assert running.services.tokens is not None
    await TokenRefresher(running.services.tokens).check_once()
    assert fake_zalo.refresh_count == 1
    stored = _store(running).load()
    assert stored is not None and stored.access_token == fake_zalo.valid_access_token
    response = await running.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert response.json()["checks"]["zalo_token"] is True


async def test_nothing_to_do_while_the_token_is_fresh(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    _store(running).save(fake_zalo.current_pair())
    assert running.services.tokens is not None
    await TokenRefresher(running.services.tokens).check_once()
    assert fake_zalo.refresh_count == 0


async def test_failed_refresh_degrades_readyz_and_logs_an_error(
    running: RunningApp, fake_zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    expired = datetime.now(UTC) - timedelta(minutes=1)
    _store(running).save(TokenPair("access-old", "refresh-spent", expired))
    assert running.services.tokens is not None
    await TokenRefresher(running.services.tokens).check_once()
    assert any(
        r.levelname == "ERROR" and "background_refresh.failed" in r.getMessage()
        for r in caplog.records
    )
    response = await running.client.get("/readyz")
    # Still in rotation (webhooks keep being recorded), but says what is wrong.
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["zalo_token"] is False
    assert body["zalo_token"]["error_code"] == -118


async def test_readyz_recovers_when_a_good_pair_is_stored(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    expired = datetime.now(UTC) - timedelta(minutes=1)
    _store(running).save(TokenPair("access-old", "refresh-spent", expired))
    assert running.services.tokens is not None
    refresher = TokenRefresher(running.services.tokens)
    await refresher.check_once()
    assert (await running.client.get("/readyz")).json()["status"] == "degraded"
    # Another process refreshed, or an admin reconnected the OA: the next check sees it.
    _store(running).save(fake_zalo.current_pair())
    await refresher.check_once()
    assert (await running.client.get("/readyz")).json()["status"] == "ready"
