"""The console's dossiers page: staff record a dossier's status (when no provincial system is
plugged in, or to correct it) and see who follows each code and how their notice went.

Each staff member sees and records their own ward's dossiers (another ward's code is a 404, as
an unknown one); a province admin sees every ward's and names the ward to record in."""

from __future__ import annotations

from datetime import UTC, date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.announcements.delivery import announcing_oa_id
from app.announcements.notices import STATUS_LABELS as NOTICE_LABELS
from app.catalogue.models import WardProfile
from app.dossiers.dialogue import status_sentence
from app.dossiers.service import DossierDesk, status_of
from app.dossiers.status import DossierState, DossierStatus
from app.services import Services
from app.staff import ConsoleSession
from app.storage.dossiers import follows_of, get_dossier, list_dossiers, oa_ids_with_code
from app.ward_access import WardAccess
from app.wards import Ward
from app.web.auth import ServicesDep
from app.web.console.auth import (
    PageSession,
    PageWards,
    choose_ward,
    listed_oa_ids,
    ward_names,
    ward_oa_id,
)
from app.web.console.rendering import render

router = APIRouter(prefix="/console/dossiers")

STATE_LABELS = {
    DossierState.received: "Đã tiếp nhận",
    DossierState.processing: "Đang giải quyết",
    DossierState.needs_papers: "Cần bổ sung giấy tờ",
    DossierState.result_ready: "Đã có kết quả, chờ trả",
    DossierState.picked_up: "Đã trả kết quả",
}


def _desk(services: Services) -> DossierDesk:
    if services.dossiers is None:
        raise HTTPException(404, "Chức năng tra cứu hồ sơ chưa được bật.")
    return services.dossiers


NO_DOSSIER = "Không có hồ sơ này."


def _record_in(services: Services, access: WardAccess, ward: Ward, code: str) -> list[str]:
    """The OAs a status is recorded in: the ward's. The one ward of procedures.yaml keeps
    today's rule: this deployment's OA, else the OAs that know the code."""
    if access.from_files:
        return [ward_oa_id(services, access, ward)]
    own = services.settings.own_oa_id
    if own is not None:
        return [own]
    return oa_ids_with_code(services.db, code) or [announcing_oa_id(services.settings)]


def _profile(services: Services, access: WardAccess, ward: str) -> WardProfile:
    """The profile whose dossier settings (code format, lookup link) the page follows."""
    if ward:
        return choose_ward(access, ward).profile
    only = access.only
    return only.profile if only is not None else services.knowledge.current.content.catalogue.ward


def _page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    access: WardAccess,
    *,
    code: str = "",
    ward: str = "",
    message: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    profile = _profile(services, access, ward)
    timezone = ZoneInfo(profile.timezone)
    oa_ids = listed_oa_ids(access, ward)
    names = ward_names(access)
    shown = None
    if code:
        found = [
            row
            for oa in oa_ids_with_code(services.db, code, oa_ids)
            if (row := get_dossier(services.db, oa, code)) is not None
        ]
        if not found:  # unknown, or another ward's: the same answer
            error = error or NO_DOSSIER
            status_code = 404
        else:
            row = found[0]
            status = status_of(row)
            shown = {
                "code": code,
                "ward": names(row.oa_id) if names is not None else None,
                "status": status_sentence(status) if status else None,
                "updated_by": row.updated_by if status else None,
                "follows": follows_of(services.db, row.oa_id, code),
            }
    return render(
        request,
        "dossiers.html",
        session,
        status_code,
        dossiers=list_dossiers(services.db, oa_ids=oa_ids),
        ward=ward,
        wards=access.wards if access.only is None else (),
        ward_name=names,
        slug_of=lambda oa_id: w.slug if (w := access.ward_of(oa_id)) is not None else "",
        states=STATE_LABELS,
        notice_labels=NOTICE_LABELS,
        lookup=profile.dossiers,
        provider=services.dossiers is not None and services.dossiers.provider is not None,
        shown=shown,
        code=code,
        form=form or {"code": code, "ward": ward},
        message=message,
        error=error,
        local=lambda moment: (
            f"{moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(timezone):%H:%M %d/%m/%Y}"
        ),
    )


@router.get("", response_class=HTMLResponse)
async def dossiers_page(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    code: str = "",
    ward: str = "",
) -> Response:
    return _page(request, services, session, access, code=code.strip().upper(), ward=ward)


@router.post("", response_class=HTMLResponse)
async def dossier_record(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    code: Annotated[str, Form(max_length=80)],
    state: Annotated[str, Form()],
    missing: Annotated[str, Form(max_length=1000)] = "",
    pickup_date: Annotated[str, Form(max_length=10)] = "",
    procedure_code: Annotated[str, Form(max_length=40)] = "",
    ward: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    desk = _desk(services)
    form = {
        "code": code,
        "state": state,
        "missing": missing,
        "pickup_date": pickup_date,
        "procedure_code": procedure_code,
        "ward": ward,
    }
    # The ward to record in, before anything: 404 for another ward's, 422 for a province
    # admin who named none.
    chosen = choose_ward(access, ward or None)
    lookup = chosen.profile.dossiers
    found = lookup.find_code(code) if lookup is not None else code.strip().upper() or None
    problem = None
    if found is None or found != code.strip().upper():
        example = f" (ví dụ: {lookup.code_example})" if lookup and lookup.code_example else ""
        problem = f"Mã hồ sơ “{code}” không đúng định dạng của tỉnh{example}."
    elif state not in {s.value for s in DossierState}:
        problem = "Chưa chọn tình trạng hồ sơ."
    day: date | None = None
    if problem is None and pickup_date.strip():
        try:
            day = date.fromisoformat(pickup_date.strip())
        except ValueError:
            problem = "Ngày hẹn trả không hợp lệ."
    procedure = procedure_code.strip() or None
    if problem is None and procedure is not None and chosen.catalogue.procedure(procedure) is None:
        problem = f"Không có thủ tục mã “{procedure}” trong danh mục."
    if problem is not None or found is None:
        return _page(
            request, services, session, access, ward=ward, error=problem, form=form,
            status_code=422,
        )  # fmt: skip
    status = DossierStatus(DossierState(state), missing.strip() or None, day, procedure)
    told = 0
    changed = False
    now = desk.clock()
    for oa_id in _record_in(services, access, chosen, found):
        outcome = await desk.record(oa_id, found, status, by=session.user.username, now=now)
        told += outcome.told
        changed = changed or outcome.changed
    if not changed:
        message = f"Hồ sơ {found} đã ở tình trạng này; không gửi thông báo lại."
    elif status.state is DossierState.picked_up:
        message = f"Đã cập nhật hồ sơ {found}. {told} người theo dõi được mời đánh giá."
    else:
        message = f"Đã cập nhật hồ sơ {found}. {told} người theo dõi sẽ được báo qua Zalo."
    return _page(request, services, session, access, code=found, ward=ward, message=message)
