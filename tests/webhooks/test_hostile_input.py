"""Hostile input on the webhook: strangers never get a 500 (nor a traceback in the logs), an
absurd field refuses its event alone, and broken text is cleaned so the resident is answered."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.storage.events import NewEvent, get_event, list_events, record_event
from app.storage.tables import EventStatus
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import APP_ID, OA_SECRET, text_event
from webhooks.events import stored_message
from webhooks.signature import signature_header

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    """The replay window on, as in production: events carry the current time."""
    settings = make_settings(tmp_path, fake_zalo, webhook_max_age_minutes=180)
    async for running in start_app(settings):
        yield running


def _now_event(user_id: str, text: str, msg_id: str) -> dict[str, Any]:
    return {**text_event(user_id, text, msg_id), "timestamp": str(int(time.time() * 1000))}


def _ascii_body(payload: dict[str, Any]) -> bytes:
    """JSON with `\\uXXXX` escapes: how a lone surrogate reaches us (it has no UTF-8 form)."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


async def _post_signed(app: RunningApp, body: bytes, timestamp: str) -> int:
    response = await app.webhook.post_raw(
        body, signature_header(APP_ID, body, timestamp, OA_SECRET)
    )
    return response.status_code


def _assert_one_short_line(caplog: pytest.LogCaptureFixture, status: int) -> None:
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    rejected = [r for r in caplog.records if r.getMessage() == "webhook rejected"]
    assert [getattr(r, "status", None) for r in rejected] == [status]
    assert all(r.levelno < logging.ERROR for r in caplog.records)


# --- item 4: unauthenticated requests ----------------------------------------------------------


async def test_a_non_ascii_signature_byte_is_401_not_500(
    app: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps(_now_event("u1", "khai sinh", "m-1")).encode()
    headers = {"Content-Type": "application/json", "X-ZEvent-Signature": b"mac=\xff" + b"0" * 63}
    with caplog.at_level(logging.INFO):
        response = await app.client.post("/webhooks/zalo", content=body, headers=headers)
    assert response.status_code == 401
    _assert_one_short_line(caplog, 401)
    assert list_events(app.services.db) == []


async def test_deeply_nested_brackets_are_refused_before_any_parsing(
    app: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"[" * 3000 + b"]" * 3000
    with caplog.at_level(logging.INFO):
        response = await app.webhook.post_raw(body, "mac=" + "0" * 64)
    assert response.status_code == 401  # the signature is checked first, on the raw bytes
    _assert_one_short_line(caplog, 401)


async def test_signed_but_deeply_nested_is_400(
    app: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    """Even with the secret, the nesting is bounded: the parser never recurses 3,000 deep."""
    timestamp = str(int(time.time() * 1000))
    body = (
        f'{{"event_name":"user_send_text","timestamp":"{timestamp}","x":'.encode()
        + b"[" * 3000
        + b"]" * 3000
        + b"}"
    )
    with caplog.at_level(logging.INFO):
        assert await _post_signed(app, body, timestamp) == 400
    _assert_one_short_line(caplog, 400)


async def test_a_nested_timestamp_does_not_sign_the_event(app: RunningApp) -> None:
    """The signature must cover the event's own timestamp, not one inside its message."""
    payload = _now_event("u1", "khai sinh", "m-2")
    payload["message"]["extra"] = {"timestamp": "42"}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert await _post_signed(app, body, "42") == 401
    assert await _post_signed(app, body, payload["timestamp"]) == 200


# --- item 5: signed but absurd fields -----------------------------------------------------------


async def test_a_400_digit_timestamp_is_400(
    app: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    payload = {**text_event("u1", "khai sinh", "m-3"), "timestamp": "9" * 400}
    body = json.dumps(payload).encode()
    with caplog.at_level(logging.INFO):
        assert await _post_signed(app, body, "9" * 400) == 400
    _assert_one_short_line(caplog, 400)
    assert list_events(app.services.db) == []


@pytest.mark.parametrize(
    "field",
    [
        {"message": {"text": "khai sinh", "msg_id": "m\ud800"}},
        {"sender": {"id": "u\udfff"}},
        {"sender": {"id": "u" * 500}},
        {"message": {"text": "khai sinh", "msg_id": "m\x00"}},
    ],
)
async def test_a_bad_id_refuses_its_event_alone(app: RunningApp, field: dict[str, Any]) -> None:
    good = [_now_event(f"r{i}", "giờ làm việc", f"ok-{i}") for i in range(9)]
    bad = {**_now_event("r-bad", "giờ làm việc", "bad"), **field}
    events = [*good[:4], bad, *good[4:]]
    bodies = [_ascii_body(e) for e in events]
    statuses = await asyncio.gather(
        *(_post_signed(app, body, e["timestamp"]) for body, e in zip(bodies, events, strict=True))
    )
    assert statuses == [200] * 4 + [400] + [200] * 5
    await app.settle()
    assert sorted(e.event_key for e in list_events(app.services.db)) == sorted(
        f"msg:ok-{i}" for i in range(9)
    )


# --- item 3: a broken emoji ---------------------------------------------------------------------


@pytest.mark.parametrize("broken", ["\udfff", "\ud83d", "\x00"])
async def test_a_broken_emoji_is_cleaned_and_the_resident_answered(
    app: RunningApp, fake_zalo: FakeZalo, broken: str
) -> None:
    payload = _now_event("u1", f"đăng ký khai sinh {broken}", "emoji-1")
    assert await _post_signed(app, _ascii_body(payload), payload["timestamp"]) == 200
    await app.settle()

    [event] = list_events(app.services.db)
    assert event.status == EventStatus.done
    stored = json.loads(event.payload)
    assert stored["message"]["text"] == "đăng ký khai sinh \ufffd"
    assert fake_zalo.sent_texts("u1"), "the resident got no answer"
    assert "khai sinh" in "".join(fake_zalo.sent_texts("u1")).lower()


async def test_a_stored_payload_with_a_broken_emoji_is_still_answered(
    app: RunningApp, fake_zalo: FakeZalo
) -> None:
    """Events recorded before the edge cleaned them are cleaned when migration 0016 reads
    their typed message from the stored payload (`stored_message`)."""
    payload = _now_event("u2", "qwzx pmvb \udfff", "emoji-2")  # unanswered: text stored
    stored = _ascii_body(payload).decode()
    message = stored_message("user_send_text", stored)
    assert message.text == "qwzx pmvb \ufffd"
    event_id = record_event(
        app.services.db,
        NewEvent(
            oa_id=payload["recipient"]["id"],
            event_key="msg:emoji-2",
            event_name="user_send_text",
            user_id="u2",
            payload=stored,
            message=message,
        ),
    )
    assert event_id is not None
    await app.services.inbox.handle(event_id)
    event = get_event(app.services.db, event_id)
    assert event is not None and event.status == EventStatus.done
    assert fake_zalo.sent_texts("u2")
