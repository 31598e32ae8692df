"""Shared fixtures: settings on a fresh database (SQLite, or PostgreSQL when
WARDBOT_TEST_DATABASE_URL is set), and the running app with a fake Zalo."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.services import Services, services_of
from tests.support.databases import database_url, drop_test_databases
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import APP_ID, OA_SECRET, WebhookSender

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _test_databases() -> Iterator[None]:
    """PostgreSQL test databases (WARDBOT_TEST_DATABASE_URL) are dropped after the run."""
    yield
    drop_test_databases()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


API_TOKEN = "test-api-token-0123456789"
"""The bearer token of the admin and staff API in tests (long enough for production mode)."""


def make_settings(tmp_path: Path, fake: FakeZalo | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url(tmp_path),
        "procedures_path": ROOT / "procedures.yaml",
        "intents_path": ROOT / "intents",
        "zalo_oa_secret_key": OA_SECRET,
        "zalo_app_id": APP_ID,
        "api_token": API_TOKEN,
        # The shared events carry fixed (2024) timestamps; tests/webhooks/test_replay.py
        # turns the replay window on.
        "webhook_max_age_minutes": 0,
    }
    if fake is not None:
        pair = fake.current_pair()
        values.update(
            zalo_app_secret=fake.app_secret,
            zalo_access_token=pair.access_token,
            zalo_refresh_token=pair.refresh_token,
            zalo_api_base_url=fake.api_base_url,
            zalo_oauth_base_url=fake.oauth_base_url,
        )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def fake_zalo() -> Iterator[FakeZalo]:
    with FakeZalo(app_id=APP_ID) as fake:
        yield fake


@dataclass
class RunningApp:
    client: httpx.AsyncClient
    services: Services
    webhook: WebhookSender

    async def settle(self) -> None:
        """Wait until every queued webhook event has been handled."""
        await self.services.queue.join()


async def start_app(settings: Settings) -> AsyncIterator[RunningApp]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://wardbot.test") as client:
            yield RunningApp(client, services_of(app.state), WebhookSender(client))


@pytest.fixture
async def running(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    """The real app, talking to a fake Zalo over HTTP."""
    async for running_app in start_app(make_settings(tmp_path, fake_zalo)):
        yield running_app
