"""The console's ratings page: how residents rated the service, per procedure, per counter
and per month, with the CSV export. Residents' reports keep their own satisfied/unsatisfied
rating (shown here beside it, as on the dashboard)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.ratings.summary import SUBJECT_LABELS, summarise, to_csv
from app.storage.ratings import rated
from app.storage.reports import counts_by
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession
from app.web.console.rendering import render

router = APIRouter(prefix="/console/ratings")


@router.get("", response_class=HTMLResponse)
async def ratings_page(request: Request, services: ServicesDep, session: PageSession) -> Response:
    timezone = ZoneInfo(services.knowledge.current.content.catalogue.ward.timezone)
    rows = rated(services.db)
    return render(
        request,
        "ratings.html",
        session,
        summary=summarise(rows, timezone),
        comments=[r for r in reversed(rows) if r.comment][:50],
        subjects=SUBJECT_LABELS,
        reports=counts_by(services.db, "rating"),
    )


@router.get(".csv")
async def ratings_csv(services: ServicesDep, session: PageSession) -> Response:
    timezone = ZoneInfo(services.knowledge.current.content.catalogue.ward.timezone)
    day = datetime.now(UTC).astimezone(timezone)
    return Response(
        to_csv(rated(services.db), timezone),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="danh-gia-{day:%Y-%m-%d}.csv"',
            "Cache-Control": "no-store",
        },
    )
