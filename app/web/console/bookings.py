"""The console's bookings (/console/bookings): today's and the coming days' visits by slot and
counter; staff mark a visit served or no-show, export CSV, and cancel a slot (its residents
are told and offered other slots). Any signed-in staff member; every form carries the CSRF
token. Each staff member sees and acts on their own ward's bookings (another ward's booking
or slot is a 404); a province admin sees every ward's, with a ward column, or one ward's
(`ward`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.booking import calendar
from app.booking.agenda import REMINDER_LABELS, STATUS_LABELS, AgendaRow, agenda, to_csv
from app.booking.service import ResidentBookings
from app.catalogue.models import Catalogue
from app.services import Services
from app.staff import ConsoleSession
from app.storage.bookings import get_booking
from app.storage.tables import BookingStatus
from app.ward_access import WardAccess
from app.wards import Ward
from app.web.auth import ServicesDep
from app.web.console.auth import (
    PageSession,
    PageWards,
    check_visible,
    choose_ward,
    listed_oa_ids,
    ward_names,
)
from app.web.console.rendering import render

router = APIRouter(prefix="/console/bookings")

MAX_DAYS = 31
NO_BOOKING = "Không có lịch hẹn này."
NO_COUNTER = "Không có quầy này."
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


def _catalogue_of(services: Services, access: WardAccess) -> Callable[[str], Catalogue]:
    """A booking's ward's catalogue (its counters, calendar, procedures), by its OA."""
    shared = services.knowledge.current.content.catalogue

    def catalogue_of(oa_id: str) -> Catalogue:
        ward = access.ward_of(oa_id)
        return ward.catalogue if ward is not None else shared

    return catalogue_of


@dataclass(frozen=True)
class _View:
    """What one visit of the page lists: the days, the wards shown and their bookings' OAs."""

    access: WardAccess
    ward: str
    """The ward a province admin narrowed the page to ("" for all)."""
    oa_ids: frozenset[str] | None
    catalogue: Catalogue
    """The calendar the days are counted in: the ward's, or the shared one for several."""
    first: date
    days: int

    @property
    def wards(self) -> Sequence[Ward]:
        return (choose_ward(self.access, self.ward),) if self.ward else self.access.wards

    @property
    def ward_name(self) -> Callable[[str], str] | None:
        """The ward column, when several wards are listed."""
        return ward_names(self.access) if not self.ward else None


def _view(
    services: Services, access: WardAccess, ward: str, first: date | None, days: int
) -> _View:
    oa_ids = listed_oa_ids(access, ward)  # 404 for a ward not visible
    only = choose_ward(access, ward) if ward else access.only
    catalogue = only.catalogue if only is not None else services.knowledge.current.content.catalogue
    today = calendar.local(catalogue.ward, _now(services)).date()
    return _View(access, ward, oa_ids, catalogue, first or today, days)


async def _queried_view(
    services: ServicesDep,
    access: PageWards,
    date_: Annotated[date | None, Query(alias="date")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 3,
    ward: Annotated[str, Query(max_length=100)] = "",
) -> _View:
    return _view(services, access, ward, date_, days)


QueriedView = Annotated[_View, Depends(_queried_view)]
"""The page's and the CSV's days and wards (`date`, `days`, `ward`)."""


def _page_url(view: _View, message: str) -> str:
    url = f"/console/bookings?date={view.first.isoformat()}&days={view.days}"
    if view.ward:
        url += f"&ward={quote(view.ward)}"
    return f"{url}&message={message}"


def _grouped(
    rows: list[AgendaRow], ward_name: Callable[[str], str] | None
) -> list[tuple[str, list[tuple[str, list[AgendaRow]]]]]:
    """Days -> slots (ward when several, time and counter) -> bookings."""
    by_day: dict[str, dict[str, list[AgendaRow]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        slot = f"{row.time} · {row.counter}"
        if ward_name is not None:
            slot = f"{ward_name(row.oa_id)} · {slot}"
        by_day[row.day][slot].append(row)
    return [(day, list(slots.items())) for day, slots in by_day.items()]


def _rows(services: Services, view: _View) -> list[AgendaRow]:
    return agenda(
        services.db,
        view.catalogue,
        view.first,
        view.days,
        view.oa_ids,
        _catalogue_of(services, view.access),
    )


def _render(
    request: Request,
    services: Services,
    session: ConsoleSession,
    view: _View,
    *,
    message: str | None = None,
    cancelled: str | None = None,
) -> HTMLResponse:
    rows = _rows(services, view)
    return render(
        request,
        "bookings.html",
        session,
        first=view.first,
        days=view.days,
        ward=view.ward,
        wards=view.access.wards if view.access.only is None else (),
        groups=_grouped(rows, view.ward_name),
        total=len(rows),
        live=len([r for r in rows if r.status == BookingStatus.booked.value]),
        labels=STATUS_LABELS,
        reminders=REMINDER_LABELS,
        configured=any(w.profile.booking is not None for w in view.wards),
        message=message,
        cancelled=cancelled,
    )


@router.get("", response_class=HTMLResponse)
async def bookings_page(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    view: QueriedView,
    message: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _render(request, services, session, view, message=MESSAGES.get(message))


@router.get(".csv")
async def bookings_csv(services: ServicesDep, session: PageSession, view: QueriedView) -> Response:
    body = to_csv(_rows(services, view), view.ward_name)
    name = f"lich-hen-{view.first.isoformat()}-{view.days}-ngay.csv"
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
    access: PageWards,
    booking_id: int,
    status: Annotated[str, Form(pattern="^(served|no_show)$")],
    first: Annotated[date, Form(alias="date")],
    days: Annotated[int, Form(ge=1, le=MAX_DAYS)] = 3,
    ward: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    view = _view(services, access, ward, first, days)  # where to go back to, checked first
    booking = get_booking(services.db, booking_id)
    if booking is None:
        raise HTTPException(404, NO_BOOKING)
    check_visible(access, booking.oa_id, NO_BOOKING)
    marked = await _bookings(services).mark(
        booking_id, BookingStatus(status), staff=session.user.username, now=_now(services)
    )
    return RedirectResponse(_page_url(view, status if marked else "refused"), 303)


@router.post("/cancel-slot", response_class=HTMLResponse)
async def bookings_cancel_slot(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    access: PageWards,
    oa_id: Annotated[str, Form(min_length=1, max_length=64)],
    counter_id: Annotated[str, Form(min_length=1, max_length=64)],
    start: Annotated[datetime, Form()],
    reason: Annotated[str, Form(min_length=3, max_length=200)],
    first: Annotated[date, Form(alias="date")],
    days: Annotated[int, Form(ge=1, le=MAX_DAYS)] = 3,
    ward: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_visible(access, oa_id, NO_COUNTER)  # another ward's slot: as if it did not exist
    view = _view(services, access, ward, first, days)
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
            catalogue=_catalogue_of(services, access)(oa_id),
        )
    except LookupError as exc:
        raise HTTPException(404, NO_COUNTER) from exc
    text = f"Đã hủy khung giờ: {done.cancelled} lịch hẹn bị hủy, {done.told} người dân đã được báo"
    if done.not_told:
        text += f"; {done.not_told} người chưa nhận được tin (Zalo từ chối), cần gọi điện báo"
    return _render(request, services, session, view, cancelled=text + ".")
