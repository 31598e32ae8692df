"""Residents' groups: members per group and the CSV import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from app.announcements.delivery import announcing_oa_id
from app.announcements.service import MAX_CSV_BYTES, CsvInvalid, import_csv
from app.services import Services
from app.staff import ConsoleSession
from app.storage.groups import members_per_group, memberships
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


@router.get("/groups", response_class=HTMLResponse)
async def groups_page(request: Request, services: ServicesDep, session: PageSession) -> Response:
    return _groups_page(request, services, session)


def _groups_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    message: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ward = services.knowledge.current.content.catalogue.ward
    oa_id = announcing_oa_id(services.settings)
    counts = members_per_group(services.db, oa_id)
    names = {g.id: g.name for g in ward.residential_groups}
    return render(
        request,
        "groups.html",
        session,
        status_code,
        groups=[(g, counts.get(g.id, 0)) for g in ward.residential_groups],
        members=[(u, names.get(g, g)) for u, g in memberships(services.db, oa_id)][:500],
        message=message,
        problems=problems or [],
    )


@router.post("/groups/import", response_class=HTMLResponse)
async def groups_import(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    file: Annotated[UploadFile, File()],
) -> Response:
    raw = await file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return _groups_page(
            request, services, session, problems=["Tệp quá lớn (tối đa 5 MB)."], status_code=413
        )
    try:
        counts = import_csv(
            services.db,
            announcing_oa_id(services.settings),
            raw.decode("utf-8-sig"),
            services.knowledge.current.content.catalogue.ward.residential_groups,
            datetime.now(UTC),
        )
    except UnicodeDecodeError:
        return _groups_page(
            request, services, session, problems=["Tệp CSV phải ở dạng UTF-8."], status_code=422
        )
    except CsvInvalid as exc:
        return _groups_page(request, services, session, problems=exc.problems, status_code=422)
    return _groups_page(
        request,
        services,
        session,
        message=f"Đã nhập: thêm {counts.added}, đổi tổ {counts.changed}, "
        f"không đổi {counts.unchanged}.",
    )
