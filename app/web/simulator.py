"""Simulator mode: chat with the bot locally, through the same inbox as real Zalo events.

Only mounted behaviour when no Zalo credentials are configured; otherwise every route is 404.
With ward files (WARDBOT_WARDS) the resident writes to the chosen ward's OA (`ward`, a slug;
the first ward by default), so the answer is that ward's; without them, to the simulator's
own OA, which the one ward of procedures.yaml answers.
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
    ward: Annotated[str, Field(max_length=100)] = ""
    """The ward's slug (ward files only); empty: the first ward."""


def _require_simulator(services: Services) -> None:
    if not services.settings.simulator:
        raise HTTPException(404, "the simulator runs only without Zalo credentials")


def simulated_oa_id(services: Services, slug: str = "") -> str:
    """The OA the simulated resident writes to: the named ward's (404 for no such ward), the
    first ward's by default; the simulator's own OA without ward files."""
    wards = services.knowledge.current.wards
    if not wards.from_files:
        return SIMULATOR_OA_ID
    ward = wards.by_slug(slug) if slug else wards.all()[0]
    if ward is None:
        raise HTTPException(404, "Không có phường/xã này.")
    return ward.oa_id or SIMULATOR_OA_ID


async def simulate_event(
    services: Services, payload: dict[str, Any], user_id: str, oa_id: str = SIMULATOR_OA_ID
) -> list[dict[str, Any]]:
    """Feed a Zalo-shaped event through the inbox and return what the bot sent back."""
    event = record_claimed(
        services.db,
        NewEvent(
            oa_id=oa_id,
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


def text_event(user_id: str, text: str, oa_id: str = SIMULATOR_OA_ID) -> dict[str, Any]:
    return {
        "app_id": "simulator",
        "sender": {"id": user_id},
        "recipient": {"id": oa_id},
        "event_name": "user_send_text",
        "message": {"text": text, "msg_id": uuid.uuid4().hex},
        "timestamp": str(int(time.time() * 1000)),
    }


def follow_event(user_id: str, oa_id: str = SIMULATOR_OA_ID) -> dict[str, Any]:
    return {
        "oa_id": oa_id,
        "follower": {"id": user_id},
        "event_name": "follow",
        "source": "oa_profile",
        "app_id": "simulator",
        "timestamp": str(int(time.time() * 1000)),
    }


def _ward_picker(services: Services) -> str:
    """A select of the wards (ward files only, several wards): names are text, never markup."""
    wards = services.knowledge.current.wards
    if not wards.from_files or len(wards) < 2:
        return ""
    options = "".join(
        f'<option value="{html.escape(w.slug)}">{html.escape(w.name)}</option>' for w in wards
    )
    return f'<select id="ward" aria-label="Phường/xã">{options}</select>'


@router.get("/", response_class=HTMLResponse)
async def simulator_page(services: ServicesDep) -> HTMLResponse:
    if not services.settings.simulator:
        return HTMLResponse("<h1>wardbot</h1><p>Đang kết nối Zalo OA.</p>")
    # The ward's name comes from procedures.yaml (or the first ward file): text, never markup.
    snapshot = services.knowledge.current
    first = snapshot.wards.all()[0] if snapshot.wards.from_files else None
    name = first.name if first is not None else snapshot.content.catalogue.ward.name
    page = PAGE.read_text(encoding="utf-8").replace("{{wards}}", _ward_picker(services))
    return HTMLResponse(page.replace("{{ward}}", html.escape(name)))


@router.post("/simulator/messages")
async def simulator_message(message: SimulatedMessage, services: ServicesDep) -> dict[str, Any]:
    _require_simulator(services)
    oa_id = simulated_oa_id(services, message.ward)
    replies = await simulate_event(
        services, text_event(message.user_id, message.text, oa_id), message.user_id, oa_id
    )
    return {"replies": replies}


@router.post("/simulator/follow")
async def simulator_follow(
    services: ServicesDep, user_id: str = "resident-1", ward: str = ""
) -> dict[str, Any]:
    _require_simulator(services)
    oa_id = simulated_oa_id(services, ward)
    return {"replies": await simulate_event(services, follow_event(user_id, oa_id), user_id, oa_id)}
