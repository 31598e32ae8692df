"""Build and sign webhook events the way Zalo does, with the server's own signing function."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx

from webhooks.signature import SIGNATURE_HEADER, signature_header

APP_ID = "1234567890123456789"
OA_SECRET = "TEST_OA_SECRET_KEY"
OA_ID = "388613280878808645"
_ids = itertools.count(1)


def text_event(user_id: str, text: str, msg_id: str | None = None) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "sender": {"id": user_id},
        "user_id_by_app": "app-" + user_id,
        "recipient": {"id": OA_ID},
        "event_name": "user_send_text",
        "message": {"text": text, "msg_id": msg_id or f"msg-{next(_ids)}"},
        "timestamp": "1730000000000",
    }


def follow_event(user_id: str, name: str = "follow") -> dict[str, Any]:
    return {
        "oa_id": OA_ID,
        "follower": {"id": user_id},
        "event_name": name,
        "source": "oa_profile",
        "app_id": APP_ID,
        "timestamp": str(1730000000000 + next(_ids)),
    }


def echo_event(user_id: str, text: str, admin_id: str | None) -> dict[str, Any]:
    sender: dict[str, str] = {"id": OA_ID}
    if admin_id:
        sender["admin_id"] = admin_id
    return {
        "app_id": APP_ID,
        "sender": sender,
        "recipient": {"id": user_id},
        "event_name": "oa_send_text",
        "message": {"text": text, "msg_id": f"echo-{next(_ids)}"},
        "timestamp": "1730000000000",
    }


def encode(payload: dict[str, Any]) -> bytes:
    """Compact JSON with raw UTF-8, as Zalo sends it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post_raw(self, body: bytes, signature: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return await self.client.post("/webhooks/zalo", content=body, headers=headers)

    async def post(self, payload: dict[str, Any]) -> httpx.Response:
        body = encode(payload)
        timestamp = str(payload.get("timestamp", ""))
        return await self.post_raw(body, signature_header(APP_ID, body, timestamp, OA_SECRET))
