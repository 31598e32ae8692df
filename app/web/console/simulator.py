"""The console's simulator: staff chat with the real dialogue (nothing sent, nothing stored)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.dialogue.conversation import ConversationState
from app.web.auth import ServicesDep
from app.web.console.auth import (
    ApiSession,
    PageSession,
)
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


@router.get("/simulator", response_class=HTMLResponse)
async def simulator_page(request: Request, services: ServicesDep, session: PageSession) -> Response:
    return render(
        request,
        "simulator.html",
        session,
        ward=services.knowledge.current.content.catalogue.ward.name,
    )


@router.post("/simulator")
async def simulator_turn(
    request: Request,
    services: ServicesDep,
    session: ApiSession,
    text: Annotated[str, Form(min_length=1, max_length=4000)],
) -> dict[str, Any]:
    """One simulated resident message through the real dialogue (nothing sent, nothing stored):
    each staff member chats from their own state, kept in memory per username."""
    snapshot = services.knowledge.current
    states: dict[str, ConversationState] | None = getattr(
        request.app.state, "console_simulator_states", None
    )
    if states is None:
        states = {}
        request.app.state.console_simulator_states = states
    key = session.user.username
    turn = snapshot.dialogue.respond(text, states.get(key, ConversationState()), datetime.now(UTC))
    states[key] = turn.state
    return {
        "replies": [
            {
                "text": r.text,
                "buttons": [{"title": b.title, "payload": b.payload} for b in r.buttons],
            }
            for r in turn.replies
        ]
    }
