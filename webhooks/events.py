"""The few fields of Zalo's webhook events the bot relies on (reference §1.3-1.4).

Events are validated loosely: unknown event names and extra fields are expected, and the
payload is kept whole for whoever handles it later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class _Party(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    admin_id: str | None = None


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    msg_id: str | None = None
    text: str | None = None


class RawEvent(BaseModel):
    """Every event has an event_name and a timestamp; the rest depends on the event."""

    model_config = ConfigDict(extra="allow")
    event_name: str
    timestamp: str | int
    app_id: str | None = None
    oa_id: str | None = None
    sender: _Party | None = None
    recipient: _Party | None = None
    follower: _Party | None = None
    user_id: str | None = None
    message: _Message | None = None


class MalformedEvent(ValueError):
    """The body is JSON but not a Zalo event."""


@dataclass(frozen=True)
class EventEnvelope:
    """What the webhook needs to record an event before anyone handles it."""

    event_name: str
    oa_id: str
    user_id: str | None
    event_key: str
    timestamp_ms: int


def _is_oa_to_user(name: str) -> bool:
    return name.startswith("oa_")


def parse_event(raw: bytes) -> RawEvent | None:
    """The raw body parsed and validated in one pass, or None if it is not a valid event.

    The webhook's fast path; on None it parses the body step by step to say what is wrong."""
    try:
        return RawEvent.model_validate_json(raw)
    except ValidationError:
        return None


def envelope(payload: dict[str, Any] | RawEvent) -> EventEnvelope:
    """Find the OA, the resident and a de-duplication key in any event shape."""
    try:
        event = payload if isinstance(payload, RawEvent) else RawEvent.model_validate(payload)
    except ValidationError as exc:
        raise MalformedEvent(str(exc.errors()[0]["msg"])) from exc
    try:
        timestamp_ms = int(event.timestamp)
    except ValueError as exc:
        raise MalformedEvent("timestamp is not a number") from exc

    name = event.event_name
    sender = event.sender.id if event.sender else None
    recipient = event.recipient.id if event.recipient else None
    if _is_oa_to_user(name):
        oa_id, user_id = sender or event.oa_id, recipient
    elif event.follower is not None:  # follow / unfollow: no sender or recipient
        oa_id, user_id = event.oa_id, event.follower.id
    elif sender is not None:
        oa_id, user_id = recipient or event.oa_id, sender
    else:  # flat management events such as user_click_chatnow
        oa_id, user_id = event.oa_id or recipient, event.user_id
    if not oa_id:
        raise MalformedEvent("no OA id (recipient.id or oa_id)")

    msg_id = event.message.msg_id if event.message else None
    if msg_id:
        key = f"msg:{msg_id}"
    else:
        # Retries repeat the body, so its identifying fields make a stable key.
        basis = f"{name}|{oa_id}|{user_id}|{timestamp_ms}"
        key = "evt:" + hashlib.sha256(basis.encode()).hexdigest()[:32]
    return EventEnvelope(name, str(oa_id), user_id, key, timestamp_ms)
