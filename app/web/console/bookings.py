"""The console's bookings (/console/bookings): today's and the coming days' visits by slot and
counter; staff mark a visit served or no-show, export CSV, and cancel a slot (its residents
are told and offered other slots). Any signed-in staff member; every form carries the CSRF
token."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.booking import calendar
from app.booking.agenda import REMINDER_LABELS, STATUS_LABELS, AgendaRow, agenda, to_csv
from app.booking.service import ResidentBookings
from app.services import Services
from app.storage.tables import BookingStatus
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession
from app.web.console.rendering import render

router = APIRouter(prefix="/console/bookings")

MAX_DAYS = 31
MESSAGES = {
    "served": "Đã ghi nhận: người dân đã được phục vụ.",
    "no_show": "Đã ghi nhận: người dân vắng mặt.",
    "refused": "Không ghi nhận được: lịch hẹn này đã bị hủy.",
}


def _bookings(services: Services) -> ResidentBookings:
    bookings = services.inbox.bookings
    if bookings is None:
        raise HTTPException(404, "Chức năng đặt lịch chưa được bật.")
    return bookings


def _now(services: Services) -> datetime:
    """The inbox's clock: the console and the chat agree on what "now" is."""
    return services.inbox.clock()


def _today(services: Services) -> date:
    ward = services.knowledge.current.content.catalogue.ward
    return calendar.local(ward, _now(services)).date()


def _page_url(first: date, days: int, message: str | None = None) -> str:
    url = f"/console/bookings?date={first.isoformat()}&days={days}"
    return f"{url}&message={message}" if message else url


def _grouped(rows: list[AgendaRow]) -> list[tuple[str, list[tuple[str, list[AgendaRow]]]]]:
    """Days -> slots (time and counter) -> bookings."""
    by_day: dict[str, dict[str, list[AgendaRow]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_day[row.day][f"{row.time} · {row.counter}"].append(row)
    return [(day, list(slots.items())) for day, slots in by_day.items()]


@router.get("", response_class=HTMLResponse)
async def bookings_page(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    date_: Annotated[date | None, Query(alias="date")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 3,
    message: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    catalogue = services.knowledge.current.content.catalogue
    first = date_ or _today(services)
    rows = agenda(services.db, catalogue, first, days)
    live = [r for r in rows if r.status == BookingStatus.booked.value]
    return render(
        request,
        "bookings.html",
        session,
        first=first,
        days=days,
        groups=_grouped(rows),
        total=len(rows),
        live=len(live),
        labels=STATUS_LABELS,
        reminders=REMINDER_LABELS,
        configured=catalogue.ward.booking is not None,
        message=MESSAGES.get(message),
        cancelled=None,
    )


@router.get(".csv")
async def bookings_csv(
    services: ServicesDep,
    session: PageSession,
    date_: Annotated[date | None, Query(alias="date")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 3,
) -> Response:
    catalogue = services.knowledge.current.content.catalogue
    first = date_ or _today(services)
    body = to_csv(agenda(services.db, catalogue, first, days))
    name = f"lich-hen-{first.isoformat()}-{days}-ngay.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{booking_id}/mark")
async def bookings_mark(
    services: ServicesDep,
    session: PageSession,
    booking_id: int,
    status: Annotated[str, Form(pattern="^(served|no_show)$")],
    first: Annotated[date, Form(alias="date")],
    days: Annotated[int, Form(ge=1, le=MAX_DAYS)] = 3,
) -> Response:
    marked = await _bookings(services).mark(
        booking_id, BookingStatus(status), staff=session.user.username, now=_now(services)
    )
    return RedirectResponse(_page_url(first, days, status if marked else "refused"), 303)


@router.post("/cancel-slot", response_class=HTMLResponse)
async def bookings_cancel_slot(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    oa_id: Annotated[str, Form(min_length=1, max_length=64)],
    counter_id: Annotated[str, Form(min_length=1, max_length=64)],
    start: Annotated[datetime, Form()],
    reason: Annotated[str, Form(min_length=3, max_length=200)],
    first: Annotated[date, Form(alias="date")],
    days: Annotated[int, Form(ge=1, le=MAX_DAYS)] = 3,
) -> Response:
    catalogue = services.knowledge.current.content.catalogue
    if start.tzinfo is None:
        raise HTTPException(422, "Thời điểm khung giờ không hợp lệ.")
    try:
        done = await _bookings(services).cancel_slot(
            oa_id=oa_id,
            counter_id=counter_id,
            slot_start=start,
            reason=reason.strip(),
            staff=session.user.username,
            now=_now(services),
            catalogue=catalogue,
        )
    except LookupError as exc:
        raise HTTPException(404, "Không có quầy này.") from exc
    text = f"Đã hủy khung giờ: {done.cancelled} lịch hẹn bị hủy, {done.told} người dân đã được báo"
    if done.not_told:
        text += f"; {done.not_told} người chưa nhận được tin (Zalo từ chối), cần gọi điện báo"
    rows = agenda(services.db, catalogue, first, days)
    return render(
        request,
        "bookings.html",
        session,
        first=first,
        days=days,
        groups=_grouped(rows),
        total=len(rows),
        live=len([r for r in rows if r.status == BookingStatus.booked.value]),
        labels=STATUS_LABELS,
        reminders=REMINDER_LABELS,
        configured=catalogue.ward.booking is not None,
        message=None,
        cancelled=text + ".",
    )
