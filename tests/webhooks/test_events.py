"""Finding the OA, the resident and a de-duplication key in each event shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from webhooks.events import MalformedEvent, envelope, parse_event

TEXT: dict[str, Any] = {
    "app_id": "1",
    "sender": {"id": "user-1"},
    "recipient": {"id": "oa-1"},
    "event_name": "user_send_text",
    "message": {"text": "xin chào", "msg_id": "m-1"},
    "timestamp": "1730000000000",
}
FOLLOW: dict[str, Any] = {
    "oa_id": "oa-1",
    "follower": {"id": "user-2"},
    "event_name": "follow",
    "source": "oa_profile",
    "app_id": "1",
    "timestamp": "1730000000000",
}


def test_user_message() -> None:
    event = envelope(TEXT)
    assert (event.oa_id, event.user_id, event.event_key) == ("oa-1", "user-1", "msg:m-1")
    assert event.timestamp_ms == 1730000000000


def test_follow_has_no_sender() -> None:
    event = envelope(FOLLOW)
    assert (event.oa_id, event.user_id) == ("oa-1", "user-2")
    assert event.event_key.startswith("evt:")
    assert envelope(dict(FOLLOW)).event_key == event.event_key
    assert envelope({**FOLLOW, "event_name": "unfollow"}).event_key != event.event_key


def test_echo_swaps_sender_and_recipient() -> None:
    echo = {
        **TEXT,
        "event_name": "oa_send_text",
        "sender": {"id": "oa-1", "admin_id": "admin-9"},
        "recipient": {"id": "user-1"},
    }
    event = envelope(echo)
    assert (event.oa_id, event.user_id) == ("oa-1", "user-1")


def test_flat_management_event() -> None:
    event = envelope(
        {"oa_id": "oa-1", "user_id": "u-3", "event_name": "user_click_chatnow", "timestamp": 5}
    )
    assert (event.oa_id, event.user_id) == ("oa-1", "u-3")


def test_unknown_event_is_still_an_event() -> None:
    event = envelope({"event_name": "change_template_status", "oa_id": "oa-1", "timestamp": "9"})
    assert event.user_id is None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"event_name": "user_send_text"},
        {**TEXT, "timestamp": "yesterday"},
        {"event_name": "user_send_text", "timestamp": "1", "sender": {"id": "u"}},
        {**TEXT, "event_name": 5},
    ],
)
def test_malformed(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        envelope(payload)


@pytest.mark.parametrize("payload", [TEXT, FOLLOW, {**TEXT, "timestamp": 1730000000000}])
def test_one_pass_parse_finds_the_same_envelope(payload: dict[str, Any]) -> None:
    raw = json.dumps(payload).encode()
    event = parse_event(raw)
    assert event is not None
    assert str(event.timestamp) == str(payload["timestamp"])  # the signed string is unchanged
    assert envelope(event) == envelope(payload)


@pytest.mark.parametrize(
    "raw", [b"[]", b"not json", b'{"timestamp": "1"}', b'{"event_name": "x", "sender": "u"}']
)
def test_one_pass_parse_leaves_bad_bodies_to_the_slow_path(raw: bytes) -> None:
    assert parse_event(raw) is None


@pytest.mark.parametrize(
    ("raw", "deep"),
    [
        (b'{"a":[{"b":[1]}]}', False),
        (b"[" * 33 + b"]" * 33, True),
        (b"[" * 32 + b"]" * 32, False),
        # Brackets inside strings are text, not nesting.
        (b'{"text":"' + b"[" * 500 + b'"}', False),
        (b'{"text":"\\"' + b"{" * 500 + b'"}', False),
        (b'{"a":' + b"{}," * 100 + b"1}", False),
    ],
)
def test_nesting_depth_is_found_without_parsing(raw: bytes, deep: bool) -> None:
    from webhooks.events import too_deep

    assert too_deep(raw) is deep


@pytest.mark.parametrize(
    "payload",
    [
        {**TEXT, "timestamp": "9" * 400},
        {**TEXT, "timestamp": "-5"},
        {**TEXT, "timestamp": "1_000"},
        {**TEXT, "sender": {"id": "u\ufffd"}},
        {**TEXT, "sender": {"id": "u 1"}},
        {**TEXT, "message": {"text": "x", "msg_id": "m" * 129}},
        {**TEXT, "event_name": "user send text"},
    ],
)
def test_absurd_fields_are_malformed(payload: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        envelope(payload)
