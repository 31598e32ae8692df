"""The few fields of Zalo's webhook events the bot relies on (reference §1.3-1.4).

Events are validated loosely: unknown event names and extra fields are expected, and the
payload is kept whole for whoever handles it later. The fields that are stored on their own
(ids, the event name) and the timestamp are validated strictly: an absurd one refuses that
event alone (400), before it could fail a database write shared with other events.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from app.messages import InboundMessage, MessageKind
from app.text import clean_json

MAX_DEPTH = 32
"""Zalo's events nest four or five levels deep; a deeper body is refused before it is parsed
(a few thousand nested brackets would exhaust the parser's recursion)."""

_ID = re.compile(r"[\x21-\x7e]{1,128}")
"""Zalo's ids (user, OA, message) are short printable ASCII: digits, hex."""
_EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_TIMESTAMP_MS = re.compile(r"[0-9]{1,15}")
"""Epoch milliseconds: 13 digits today; 15 allow any date the service will ever see."""
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


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
    message: InboundMessage
    """The event translated, once (`inbound_message`)."""


def _is_oa_to_user(name: str) -> bool:
    return name.startswith("oa_")


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON in `raw` nests deeper than `limit`, found without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # cannot be deeper: the common case, two scans of the bytes
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b'""', raw)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def parse_event(raw: bytes) -> RawEvent | None:
    """The raw body parsed and validated in one pass, or None if it is not a valid event.

    The webhook's fast path; on None it parses the body step by step to say what is wrong."""
    try:
        return RawEvent.model_validate_json(raw)
    except ValidationError:
        return None


def load_event(raw: bytes) -> tuple[RawEvent, str]:
    """The step-by-step parse of a signed body `parse_event` refused: the event and the payload
    to store, with invalid code points (a lone surrogate, NUL) replaced in every string.

    Raises MalformedEvent saying what is wrong."""
    if too_deep(raw):
        raise MalformedEvent(f"nested deeper than {MAX_DEPTH} levels")
    try:
        payload: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedEvent("body is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedEvent("body is not a JSON object")
    payload = clean_json(payload)
    try:
        event = RawEvent.model_validate(payload)
    except ValidationError as exc:
        raise MalformedEvent(str(exc.errors()[0]["msg"])) from exc
    return event, json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _checked_id(value: str | None, what: str) -> str | None:
    if value is not None and not _ID.fullmatch(value):
        raise MalformedEvent(f"{what} is not a Zalo id")
    return value


def envelope(payload: dict[str, Any] | RawEvent) -> EventEnvelope:
    """Find the OA, the resident and a de-duplication key in any event shape."""
    try:
        event = payload if isinstance(payload, RawEvent) else RawEvent.model_validate(payload)
    except ValidationError as exc:
        raise MalformedEvent(str(exc.errors()[0]["msg"])) from exc
    if not _TIMESTAMP_MS.fullmatch(str(event.timestamp)):
        raise MalformedEvent("timestamp is not epoch milliseconds")
    timestamp_ms = int(event.timestamp)
    name = event.event_name
    if not _EVENT_NAME.fullmatch(name):
        raise MalformedEvent("event_name is not a Zalo event name")
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
    _checked_id(oa_id, "the OA id")
    _checked_id(user_id, "the user id")

    msg_id = _checked_id((event.message.msg_id or None) if event.message else None, "msg_id")
    if msg_id:
        key = f"msg:{msg_id}"
    else:
        # Retries repeat the body, so its identifying fields make a stable key.
        basis = f"{name}|{oa_id}|{user_id}|{timestamp_ms}"
        key = "evt:" + hashlib.sha256(basis.encode()).hexdigest()[:32]
    return EventEnvelope(name, str(oa_id), user_id, key, timestamp_ms, inbound_message(event))


# --- the typed message: Zalo's JSON read once, here ------------------------------------------

_KINDS = {
    "user_send_text": MessageKind.text,
    "user_send_image": MessageKind.image,
    "user_send_gif": MessageKind.image,
    "user_send_location": MessageKind.location,
    "follow": MessageKind.follow,
    "unfollow": MessageKind.unfollow,
    "user_click_chatnow": MessageKind.chatnow,
}


def kind_of(event_name: str) -> MessageKind:
    if event_name in _KINDS:
        return _KINDS[event_name]
    if event_name.startswith("user_send_"):
        return MessageKind.media
    if event_name.startswith("oa_send_"):
        return MessageKind.echo
    return MessageKind.other


def inbound_message(event: RawEvent) -> InboundMessage:
    """What the bot reads of an event, as typed fields (app.messages)."""
    kind = kind_of(event.event_name)
    message = event.message
    extra: dict[str, Any] = (message.model_extra or {}) if message else {}
    coordinates = _coordinates(extra) if kind is MessageKind.location else None
    return InboundMessage(
        kind=kind,
        text=message.text if message else None,
        msg_id=(message.msg_id or None) if message else None,
        admin_id=(event.sender.admin_id or None) if event.sender else None,
        image_url=_image_url(extra) if kind is MessageKind.image else None,
        latitude=coordinates[0] if coordinates else None,
        longitude=coordinates[1] if coordinates else None,
    )


def stored_message(event_name: str, payload: str) -> InboundMessage:
    """The typed message of a stored payload: events recorded before the typed fields
    (migration 0016's back-fill). A payload that is no valid event gives only its kind."""
    try:
        raw: Any = json.loads(payload)
        return inbound_message(RawEvent.model_validate(clean_json(raw)))
    except (ValueError, RecursionError):  # ValidationError is a ValueError
        return InboundMessage(kind=kind_of(event_name))


def _attachments(message: dict[str, Any]) -> list[dict[str, Any]]:
    items = message.get("attachments")
    return [a for a in items if isinstance(a, dict)] if isinstance(items, list) else []


def _image_url(message: dict[str, Any]) -> str | None:
    for attachment in _attachments(message):
        inner = attachment.get("payload")
        if isinstance(inner, dict):
            url = inner.get("url") or inner.get("thumbnail")
            if isinstance(url, str) and url:
                return url
    return None


def _coordinates(message: dict[str, Any]) -> tuple[float, float] | None:
    """attachments[].payload.coordinates, or message.location (reference §1.4 lists both)."""
    places: list[Any] = []
    for attachment in _attachments(message):
        inner = attachment.get("payload")
        if isinstance(inner, dict):
            places.append(inner.get("coordinates"))
    location = message.get("location")
    places.append(location.get("coordinates", location) if isinstance(location, dict) else None)
    for place in places:
        if not isinstance(place, dict):
            continue
        raw_lat: Any = place.get("latitude", place.get("lat"))
        raw_lon: Any = place.get("longitude", place.get("long", place.get("lng")))
        try:
            latitude, longitude = float(raw_lat), float(raw_lon)  # Zalo sends strings
        except (TypeError, ValueError):
            continue
        if -90 <= latitude <= 90 and -180 <= longitude <= 180:
            return latitude, longitude
    return None
