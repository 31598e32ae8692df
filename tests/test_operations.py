"""Operating the service: /metrics and per-resident throttling, end to end with a fake Zalo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage.database import make_engine
from app.storage.events import list_events
from app.storage.outbox import message, messages_for_event
from app.storage.tables import EventStatus, OutboundPurpose
from app.throttle import SLOW_DOWN
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.fake_zalo import MESSAGE_CS_PATH, FakeZalo
from tests.support.webhook import text_event

pytestmark = pytest.mark.anyio


async def test_metrics_count_messages_matches_errors_and_latency(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    await running.webhook.post(text_event("u1", "xin chào"))
    await running.settle()
    fake_zalo.queue_error(MESSAGE_CS_PATH, -230)
    await running.webhook.post(text_event("u2", "xin chào"))
    await running.settle()
    response = await running.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'wardbot_messages_in_total{event="user_send_text"} 2.0' in text
    assert 'wardbot_messages_out_total{outcome="sent"}' in text
    assert 'wardbot_zalo_errors_total{code="-230"}' in text
    assert "wardbot_match_outcomes_total{kind=" in text
    assert "wardbot_webhook_seconds_count 2.0" in text
    assert 'wardbot_webhook_responses_total{status="200"} 2.0' in text
    assert "wardbot_zalo_token_ok 1.0" in text
    assert "wardbot_database_up 1.0" in text


@pytest.fixture
async def strict(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    settings = make_settings(tmp_path, fake_zalo, resident_messages_per_minute=3)
    async for app in start_app(settings):
        yield app


async def test_a_flooding_resident_gets_one_slow_down_then_silence(
    strict: RunningApp, fake_zalo: FakeZalo
) -> None:
    for i in range(8):
        await strict.webhook.post(text_event("flood", f"xin chào {i}"))
        await strict.settle()  # in order, as a resident types
    await strict.webhook.post(text_event("calm", "xin chào"))
    await strict.settle()

    flood = fake_zalo.sent_texts("flood")
    calm = fake_zalo.sent_texts("calm")
    assert calm, "another resident is not affected"
    assert flood.count(SLOW_DOWN.text) == 1
    assert flood[-1] == SLOW_DOWN.text
    assert len(flood) == 3 * len(calm) + 1  # three answered messages, then the slow-down
    # Every message is still recorded.
    events = [e for e in list_events(strict.services.db) if e.user_id == "flood"]
    assert len(events) == 8
    # Claimed once by the inbox, whose throttle step finished the five past the limit; the
    # "slow down" went through the outbox as the fourth message's answer.
    throttled = [e for e in events if e.error == "throttled"]
    assert [e.status for e in throttled] == [EventStatus.ignored] * 5
    assert [e.id for e in throttled] == [e.id for e in events[3:]]
    assert events[3].id is not None
    [slow_down] = messages_for_event(strict.services.db, events[3].id)
    recorded = message(strict.services.db, slow_down)
    assert recorded is not None and recorded.purpose is OutboundPurpose.slow_down
    metrics = (await strict.client.get("/metrics")).text
    assert "wardbot_throttled_messages_total 5.0" in metrics


async def test_readyz_and_metrics_while_the_database_is_down(
    running: RunningApp, tmp_path: Path
) -> None:
    db = running.services.db
    healthy = db.engine
    db.engine = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'wardbot.db'}")
    try:
        ready = await running.client.get("/readyz")
        metrics = await running.client.get("/metrics")
    finally:
        db.engine.dispose()
        db.engine = healthy
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["checks"] == {"database": False, "catalogue": True}
    # The process's own metrics still go out, and say the database did not answer.
    assert metrics.status_code == 200
    assert "wardbot_database_up 0.0" in metrics.text
    assert "wardbot_webhook_seconds_count" in metrics.text
    assert "wardbot_messages_in_total" not in metrics.text
    assert (await running.client.get("/readyz")).json()["status"] == "ready"


async def test_readyz_says_when_there_is_no_zalo_connection_to_check(
    running: RunningApp, tmp_path: Path
) -> None:
    real = (await running.client.get("/readyz")).json()
    assert "zalo" not in real and real["checks"]["zalo_token"] is True
    (tmp_path / "simulator").mkdir()
    async for simulator in start_app(make_settings(tmp_path / "simulator")):
        body = (await simulator.client.get("/readyz")).json()
        assert body["status"] == "ready"
        assert body["zalo"] == "simulator"
        assert "zalo_token" not in body["checks"]
