"""The console's simulator: staff chat with the real dialogue (nothing sent, nothing stored), as
one of the wards they see (`ward`; the first by default): that ward's name, hours, phones and
procedures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.dialogue.conversation import ConversationState
from app.ward_access import WardAccess
from app.wards import Ward
from app.web.auth import ServicesDep
from app.web.console.auth import ApiSession, PageSession, PageWards, choose_ward, ward_access
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


def _ward(access: WardAccess, slug: str) -> Ward:
    """The ward to chat as: the one named (404 if not visible), else the first visible."""
    return choose_ward(access, slug) if slug else access.wards[0]


@router.get("/simulator", response_class=HTMLResponse)
async def simulator_page(
    request: Request, session: PageSession, access: PageWards, ward: str = ""
) -> Response:
    chosen = _ward(access, ward)
    return render(
        request,
        "simulator.html",
        session,
        ward=chosen.name,
        slug=chosen.slug,
        wards=access.wards if len(access.wards) > 1 else (),
    )


@router.post("/simulator")
async def simulator_turn(
    request: Request,
    services: ServicesDep,
    session: ApiSession,
    text: Annotated[str, Form(min_length=1, max_length=4000)],
    ward: Annotated[str, Form(max_length=100)] = "",
) -> dict[str, Any]:
    """One simulated resident message through the real dialogue of the chosen ward (nothing
    sent, nothing stored): each staff member chats from their own state per ward, kept in
    memory per username."""
    chosen = _ward(ward_access(services, session.user), ward)
    snapshot = services.knowledge.current
    states: dict[tuple[str, str], ConversationState] | None = getattr(
        request.app.state, "console_simulator_states", None
    )
    if states is None:
        states = {}
        request.app.state.console_simulator_states = states
    key = (session.user.username, chosen.slug)
    dialogue = snapshot.dialogue_for(chosen)
    turn = dialogue.respond(text, states.get(key, ConversationState()), datetime.now(UTC))
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
