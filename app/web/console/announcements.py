"""Announcements: the form (preview, then send or schedule), the history and one
announcement's delivery status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.announcements.delivery import announcing_oa_id
from app.announcements.notices import announcement_reply, reason_label
from app.announcements.service import AnnouncementInvalid, prepare_announcement
from app.dialogue.reply import Reply
from app.services import Services
from app.staff import ConsoleSession
from app.storage.announcements import (
    announcement_status,
    create_announcement,
    recent_announcement_ids,
)
from app.storage.groups import members_per_group
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


def _announcement_form(
    request: Request,
    services: Services,
    session: ConsoleSession,
    *,
    form: dict[str, Any] | None = None,
    preview: Reply | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ward = services.knowledge.current.content.catalogue.ward
    counts = members_per_group(services.db, announcing_oa_id(services.settings))
    history = [
        s
        for i in recent_announcement_ids(services.db)
        if (s := announcement_status(services.db, i)) is not None
    ]
    return render(
        request,
        "announcements.html",
        session,
        status_code,
        groups=[(g, counts.get(g.id, 0)) for g in ward.residential_groups],
        form=form or {"groups": []},
        preview=preview,
        error=error,
        history=history,
        group_names={g.id: g.name for g in ward.residential_groups},
    )


@router.get("/announcements", response_class=HTMLResponse)
async def announcements_page(
    request: Request, services: ServicesDep, session: PageSession
) -> Response:
    return _announcement_form(request, services, session)


@router.post("/announcements", response_class=HTMLResponse)
async def announcements_submit(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    text: Annotated[str, Form(max_length=10_000)] = "",
    groups: Annotated[list[str] | None, Form()] = None,
    everyone: Annotated[bool, Form()] = False,
    link_url: Annotated[str, Form(max_length=2000)] = "",
    link_title: Annotated[str, Form(max_length=100)] = "",
    image_url: Annotated[str, Form(max_length=2000)] = "",
    scheduled_at: Annotated[str, Form(max_length=40)] = "",
    urgent: Annotated[bool, Form()] = False,
    action: Annotated[str, Form(max_length=20)] = "preview",
) -> Response:
    ward = services.knowledge.current.content.catalogue.ward
    form = {
        "text": text,
        "groups": groups or [],
        "everyone": everyone,
        "link_url": link_url,
        "link_title": link_title,
        "image_url": image_url,
        "scheduled_at": scheduled_at,
        "urgent": urgent,
    }
    try:
        draft = prepare_announcement(
            oa_id=announcing_oa_id(services.settings),
            text=text,
            groups=groups or [],
            all_followers=everyone,
            ward_groups=ward.residential_groups,
            timezone=ward.timezone,
            image_url=image_url or None,
            link_url=link_url or None,
            link_title=link_title or None,
            urgent=urgent,
            scheduled_at=scheduled_at or None,
            created_by=session.user.username,
        )
    except AnnouncementInvalid as exc:
        return _announcement_form(
            request, services, session, form=form, error=str(exc), status_code=422
        )
    if action != "send":
        preview = announcement_reply(
            draft.text,
            link_url=draft.link_url,
            link_title=draft.link_title,
            image_url=draft.image_url,
        )
        return _announcement_form(request, services, session, form=form, preview=preview)
    announcement_id = create_announcement(services.db, draft, datetime.now(UTC))
    if services.announcer is not None:
        services.announcer.wake()
    return RedirectResponse(f"/console/announcements/{announcement_id}", 303)


@router.get("/announcements/{announcement_id}", response_class=HTMLResponse)
async def announcement_page(
    request: Request, services: ServicesDep, session: PageSession, announcement_id: int
) -> Response:
    status = announcement_status(services.db, announcement_id)
    if status is None:
        raise HTTPException(404, "Không có thông báo này.")
    ward = services.knowledge.current.content.catalogue.ward
    return render(
        request,
        "announcement.html",
        session,
        status=status,
        data=status.as_json(),
        reason_label=reason_label,
        group_names={g.id: g.name for g in ward.residential_groups},
    )
