"""Announcements: the form (preview, then send or schedule), the history and one
announcement's delivery status. Staff announce to their own ward's residents and see their
ward's history; a province admin picks the ward (`ward`), and sees every ward's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

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
from app.ward_access import WardAccess
from app.wards import Ward
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession, PageWards, check_visible, choose_ward, ward_oa_id
from app.web.console.rendering import render

NO_ANNOUNCEMENT = "Không có thông báo này."

router = APIRouter(prefix="/console")


def _announcement_form(
    request: Request,
    services: Services,
    session: ConsoleSession,
    access: WardAccess,
    ward: Ward | None,
    *,
    form: dict[str, Any] | None = None,
    preview: Reply | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The form for `ward`; without one (a province admin yet to pick), the ward list."""
    groups = []
    if ward is not None:
        counts = members_per_group(services.db, ward_oa_id(services, access, ward))
        groups = [(g, counts.get(g.id, 0)) for g in ward.profile.residential_groups]
    history = [
        s
        for i in recent_announcement_ids(services.db, oa_ids=access.oa_ids)
        if (s := announcement_status(services.db, i)) is not None
    ]
    return render(
        request,
        "announcements.html",
        session,
        status_code,
        ward=ward,
        wards=access.wards if access.only is None else (),
        groups=groups,
        form=form or {"groups": []},
        preview=preview,
        error=error,
        history=history,
        group_names=_group_names(access),
    )


def _group_names(access: WardAccess) -> dict[str, str]:
    return {g.id: g.name for w in access.wards for g in w.profile.residential_groups}


@router.get("/announcements", response_class=HTMLResponse)
async def announcements_page(
    request: Request, services: ServicesDep, session: PageSession, access: PageWards, ward: str = ""
) -> Response:
    chosen = choose_ward(access, ward) if ward or access.only is not None else None
    return _announcement_form(request, services, session, access, chosen)


@router.post("/announcements", response_class=HTMLResponse)
async def announcements_submit(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    ward: Annotated[str, Form(max_length=100)] = "",
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
    chosen = choose_ward(access, ward)
    profile = chosen.profile
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
            oa_id=ward_oa_id(services, access, chosen),
            text=text,
            groups=groups or [],
            all_followers=everyone,
            ward_groups=profile.residential_groups,
            timezone=profile.timezone,
            image_url=image_url or None,
            link_url=link_url or None,
            link_title=link_title or None,
            urgent=urgent,
            scheduled_at=scheduled_at or None,
            created_by=session.user.username,
        )
    except AnnouncementInvalid as exc:
        return _announcement_form(
            request, services, session, access, chosen, form=form, error=str(exc), status_code=422
        )
    if action != "send":
        preview = announcement_reply(
            draft.text,
            link_url=draft.link_url,
            link_title=draft.link_title,
            image_url=draft.image_url,
        )
        return _announcement_form(
            request, services, session, access, chosen, form=form, preview=preview
        )
    announcement_id = create_announcement(services.db, draft, datetime.now(UTC))
    if services.announcer is not None:
        services.announcer.wake()
    return RedirectResponse(f"/console/announcements/{announcement_id}", 303)


@router.get("/announcements/{announcement_id}", response_class=HTMLResponse)
async def announcement_page(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    announcement_id: int,
) -> Response:
    status = announcement_status(services.db, announcement_id)
    if status is None:
        raise HTTPException(404, NO_ANNOUNCEMENT)
    check_visible(access, status.announcement.oa_id, NO_ANNOUNCEMENT)
    ward = access.ward_of(status.announcement.oa_id)
    return render(
        request,
        "announcement.html",
        session,
        status=status,
        data=status.as_json(),
        reason_label=reason_label,
        group_names={g.id: g.name for g in ward.profile.residential_groups} if ward else {},
    )
