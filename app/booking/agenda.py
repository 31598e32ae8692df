"""Staff's view of the bookings: one row per booking, by day, slot and counter, as the console
page, its CSV export and `wardbot bookings list` show them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from app.booking import calendar
from app.booking.dialogue import booking_code
from app.catalogue.models import Catalogue
from app.storage import bookings as store
from app.storage.database import Database, as_utc

STATUS_LABELS = {
    "booked": "Đã đặt",
    "served": "Đã phục vụ",
    "no_show": "Vắng mặt",
    "cancelled": "Người dân đã hủy",
    "cancelled_by_ward": "Phường đã hủy",
}
REMINDER_LABELS = {
    None: "",
    "sending": "Đang gửi nhắc",
    "sent": "Đã nhắc",
    "held": "Chờ kết nối Zalo",
    "failed": "Zalo từ chối",
}


@dataclass(frozen=True)
class AgendaRow:
    booking_id: int
    code: str
    oa_id: str
    day: str
    """YYYY-MM-DD, the ward's calendar."""
    time: str
    """HH:MM–HH:MM."""
    start: str
    """ISO, UTC: identifies the slot."""
    counter_id: str
    counter: str
    procedure_code: str | None
    procedure: str | None
    user_id: str
    status: str
    reminder: str | None
    reminder_reason: str | None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _aware(moment: datetime) -> datetime:
    value = as_utc(moment)
    assert value is not None
    return value


def agenda(
    db: Database,
    catalogue: Catalogue,
    first: date,
    days: int,
    oa_ids: Collection[str] | None = None,
    catalogue_of: Callable[[str], Catalogue] | None = None,
) -> list[AgendaRow]:
    """Every booking of `days` days from `first` (`catalogue`'s ward calendar), by slot and
    counter, of the given wards' OAs (None: every OA). `catalogue_of` gives a booking's own
    ward (its counters, its calendar) when several wards are listed."""
    zone = calendar.zone(catalogue.ward)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = start + timedelta(days=days)
    rows = []
    for booking in store.bookings_between(db, start, end, oa_ids):
        assert booking.id is not None
        own = catalogue_of(booking.oa_id) if catalogue_of is not None else catalogue
        ward = own.ward
        begins = calendar.local(ward, _aware(booking.slot_start))
        ends = calendar.local(ward, _aware(booking.slot_end))
        counter = ward.booking.counter(booking.counter_id) if ward.booking else None
        proc = own.procedure(booking.procedure_code) if booking.procedure_code else None
        rows.append(
            AgendaRow(
                booking_id=booking.id,
                code=booking_code(booking.id),
                oa_id=booking.oa_id,
                day=begins.date().isoformat(),
                time=f"{begins:%H:%M}–{ends:%H:%M}",
                start=_aware(booking.slot_start).isoformat(),
                counter_id=booking.counter_id,
                counter=counter.name if counter else booking.counter_id,
                procedure_code=booking.procedure_code,
                procedure=proc.short_name if proc else None,
                user_id=booking.user_id,
                status=booking.status,
                reminder=booking.reminder_status,
                reminder_reason=booking.reminder_reason,
            )
        )
    return sorted(rows, key=lambda r: (r.start, r.counter_id, r.booking_id))


CSV_COLUMNS = (
    ("code", "Mã lịch hẹn"),
    ("day", "Ngày"),
    ("time", "Giờ"),
    ("counter", "Quầy"),
    ("procedure_code", "Mã thủ tục"),
    ("procedure", "Thủ tục"),
    ("user_id", "Mã người dân (Zalo)"),
    ("status", "Trạng thái"),
    ("reminder", "Nhắc lịch"),
)


def to_csv(rows: Sequence[AgendaRow], ward_name: Callable[[str], str] | None = None) -> str:
    """UTF-8 with a BOM, so spreadsheet programs read the Vietnamese right. With `ward_name`
    (several wards listed), a first column names each booking's ward."""
    out = io.StringIO()
    writer = csv.writer(out)
    ward_label = ["Phường/xã"] if ward_name is not None else []
    writer.writerow(ward_label + [label for _, label in CSV_COLUMNS])
    for row in rows:
        values = row.to_json()
        values["status"] = STATUS_LABELS.get(row.status, row.status)
        values["reminder"] = REMINDER_LABELS.get(row.reminder, row.reminder or "")
        ward = [ward_name(row.oa_id)] if ward_name is not None else []
        writer.writerow(
            ward + ["" if values[key] is None else values[key] for key, _ in CSV_COLUMNS]
        )
    return "\ufeff" + out.getvalue()
