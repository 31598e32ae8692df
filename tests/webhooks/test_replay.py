"""The replay window on the webhook's signed timestamp."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage.events import list_events
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import text_event

pytestmark = pytest.mark.anyio

MINUTE_MS = 60_000


@pytest.fixture
async def app(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    settings = make_settings(
        tmp_path, fake_zalo, webhook_max_age_minutes=180, webhook_max_skew_minutes=15
    )
    async for running in start_app(settings):
        yield running


def _at(offset_minutes: float, msg_id: str) -> dict[str, object]:
    now_ms = int(time.time() * 1000)
    return {
        **text_event("u1", "xin chào", msg_id),
        "timestamp": str(now_ms + int(offset_minutes * MINUTE_MS)),
    }


@pytest.mark.parametrize(
    ("offset_minutes", "status"),
    [
        (0, "accepted"),
        (-115, "accepted"),  # Zalo's last retry, ~1 h 51 min after the first attempt
        (-10, "accepted"),
        (10, "accepted"),  # modest clock skew
        (-181, "stale"),
        (20, "stale"),
    ],
)
async def test_window(app: RunningApp, offset_minutes: float, status: str) -> None:
    response = await app.webhook.post(_at(offset_minutes, f"m-{offset_minutes}"))
    assert response.status_code == 200
    assert response.json()["status"] == status
    await app.settle()
    assert len(list_events(app.services.db)) == (1 if status == "accepted" else 0)


async def test_a_retry_inside_the_window_is_a_duplicate(app: RunningApp) -> None:
    event = _at(-30, "retried")
    assert (await app.webhook.post(event)).json()["status"] == "accepted"
    assert (await app.webhook.post(event)).json()["status"] == "duplicate"
