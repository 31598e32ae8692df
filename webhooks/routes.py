"""POST /webhooks/zalo: verify the raw body, record the event, queue it, answer 200 at once.

The hottest and most time-bound endpoint (Zalo wants its 200 within 2 seconds), so it is a
plain Starlette handler, served by `WebhookShortcut` ahead of FastAPI's routing: the
dependency, validation and routing machinery, of no use to a handler that reads the raw
body, was a large share of its cost (bench/bench_webhook.py).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.services import Services, services_of
from webhooks.events import MalformedEvent, envelope
from webhooks.signature import SIGNATURE_HEADER, verify_signature

log = logging.getLogger(__name__)
router = APIRouter()

WEBHOOK_PATH = "/webhooks/zalo"
MAX_BODY_BYTES = 64 * 1024
"""Zalo events are small; anything bigger is not Zalo."""


def _reject(status: int, error: str) -> JSONResponse:
    log.warning("webhook rejected", extra={"status": status, "reason": error})
    return JSONResponse({"error": error}, status_code=status)


async def _read_limited(request: Request) -> bytes | None:
    """The raw body, or None past MAX_BODY_BYTES (without reading the rest into memory)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _outside_replay_window(timestamp_ms: int, settings: Settings) -> bool:
    if settings.webhook_max_age_minutes == 0:
        return False
    age_ms = time.time() * 1000 - timestamp_ms
    return (
        age_ms > settings.webhook_max_age_minutes * 60_000
        or -age_ms > settings.webhook_max_skew_minutes * 60_000
    )


async def zalo_webhook(request: Request) -> JSONResponse:
    services: Services = services_of(request.app.state)
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        return _reject(401, "missing signature")
    raw = await _read_limited(request)
    if raw is None:
        return _reject(413, "body too large")
    try:
        payload: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _reject(400, "body is not JSON")
    if not isinstance(payload, dict):
        return _reject(400, "body is not a JSON object")

    settings = services.settings
    # The timestamp inside the body is part of the signed string; nothing else is read first.
    timestamp = str(payload.get("timestamp", ""))
    if not verify_signature(
        raw,
        header,
        timestamp=timestamp,
        app_id=settings.zalo_app_id,
        oa_secret_key=settings.zalo_oa_secret_key.get_secret_value(),
    ):
        return _reject(401, "bad signature")
    try:
        event = envelope(payload)
    except MalformedEvent as exc:
        return _reject(400, f"not a Zalo event: {exc}")
    if _outside_replay_window(event.timestamp_ms, settings):
        # Answered 200 so Zalo does not count it as a failed delivery (repeated failures
        # disable the webhook); the event is neither recorded nor handled.
        log.warning("webhook stale", extra={"event": event.event_name})
        return JSONResponse({"status": "stale"})

    event_id = await services.accept_event(
        oa_id=event.oa_id,
        event_key=event.event_key,
        event_name=event.event_name,
        user_id=event.user_id,
        payload=raw.decode("utf-8"),
    )
    status = "duplicate" if event_id is None else "accepted"
    log.info("webhook event", extra={"event": event.event_name, "status": status})
    return JSONResponse({"status": status})


router.add_route(WEBHOOK_PATH, zalo_webhook, methods=["POST"])


class WebhookShortcut:
    """ASGI middleware answering POST /webhooks/zalo before FastAPI's routing.

    Installed with `app.add_middleware`, so it still runs inside Starlette's error handler
    (an exception is a 500, and Zalo re-sends the event) and inside the metrics timer; it
    only skips the exception middleware, the router's scan and the per-request scaffolding
    of a route, which cost more than the handler itself (bench/bench_webhook.py). The route
    above stays registered for the OpenAPI schema and for any other method (405).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH and scope["method"] == "POST":
            response = await zalo_webhook(Request(scope, receive))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
