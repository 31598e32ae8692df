"""Residents' reports: the list, one report, assigning it, replying to the resident. Each
staff member sees their own ward's reports; another ward's report is a 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.reports.dialogue import Status, report_code
from app.reports.service import ReportNotFound, ResidentReports
from app.services import Services
from app.staff import ConsoleSession, Role
from app.storage.followers import get_follower
from app.storage.reports import get_report, list_reports, replies_of
from app.storage.staff import list_staff
from app.storage.tables import Report
from app.ward_access import WardAccess
from app.web.auth import ServicesDep
from app.web.console.auth import (
    PageSession,
    PageWards,
    check_visible,
    listed_oa_ids,
    ward_names,
)
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


STATUS_LABELS = {
    Status.new: "Mới",
    Status.assigned: "Đang xử lý",
    Status.answered: "Đã phản hồi",
    Status.closed: "Đã đóng",
}


def _reports(services: Services) -> ResidentReports:
    reports = services.inbox.reports
    if reports is None:
        raise HTTPException(404, "Chức năng phản ánh chưa được bật.")
    return reports


NO_REPORT = "Không có phản ánh này."


def visible_report(services: Services, access: WardAccess, report_id: int) -> Report:
    """The report, if it exists and belongs to a ward `access` sees; 404 otherwise."""
    report = get_report(services.db, report_id)
    if report is None:
        raise HTTPException(404, NO_REPORT)
    check_visible(access, report.oa_id, NO_REPORT)
    return report


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    status: str = "",
    ward: str = "",
) -> Response:
    chosen = status if status in {s.value for s in Status} else None
    oa_ids = listed_oa_ids(access, ward)  # a province admin may narrow the list to one ward
    return render(
        request,
        "reports.html",
        session,
        reports=list_reports(services.db, chosen, oa_ids=oa_ids),
        status=chosen or "",
        labels=STATUS_LABELS,
        code=report_code,
        ward=ward,
        ward_name=ward_names(access),
    )


def _report_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    access: WardAccess,
    report_id: int,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    report = visible_report(services, access, report_id)
    ward = access.ward_of(report.oa_id)
    # Reports are assigned within their ward: that ward's accounts (and in a one-ward
    # deployment, those made before wards existed).
    slugs: set[str | None] = {ward.slug} if ward is not None else set()
    if access.single:
        slugs.add(None)
    return render(
        request,
        "report.html",
        session,
        status_code,
        report=report,
        replies=replies_of(services.db, report_id),
        labels=STATUS_LABELS,
        code=report_code(report_id),
        message=message,
        staff=[
            a.username
            for a in list_staff(services.db, slugs)
            if a.active and a.role != Role.province.value
        ],
    )


@router.get("/reports/{report_id}", response_class=HTMLResponse)
async def report_page(
    request: Request, services: ServicesDep, session: PageSession, access: PageWards, report_id: int
) -> Response:
    return _report_page(request, services, session, access, report_id)


@router.post("/reports/{report_id}/assign", response_class=HTMLResponse)
async def report_assign(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    report_id: int,
    assignee: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    visible_report(services, access, report_id)
    try:
        _reports(services).assign(report_id, assignee)
    except ReportNotFound as exc:
        raise HTTPException(404, NO_REPORT) from exc
    who = assignee or "chưa ai"
    return _report_page(request, services, session, access, report_id, f"Đã giao cho {who}.")


@router.post("/reports/{report_id}/reply", response_class=HTMLResponse)
async def report_reply(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    report_id: int,
    text: Annotated[str, Form(min_length=1, max_length=2000)],
    close: Annotated[bool, Form()] = False,
) -> Response:
    report = visible_report(services, access, report_id)
    follower = get_follower(services.db, report.oa_id, report.user_id)
    outcome = await _reports(services).reply(
        report_id,
        session.user.username,
        text.strip(),
        close=close,
        now=datetime.now(UTC),
        last_interaction=follower.last_interaction_at if follower else None,
    )
    if outcome.delivered:
        message = "Đã gửi phản hồi tới người dân qua Zalo."
    elif outcome.deferred:
        message = (
            "Người dân không nhắn tin trong 7 ngày qua nên Zalo chưa cho gửi; phản hồi sẽ "
            "được gửi ngay khi người dân nhắn tin lại."
        )
    elif outcome.held:
        # Not to be sent again by hand: what did not go out goes out by itself, only that.
        message = (
            "Kết nối Zalo đang gián đoạn: phản hồi đã được lưu và sẽ tự động gửi khi kết nối "
            "trở lại (không cần gửi lại)."
        )
    else:
        message = (
            f"Zalo không nhận phản hồi ({outcome.failure}); phường sẽ thử gửi lại khi người "
            "dân nhắn tin tới."
        )
    if close:
        message += " Phản ánh đã được đóng và người dân được mời đánh giá."
    return _report_page(request, services, session, access, report_id, message)
