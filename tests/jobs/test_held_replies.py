"""Replies that could not go out while Zalo was down or our token was refused are held and
sent once the connection is back; operators see the failure in /readyz and the console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.jobs.token_refresh import TokenRefresher
from app.outbox.held import HeldReplies
from app.staff import Role
from app.storage.outbox import claim_part, messages_to, parts_of
from app.storage.tables import DeliveryOutcome
from app.storage.tokens import DatabaseTokenStore
from app.zalo.tokens import TokenPair
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import text_event
from tests.web.console_support import log_in, make_staff

pytestmark = pytest.mark.anyio

ATTEMPTS = 3
"""The Zalo client's tries per message (RetryPolicy's default): a failed send uses them all."""


def _outage(fake_zalo: FakeZalo, sends: int = 1) -> None:
    fake_zalo.fail_next_http(500, times=ATTEMPTS * sends)


def _held(running: RunningApp) -> HeldReplies:
    assert running.services.held_replies is not None
    return running.services.held_replies


def _break_the_token(running: RunningApp) -> None:
    """An expired access token whose refresh token Zalo no longer accepts (-118)."""
    expired = datetime.now(UTC) - timedelta(minutes=1)
    store = DatabaseTokenStore(running.services.db, running.services.settings.zalo_oa_id)
    store.save(TokenPair("access-old", "refresh-spent", expired))


async def test_reply_held_during_an_outage_goes_out_once_zalo_is_back(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    _outage(fake_zalo)
    await running.webhook.post(text_event("u1", "chứng thực bản sao"))
    await running.settle()
    assert fake_zalo.sent_texts("u1") == []

    counts = await _held(running).resend()

    assert (counts.sent, counts.still_held) == (1, 0)
    parts = fake_zalo.sent_texts("u1")  # a long answer goes out in several messages
    assert parts[0].startswith("Dạ, xin lỗi anh/chị vì phường trả lời chậm")
    assert "2.000815" in "".join(parts)  # the answer itself, as first written
    [row] = messages_to(running.services.db, "u1")
    assert row.outcome == DeliveryOutcome.sent and row.resent_at is not None
    assert len(row.zalo_message_ids.split(",")) == len(parts)
    # Nothing is sent twice.
    assert (await _held(running).resend()).sent == 0
    assert len(fake_zalo.sent_texts("u1")) == len(parts)


async def test_a_resend_during_the_outage_keeps_the_reply_held(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    _outage(fake_zalo, sends=2)
    await running.webhook.post(text_event("u1", "chứng thực bản sao"))
    await running.webhook.post(text_event("u2", "đăng ký kết hôn"))
    await running.settle()
    _outage(fake_zalo)

    counts = await _held(running).resend()

    # The first failure stops the round: the second reply is not even tried.
    assert (counts.sent, counts.still_held) == (0, 1)
    rows = [*messages_to(running.services.db, "u1"), *messages_to(running.services.db, "u2")]
    assert [r.outcome for r in rows] == [DeliveryOutcome.held, DeliveryOutcome.held]
    assert all(r.resent_at is None for r in rows)
    assert (await _held(running).resend()).sent == 2


async def test_a_recipient_refusal_on_resend_is_final_and_the_round_goes_on(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    _outage(fake_zalo, sends=2)
    await running.webhook.post(text_event("u1", "chứng thực bản sao"))
    await running.webhook.post(text_event("u2", "đăng ký kết hôn"))
    await running.settle()
    fake_zalo.queue_error("/v3.0/oa/message/cs", -230)

    counts = await _held(running).resend()

    assert (counts.sent, counts.failed) == (1, 1)
    [first] = messages_to(running.services.db, "u1")
    assert (first.outcome, first.error_code) == (DeliveryOutcome.failed, -230)
    assert fake_zalo.sent_texts("u2")


async def test_old_held_replies_are_dropped_not_sent(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    _outage(fake_zalo)
    await running.webhook.post(text_event("u1", "chứng thực bản sao"))
    await running.settle()
    services = running.services
    assert services.tokens is not None
    later = HeldReplies(
        services.inbox.outbox,
        services.settings.own_oa_id,
        clock=lambda: datetime.now(UTC) + timedelta(hours=49),
    )

    counts = await later.resend()

    assert (counts.sent, counts.expired) == (0, 1)
    [row] = messages_to(services.db, "u1")
    assert (row.outcome, row.reason) == (DeliveryOutcome.failed, "held_expired")
    assert fake_zalo.sent_texts("u1") == []


async def test_only_one_process_claims_a_held_part(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    _outage(fake_zalo)
    await running.webhook.post(text_event("u1", "chứng thực bản sao"))
    await running.settle()
    [row] = messages_to(running.services.db, "u1")
    assert row.id is not None
    [first, *_] = parts_of(running.services.db, row.id)
    now = datetime.now(UTC)
    before = now - timedelta(minutes=5)
    assert claim_part(running.services.db, first.id, now, "a", stale_before=before) is not None
    assert claim_part(running.services.db, first.id, now, "b", stale_before=before) is None
    # Claimed elsewhere: this process's round leaves the reply alone.
    assert (await _held(running).resend()).sent == 0
    assert fake_zalo.sent_texts("u1") == []


async def test_broken_token_holds_replies_shows_everywhere_and_recovers(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    services = running.services
    assert services.tokens is not None and services.held_replies is not None
    _break_the_token(running)
    refresher = TokenRefresher(services.tokens, when_healthy=services.held_replies.resend)
    await refresher.tick()  # the background check fails (-118)

    await running.webhook.post(text_event("u1", "chứng thực bản sao"))
    await running.settle()

    [row] = messages_to(services.db, "u1")
    assert row.outcome == DeliveryOutcome.held
    body = (await running.client.get("/readyz")).json()
    assert body["status"] == "degraded"
    assert body["zalo_token"]["error_code"] == -118
    assert body["held_replies"] == 1
    metrics = (await running.client.get("/metrics")).text
    assert "wardbot_zalo_token_ok 0.0" in metrics
    assert "wardbot_held_replies 1.0" in metrics
    make_staff(services.db, "canbo", Role.staff)
    await log_in(running.client, "canbo")
    page = (await running.client.get("/console")).text
    assert 'id="zalo-banner"' in page
    assert "Mất kết nối Zalo OA" in page and "mã lỗi -118" in page
    assert "1 tin trả lời đang chờ" in page

    # An admin reconnects the OA (a good pair is stored); the next round sends the reply.
    DatabaseTokenStore(services.db, services.settings.zalo_oa_id).save(fake_zalo.current_pair())
    await refresher.tick()

    assert "2.000815" in "".join(fake_zalo.sent_texts("u1"))
    assert (await running.client.get("/readyz")).json()["status"] == "ready"
    assert 'id="zalo-banner"' not in (await running.client.get("/console")).text


async def test_connection_state_is_shared_between_processes(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    """The process that failed the refresh and the one answering /readyz may differ."""
    settings = make_settings(tmp_path, fake_zalo)
    async for sender_process in start_app(settings):
        # The web process of a split deployment: it refreshes nothing itself.
        web_settings = settings.model_copy(update={"run_worker": False})
        async for web_process in start_app(web_settings):
            assert sender_process.services.tokens is not None
            _break_the_token(sender_process)
            await TokenRefresher(sender_process.services.tokens).check_once()
            body = (await web_process.client.get("/readyz")).json()
            assert web_process.services.tokens is not None
            assert web_process.services.tokens.health.ok  # its own view saw nothing
            assert body["status"] == "degraded"
            assert body["zalo_token"]["error_code"] == -118


async def test_app_secret_without_a_token_is_a_real_deployment_waiting_for_consent(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    settings = make_settings(tmp_path, fake_zalo, zalo_access_token="", zalo_refresh_token="")
    assert settings.simulator is False
    async for running in start_app(settings):
        await running.webhook.post(text_event("u1", "chứng thực bản sao"))
        await running.settle()
        [row] = messages_to(running.services.db, "u1")
        assert row.outcome == DeliveryOutcome.held
        body = (await running.client.get("/readyz")).json()
        assert body["status"] == "degraded"
        assert body["zalo_token"]["error"] == "no_token"
        assert fake_zalo.sent_texts() == []


def test_no_app_secret_and_no_token_is_the_simulator(tmp_path: Path) -> None:
    assert make_settings(tmp_path).simulator is True
    assert make_settings(tmp_path, zalo_app_secret="s", zalo_app_id="").simulator is True
