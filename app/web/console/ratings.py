"""The console's ratings page: how residents rated the service, per procedure, per counter
and per month, with the CSV export. Residents' reports keep their own satisfied/unsatisfied
rating (shown here beside it, as on the dashboard). Each staff member sees their own ward's
ratings; a province admin every ward's, per ward too, or one ward's (`ward`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.ratings.summary import SUBJECT_LABELS, summarise, to_csv
from app.services import Services
from app.storage.ratings import rated
from app.storage.reports import counts_by
from app.ward_access import WardAccess
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession, PageWards, listed_oa_ids, ward_names
from app.web.console.rendering import render

router = APIRouter(prefix="/console/ratings")


def _timezone(services: Services, access: WardAccess) -> ZoneInfo:
    only = access.only
    ward = only.profile if only is not None else services.knowledge.current.content.catalogue.ward
    return ZoneInfo(ward.timezone)


@router.get("", response_class=HTMLResponse)
async def ratings_page(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    ward: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    oa_ids = listed_oa_ids(access, ward)  # 404 for a ward not visible
    names = ward_names(access) if not ward else None
    rows = rated(services.db, oa_ids)
    return render(
        request,
        "ratings.html",
        session,
        summary=summarise(rows, _timezone(services, access), ward_of=names),
        comments=[r for r in reversed(rows) if r.comment][:50],
        subjects=SUBJECT_LABELS,
        reports=counts_by(services.db, "rating", oa_ids),
        ward=ward,
        wards=access.wards if access.only is None else (),
        ward_name=names,
    )


@router.get(".csv")
async def ratings_csv(
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    ward: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    oa_ids = listed_oa_ids(access, ward)
    names = ward_names(access) if not ward else None
    timezone = _timezone(services, access)
    day = datetime.now(UTC).astimezone(timezone)
    return Response(
        to_csv(rated(services.db, oa_ids), timezone, ward_of=names),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="danh-gia-{day:%Y-%m-%d}.csv"',
            "Cache-Control": "no-store",
        },
    )
