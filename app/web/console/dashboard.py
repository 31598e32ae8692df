"""The console's front page: messages, unanswered questions, groups, reports, top asks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.announcements.delivery import announcing_oa_id
from app.storage.events import count_messages
from app.storage.groups import members_per_group
from app.storage.questions import count_unanswered, top_asked
from app.storage.reports import counts_by
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, services: ServicesDep, session: PageSession) -> Response:
    catalogue = services.knowledge.current.content.catalogue
    ward = catalogue.ward
    now = datetime.now(ZoneInfo(ward.timezone))
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    counts = members_per_group(services.db, announcing_oa_id(services.settings))
    groups = [(g.name, counts.get(g.id, 0)) for g in ward.residential_groups]
    return render(
        request,
        "dashboard.html",
        session,
        ward=ward.name,
        messages_today=count_messages(services.db, today),
        messages_week=count_messages(services.db, week),
        unanswered_week=count_unanswered(services.db, now - timedelta(days=7)),
        groups=groups,
        problems=[str(p) for p in services.knowledge.problems],
        reports=counts_by(services.db, "status"),
        top=[
            (code, p.short_name if (p := catalogue.procedure(code)) else code, n)
            for code, n in top_asked(services.db, now - timedelta(days=7))
        ],
        ratings=counts_by(services.db, "rating"),
    )
