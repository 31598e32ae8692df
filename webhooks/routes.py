"""POST /webhooks/zalo: verify the raw body, record the event, queue it, answer 200 at once.

The hottest and most time-bound endpoint (Zalo wants its 200 within 2 seconds), so it is a
plain ASGI app, not a FastAPI endpoint: `WebhookShortcut` serves it ahead of FastAPI's
routing, and it reads the body and writes the answer as ASGI messages itself. Request and
response objects, dependency injection and routing were a large share of its cost
(bench/bench_webhook.py), and it needs none of them: its input is the raw body and one header.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import ClientDisconnect
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.services import Services, services_of
from webhooks.events import EventEnvelope, MalformedEvent, envelope, load_event, parse_event
from webhooks.signature import SIGNATURE_HEADER, signed_timestamp

log = logging.getLogger(__name__)
router = APIRouter()

WEBHOOK_PATH = "/webhooks/zalo"
MAX_BODY_BYTES = 64 * 1024
"""Zalo events are small; anything bigger is not Zalo."""

_SIGNATURE_HEADER = SIGNATURE_HEADER.lower().encode("latin-1")
_JSON_HEADERS = [(b"content-type", b"application/json")]
_NUL_ESCAPE = b"\\u0000"

Answer = tuple[int, bytes]


def _json(status: int, content: dict[str, str]) -> Answer:
    return status, json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


# The answers of the hot path, encoded once.
ACCEPTED = _json(200, {"status": "accepted"})
DUPLICATE = _json(200, {"status": "duplicate"})
STALE = _json(200, {"status": "stale"})


def _reject(status: int, error: str) -> Answer:
    log.warning("webhook rejected", extra={"status": status, "reason": error})
    return _json(status, {"error": error})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _read_limited(scope: Scope, receive: Receive) -> bytes | None:
    """The raw body, or None past MAX_BODY_BYTES (without reading the rest into memory)."""
    declared = _header(scope, b"content-length") or ""
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _outside_replay_window(timestamp_ms: int, settings: Settings) -> bool:
    if settings.webhook_max_age_minutes == 0:
        return False
    age_ms = time.time() * 1000 - timestamp_ms
    return (
        age_ms > settings.webhook_max_age_minutes * 60_000
        or -age_ms > settings.webhook_max_skew_minutes * 60_000
    )


@dataclass(frozen=True)
class _Accepted:
    event: EventEnvelope
    payload: str
    """What is stored: the raw body, or its cleaned re-serialisation (see `load_event`)."""


def _accept(raw: bytes, signature: str, settings: Settings) -> _Accepted | Answer:
    """The verified event's envelope and the payload to store, or the answer refusing it.

    The signature is checked on the raw bytes first: nothing an unauthenticated sender
    writes reaches a JSON parser."""
    timestamp = signed_timestamp(
        raw,
        signature,
        app_id=settings.zalo_app_id,
        oa_secret_key=settings.zalo_oa_secret_key.get_secret_value(),
    )
    if timestamp is None:
        return _reject(401, "bad signature")
    # Fast path: a valid event parsed and validated in one pass (pydantic refuses a lone
    # surrogate; NUL, which PostgreSQL cannot store, is looked for). Anything else is parsed
    # step by step, with invalid code points replaced, or refused with the reason.
    event = parse_event(raw) if _NUL_ESCAPE not in raw else None
    try:
        if event is None:
            event, payload = load_event(raw)
        else:
            payload = raw.decode("utf-8")
        if str(event.timestamp) != timestamp:
            # The signature verified with a nested "timestamp", not the event's own.
            return _reject(401, "bad signature")
        return _Accepted(envelope(event), payload)
    except MalformedEvent as exc:
        return _reject(400, f"not a Zalo event: {exc}")


async def answer_webhook(services: Services, signature: str | None, raw: bytes | None) -> Answer:
    """What to answer Zalo for one request: its status and JSON body."""
    if not signature:
        return _reject(401, "missing signature")
    if raw is None:
        return _reject(413, "body too large")
    settings = services.settings
    accepted = _accept(raw, signature, settings)
    if isinstance(accepted, tuple):
        return accepted
    event = accepted.event
    if _outside_replay_window(event.timestamp_ms, settings):
        # Answered 200 so Zalo does not count it as a failed delivery (repeated failures
        # disable the webhook); the event is neither recorded nor handled.
        log.warning("webhook stale", extra={"event": event.event_name})
        return STALE

    event_id = await services.intake.accept(
        oa_id=event.oa_id,
        event_key=event.event_key,
        event_name=event.event_name,
        user_id=event.user_id,
        payload=accepted.payload,
        message=event.message,
    )
    duplicate = event_id is None
    log.info(
        "webhook event",
        extra={"event": event.event_name, "status": "duplicate" if duplicate else "accepted"},
    )
    return DUPLICATE if duplicate else ACCEPTED


async def zalo_webhook(scope: Scope, receive: Receive, send: Send) -> None:
    """The endpoint as an ASGI app; the services are the app's (`scope["app"]`)."""
    services = services_of(scope["app"].state)
    signature = _header(scope, _SIGNATURE_HEADER)
    raw = await _read_limited(scope, receive) if signature else b""
    status, body = await answer_webhook(services, signature, raw)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Endpoint:
    """`zalo_webhook` for the router: Starlette treats a non-function endpoint as ASGI."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await zalo_webhook(scope, receive, send)


# Registered for any other method (405), and in case the shortcut is not installed.
router.routes.append(Route(WEBHOOK_PATH, _Endpoint(), methods=["POST"]))


class WebhookShortcut:
    """ASGI middleware answering POST /webhooks/zalo before FastAPI's routing.

    Installed with `app.add_middleware`, so it still runs inside Starlette's error handler
    (an exception is a 500, and Zalo re-sends the event) and inside the metrics timer; it
    only skips the exception middleware, the router's scan and the per-request scaffolding
    of a route, which cost more than the handler itself (bench/bench_webhook.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH and scope["method"] == "POST":
            await zalo_webhook(scope, receive, send)
            return
        await self.app(scope, receive, send)
