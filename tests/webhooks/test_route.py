"""POST /webhooks/zalo end to end: signature, de-duplication, bad input, every event kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from app.storage.events import list_events
from app.storage.followers import get_follower
from app.storage.outbox import messages_to
from app.storage.tables import DeliveryOutcome, EventStatus
from app.storage.tokens import load_token
from tests.conftest import RunningApp
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import OA_ID, echo_event, encode, follow_event, text_event
from webhooks.signature import SIGNATURE_HEADER

pytestmark = pytest.mark.anyio


async def test_question_gets_the_procedure_card(running: RunningApp, fake_zalo: FakeZalo) -> None:
    response = await running.webhook.post(text_event("u1", "thủ tục làm giấy khai sinh cho con"))
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    await running.settle()

    texts = "\n".join(fake_zalo.sent_texts("u1"))
    assert "1.001193" in texts
    assert "dichvucong.gov.vn" in texts
    [event] = list_events(running.services.db)
    assert event.status == EventStatus.done
    assert (event.oa_id, event.user_id) == (OA_ID, "u1")
    outbound = messages_to(running.services.db, "u1")
    assert outbound and all(m.outcome == DeliveryOutcome.sent for m in outbound)


async def test_zalo_retry_is_answered_once(running: RunningApp, fake_zalo: FakeZalo) -> None:
    event = text_event("u1", "xac nhan doc than", msg_id="same-msg")
    first = await running.webhook.post(event)
    second = await running.webhook.post(event)
    await running.settle()
    third = await running.webhook.post(event)
    await running.settle()

    assert [r.json()["status"] for r in (first, second, third)] == [
        "accepted",
        "duplicate",
        "duplicate",
    ]
    assert len(list_events(running.services.db)) == 1
    [reply] = messages_to(running.services.db, "u1")
    # One reply; a long one goes out in several parts, each sent exactly once.
    sent_ids = [m.message_id for m in fake_zalo.sent_messages]
    assert reply.zalo_message_ids.split(",") == sent_ids


@pytest.mark.parametrize(
    "signature",
    [None, "", "mac=" + "0" * 64, "not-hex-at-all"],
)
async def test_bad_or_missing_signature_is_401(
    running: RunningApp, fake_zalo: FakeZalo, signature: str | None
) -> None:
    response = await running.webhook.post_raw(encode(text_event("u1", "khai sinh")), signature)
    assert response.status_code == 401
    await running.settle()
    assert list_events(running.services.db) == []
    assert fake_zalo.sent_messages == []


async def test_signature_covers_the_raw_bytes(running: RunningApp) -> None:
    """A body re-serialised after signing (spaces added) must not verify."""
    payload = text_event("u1", "khai sinh")
    signed = await running.webhook.post(payload)
    assert signed.status_code == 200
    from tests.support.webhook import APP_ID, OA_SECRET
    from webhooks.signature import signature_header

    body = encode(payload)
    header = signature_header(APP_ID, body, payload["timestamp"], OA_SECRET)
    reformatted = json.dumps(payload, ensure_ascii=True).encode()
    response = await running.webhook.post_raw(reformatted, header)
    assert response.status_code == 401


MALFORMED = [b"{not json", b"\xff\xfe\x00", b"[1, 2, 3]", b'"just a string"']


@pytest.mark.parametrize("body", MALFORMED)
async def test_unsigned_malformed_bodies_are_401_before_any_parsing(
    running: RunningApp, body: bytes
) -> None:
    response = await running.webhook.post_raw(body, "mac=" + "a" * 64)
    assert response.status_code == 401
    assert list_events(running.services.db) == []


@pytest.mark.parametrize("body", MALFORMED)
async def test_signed_malformed_bodies_are_400(running: RunningApp, body: bytes) -> None:
    from tests.support.webhook import APP_ID, OA_SECRET
    from webhooks.signature import signature_header

    # No "timestamp" key in the body: the signature covers an empty timestamp.
    response = await running.webhook.post_raw(body, signature_header(APP_ID, body, "", OA_SECRET))
    assert response.status_code == 400
    assert list_events(running.services.db) == []


async def test_signed_but_not_an_event_is_400(running: RunningApp) -> None:
    response = await running.webhook.post({"timestamp": "1", "hello": "world"})
    assert response.status_code == 400
    response = await running.webhook.post({"event_name": "user_send_text", "timestamp": "1"})
    assert response.status_code == 400
    assert list_events(running.services.db) == []


async def test_huge_body_is_refused(running: RunningApp) -> None:
    payload = text_event("u1", "x" * 100_000)
    response = await running.webhook.post(payload)
    assert response.status_code == 413
    assert list_events(running.services.db) == []


async def test_huge_chunked_body_is_refused_without_reading_it_all(running: RunningApp) -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size is unknown
        nonlocal pulled
        for _ in range(40):
            pulled += 1
            yield b" " * 8192

    response = await running.client.post(
        "/webhooks/zalo", content=chunks(), headers={SIGNATURE_HEADER: "mac=00"}
    )
    assert response.status_code == 413
    assert pulled < 40  # stopped at the limit (64 KiB), not after 320 KiB
    assert list_events(running.services.db) == []


async def test_other_methods_are_not_allowed(running: RunningApp) -> None:
    response = await running.client.get("/webhooks/zalo")
    assert response.status_code == 405


async def test_long_but_acceptable_message_is_answered(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    payload = text_event("u1", "cho tôi hỏi thủ tục đăng ký kết hôn " + "ạ " * 5000)
    response = await running.webhook.post(payload)
    assert response.status_code == 200
    await running.settle()
    assert fake_zalo.sent_texts("u1")


async def test_unknown_event_is_recorded_and_ignored(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    payload = {
        "event_name": "user_reacted_message",
        "app_id": "1",
        "timestamp": "17",
        "sender": {"id": "u1"},
        "recipient": {"id": OA_ID},
        "message": {"msg_id": "react-1", "react_icon": "/-heart"},
    }
    response = await running.webhook.post(payload)
    assert response.status_code == 200
    await running.settle()
    [event] = list_events(running.services.db)
    assert event.status == EventStatus.ignored
    assert fake_zalo.sent_messages == []


async def test_follow_sends_a_welcome_and_unfollow_is_recorded(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    assert (await running.webhook.post(follow_event("u9"))).status_code == 200
    await running.settle()
    [welcome] = fake_zalo.sent_texts("u9")
    assert "thủ tục" in welcome
    follower = get_follower(running.services.db, OA_ID, "u9")
    assert follower is not None and follower.following

    await running.webhook.post(follow_event("u9", name="unfollow"))
    await running.settle()
    follower = get_follower(running.services.db, OA_ID, "u9")
    assert follower is not None and not follower.following
    assert len(fake_zalo.sent_messages) == 1


async def test_own_echo_is_ignored(running: RunningApp, fake_zalo: FakeZalo) -> None:
    await running.webhook.post(echo_event("u1", "Dạ, phường xin chào", admin_id=None))
    await running.settle()
    assert fake_zalo.sent_messages == []
    [event] = list_events(running.services.db)
    assert event.status == EventStatus.ignored


async def test_staff_reply_silences_the_bot(running: RunningApp, fake_zalo: FakeZalo) -> None:
    await running.webhook.post(echo_event("u1", "Chào anh, tôi là cán bộ", admin_id="admin-7"))
    await running.settle()
    await running.webhook.post(text_event("u1", "thủ tục khai sinh"))
    await running.settle()
    assert fake_zalo.sent_texts("u1") == []
    # Another resident is still answered.
    await running.webhook.post(text_event("u2", "thủ tục khai sinh"))
    await running.settle()
    assert fake_zalo.sent_texts("u2")


async def test_non_text_message_gets_a_polite_answer(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    payload = text_event("u1", "")
    payload["event_name"] = "user_send_sticker"
    payload["message"] = {"msg_id": "st-1", "attachments": [{"type": "sticker", "payload": {}}]}
    await running.webhook.post(payload)
    await running.settle()
    [reply] = fake_zalo.sent_texts("u1")
    assert "tin nhắn chữ" in reply


async def test_zalo_outage_is_recorded_not_lost(running: RunningApp, fake_zalo: FakeZalo) -> None:
    fake_zalo.fail_next_http(500, times=10)
    await running.webhook.post(text_event("u1", "chứng thực bản sao"))
    await running.settle()
    [message] = messages_to(running.services.db, "u1")
    assert message.outcome == DeliveryOutcome.held  # sent once Zalo is back (test_held_replies)
    assert message.reason
    assert "2.000815" in message.text  # what we meant to say is kept
    [event] = list_events(running.services.db)
    assert event.status == EventStatus.done


async def test_permanent_zalo_error_is_recorded_with_its_code(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    fake_zalo.queue_error("/v3.0/oa/message/cs", -230)
    await running.webhook.post(text_event("u1", "chứng thực bản sao"))
    await running.settle()
    [message] = messages_to(running.services.db, "u1")
    assert (message.outcome, message.error_code) == (DeliveryOutcome.failed, -230)


async def test_expired_token_is_refreshed_and_stored(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    fake_zalo.revoke_access_token()
    await running.webhook.post(text_event("u1", "đăng ký kết hôn"))
    await running.settle()
    assert fake_zalo.refresh_count == 1
    assert fake_zalo.sent_texts("u1")
    stored = load_token(running.services.db, "default")
    assert stored is not None
    assert stored.access_token == fake_zalo.valid_access_token
    assert stored.refresh_token == fake_zalo.valid_refresh_token
