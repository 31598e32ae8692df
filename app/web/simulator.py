"""Simulator mode: chat with the bot locally, through the same inbox as real Zalo events.

Only mounted behaviour when no Zalo credentials are configured; otherwise every route is 404.
"""

from __future__ import annotations

import html
import json
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from app.services import Services
from app.storage.events import NewEvent, record_claimed
from app.storage.outbox import messages_to
from app.web.auth import ServicesDep
from webhooks.events import RawEvent, inbound_message

router = APIRouter()
SIMULATOR_OA_ID = "simulator-oa"
PAGE = Path(__file__).parent / "templates" / "simulator.html"


class SimulatedMessage(BaseModel):
    user_id: Annotated[str, Field(min_length=1, max_length=64)] = "resident-1"
    text: Annotated[str, Field(min_length=1, max_length=4000)]


def _require_simulator(services: Services) -> None:
    if not services.settings.simulator:
        raise HTTPException(404, "the simulator runs only without Zalo credentials")


async def simulate_event(
    services: Services, payload: dict[str, Any], user_id: str
) -> list[dict[str, Any]]:
    """Feed a Zalo-shaped event through the inbox and return what the bot sent back."""
    event = record_claimed(
        services.db,
        NewEvent(
            oa_id=SIMULATOR_OA_ID,
            event_key=f"sim:{uuid.uuid4().hex}",
            event_name=payload["event_name"],
            user_id=user_id,
            payload=json.dumps(payload, ensure_ascii=False),
            message=inbound_message(RawEvent.model_validate(payload)),
        ),
    )
    await services.inbox.handle_claimed(event)
    return [
        {"text": m.text, "buttons": json.loads(m.buttons), "outcome": m.outcome.value}
        for m in messages_to(services.db, user_id)
        if m.inbound_event_id == event.id
    ]


def text_event(user_id: str, text: str) -> dict[str, Any]:
    return {
        "app_id": "simulator",
        "sender": {"id": user_id},
        "recipient": {"id": SIMULATOR_OA_ID},
        "event_name": "user_send_text",
        "message": {"text": text, "msg_id": uuid.uuid4().hex},
        "timestamp": str(int(time.time() * 1000)),
    }


def follow_event(user_id: str) -> dict[str, Any]:
    return {
        "oa_id": SIMULATOR_OA_ID,
        "follower": {"id": user_id},
        "event_name": "follow",
        "source": "oa_profile",
        "app_id": "simulator",
        "timestamp": str(int(time.time() * 1000)),
    }


@router.get("/", response_class=HTMLResponse)
async def simulator_page(services: ServicesDep) -> HTMLResponse:
    if not services.settings.simulator:
        return HTMLResponse("<h1>wardbot</h1><p>Đang kết nối Zalo OA.</p>")
    # The ward's name comes from procedures.yaml: text, never markup.
    ward = html.escape(services.knowledge.current.content.catalogue.ward.name)
    return HTMLResponse(PAGE.read_text(encoding="utf-8").replace("{{ward}}", ward))


@router.post("/simulator/messages")
async def simulator_message(message: SimulatedMessage, services: ServicesDep) -> dict[str, Any]:
    _require_simulator(services)
    replies = await simulate_event(
        services, text_event(message.user_id, message.text), message.user_id
    )
    return {"replies": replies}


@router.post("/simulator/follow")
async def simulator_follow(services: ServicesDep, user_id: str = "resident-1") -> dict[str, Any]:
    _require_simulator(services)
    return {"replies": await simulate_event(services, follow_event(user_id), user_id)}
