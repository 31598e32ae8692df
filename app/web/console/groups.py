"""Residents' groups: members per group and the CSV import, of the staff member's ward (a
province admin picks the ward: `ward`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from app.announcements.service import MAX_CSV_BYTES, CsvInvalid, import_csv
from app.services import Services
from app.staff import ConsoleSession
from app.storage.groups import members_per_group, memberships
from app.ward_access import WardAccess
from app.wards import Ward
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession, PageWards, choose_ward, ward_oa_id
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


@router.get("/groups", response_class=HTMLResponse)
async def groups_page(
    request: Request, services: ServicesDep, session: PageSession, access: PageWards, ward: str = ""
) -> Response:
    chosen = choose_ward(access, ward) if ward or access.only is not None else None
    return _groups_page(request, services, session, access, chosen)


def _groups_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    access: WardAccess,
    ward: Ward | None,
    message: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The ward's groups and members; without a ward (a province admin yet to pick), the
    ward list."""
    groups, members = [], []
    if ward is not None:
        oa_id = ward_oa_id(services, access, ward)
        counts = members_per_group(services.db, oa_id)
        names = {g.id: g.name for g in ward.profile.residential_groups}
        groups = [(g, counts.get(g.id, 0)) for g in ward.profile.residential_groups]
        members = [(u, names.get(g, g)) for u, g in memberships(services.db, oa_id)][:500]
    return render(
        request,
        "groups.html",
        session,
        status_code,
        ward=ward,
        wards=access.wards if access.only is None else (),
        groups=groups,
        members=members,
        message=message,
        problems=problems or [],
    )


@router.post("/groups/import", response_class=HTMLResponse)
async def groups_import(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    file: Annotated[UploadFile, File()],
    ward: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    chosen = choose_ward(access, ward)
    raw = await file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return _groups_page(
            request,
            services,
            session,
            access,
            chosen,
            problems=["Tệp quá lớn (tối đa 5 MB)."],
            status_code=413,
        )
    try:
        counts = import_csv(
            services.db,
            ward_oa_id(services, access, chosen),
            raw.decode("utf-8-sig"),
            chosen.profile.residential_groups,
            datetime.now(UTC),
        )
    except UnicodeDecodeError:
        return _groups_page(
            request,
            services,
            session,
            access,
            chosen,
            problems=["Tệp CSV phải ở dạng UTF-8."],
            status_code=422,
        )
    except CsvInvalid as exc:
        return _groups_page(
            request, services, session, access, chosen, problems=exc.problems, status_code=422
        )
    return _groups_page(
        request,
        services,
        session,
        access,
        chosen,
        message=f"Đã nhập: thêm {counts.added}, đổi tổ {counts.changed}, "
        f"không đổi {counts.unchanged}.",
    )
