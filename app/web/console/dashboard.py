"""The console's front page. A ward's staff see their ward: messages, unanswered questions,
groups, reports, top asks. A province admin sees the same figures per ward, side by side."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.services import Services
from app.staff import ConsoleSession
from app.storage.events import count_messages, messages_per_oa
from app.storage.groups import members_per_group
from app.storage.questions import count_unanswered, top_asked, unanswered_per_oa
from app.storage.ratings import scores_per_oa
from app.storage.reports import counts_by, counts_per_oa
from app.ward_access import WardAccess
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession, PageWards, ward_oa_id
from app.web.console.rendering import render

router = APIRouter(prefix="/console")

OPEN_STATUSES = ("new", "assigned", "answered")
UNKNOWN_WARD = "OA chưa thuộc phường/xã nào"


@router.get("", response_class=HTMLResponse)
async def dashboard(
    request: Request, services: ServicesDep, session: PageSession, access: PageWards
) -> Response:
    if session.user.is_province:
        return _province_dashboard(request, services, session, access)
    ward = access.choose(None)
    catalogue = ward.catalogue
    oa_ids = access.oa_ids
    now = datetime.now(ZoneInfo(ward.profile.timezone))
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    counts = members_per_group(services.db, ward_oa_id(services, access, ward))
    groups = [(g.name, counts.get(g.id, 0)) for g in ward.profile.residential_groups]
    return render(
        request,
        "dashboard.html",
        session,
        ward=ward.name,
        messages_today=count_messages(services.db, today, oa_ids),
        messages_week=count_messages(services.db, week, oa_ids),
        unanswered_week=count_unanswered(services.db, now - timedelta(days=7), oa_ids),
        groups=groups,
        problems=[str(p) for p in services.knowledge.problems],
        reports=counts_by(services.db, "status", oa_ids),
        top=[
            (code, p.short_name if (p := catalogue.procedure(code)) else code, n)
            for code, n in top_asked(services.db, now - timedelta(days=7), oa_ids=oa_ids)
        ],
        ratings=counts_by(services.db, "rating", oa_ids),
    )


def _province_dashboard(
    request: Request, services: Services, session: ConsoleSession, access: WardAccess
) -> HTMLResponse:
    """Per ward: messages and unanswered questions of the last 7 days, open reports, the
    residents' 1-5 ratings of the service (count and average) and their verdicts on reports.
    Rows of an OA no ward claims are summed under one line rather than dropped."""
    since = datetime.now(ZoneInfo(services.knowledge.current.content.catalogue.ward.timezone))
    since -= timedelta(days=7)
    figures: dict[str, Counter[str]] = {w.slug: Counter() for w in access.wards}
    unknown: Counter[str] = Counter()

    def add(oa_id: str, key: str, n: int) -> None:
        ward = access.ward_of(oa_id)
        (figures[ward.slug] if ward is not None else unknown)[key] += n

    for oa_id, n in messages_per_oa(services.db, since).items():
        add(oa_id, "messages", n)
    for oa_id, n in unanswered_per_oa(services.db, since).items():
        add(oa_id, "unanswered", n)
    for oa_id, statuses in counts_per_oa(services.db, "status").items():
        add(oa_id, "open", sum(statuses.get(s, 0) for s in OPEN_STATUSES))
    for oa_id, ratings in counts_per_oa(services.db, "rating").items():
        for rating, n in ratings.items():
            add(oa_id, rating, n)
    for oa_id, scores in scores_per_oa(services.db).items():  # the 1-5 ratings of the service
        add(oa_id, "rated", scores.count)
        add(oa_id, "score_total", scores.total)
    rows = [(w.slug, w.name, figures[w.slug]) for w in access.wards]
    if unknown:
        rows.append(("", UNKNOWN_WARD, unknown))
    return render(
        request,
        "province.html",
        session,
        rows=rows,
        totals=sum((f for _, _, f in rows), Counter()),
        problems=[str(p) for p in services.knowledge.problems],
    )
