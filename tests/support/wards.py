"""Two wards (the sample ward files in wards/) and one report, announcement and unanswered
question in each, and (fill_ward_services) one booking, dossier and rating in each: what the
staff-per-ward tests look at from either side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from app.booking.dialogue import booking_code
from app.storage import bookings
from app.storage.announcements import AnnouncementDraft, create_announcement
from app.storage.bookings import SeatRequest
from app.storage.database import Database
from app.storage.dossiers import follow, save_status
from app.storage.followers import touch_interaction
from app.storage.groups import set_membership
from app.storage.questions import record_unanswered, unanswered_since
from app.storage.ratings import add_request
from app.storage.reports import create_report
from app.storage.tables import Report, ServiceRating

ROOT = Path(__file__).resolve().parents[2]
OA_A = "1000000000000000001"
"""wards/phuong-mau-a.yaml: Phường Mẫu A, groups tdp-1 and tdp-2."""
OA_B = "1000000000000000002"
"""wards/xa-mau-b.yaml: Xã Mẫu B, groups thon-1 and thon-2."""
SLUG_A, SLUG_B = "phuong-mau-a", "xa-mau-b"


@dataclass(frozen=True)
class WardObjects:
    report_a: int
    report_b: int
    announcement_a: int
    announcement_b: int
    question_a: int
    question_b: int


BOOKING_SECTION = """\
  booking:
    counters:
    - {id: ho-tich, name: Quầy 1 – Hộ tịch, categories: [ho_tich]}
    - {id: chung, name: Quầy 2 – Các thủ tục khác}
    slot_minutes: 30
    capacity: 3
    holidays: []
    horizon_days: 7
    lead_minutes: 60
    reminder_hour: 18
"""
"""Counters for both sample wards (the sample files take no bookings): the same counter ids
in two wards, as a province will have."""


def copy_wards(tmp_path: Path, *, booking: bool = False) -> Path:
    """A private copy of the sample ward files (WARDBOT_WARDS); with `booking`, each ward
    takes bookings at BOOKING_SECTION's counters."""
    folder = tmp_path / "wards"
    folder.mkdir()
    for ward_file in (ROOT / "wards").glob("*.yaml"):
        text = ward_file.read_text(encoding="utf-8")
        if booking:
            text = text.replace("\nward:\n", "\nward:\n" + BOOKING_SECTION, 1)
        (folder / ward_file.name).write_text(text, encoding="utf-8")
    return folder


def fill_two_wards(db: Database) -> WardObjects:
    """In each ward: a resident in its first group, their report ("đèn hỏng ở a|b"), an
    announcement to that group ("thông báo a|b") and a question ("câu hỏi lạ a|b")."""
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    for name, oa_id, group in (("a", OA_A, "tdp-1"), ("b", OA_B, "thon-1")):
        resident = f"dan-{name}"
        report = create_report(db, Report(oa_id=oa_id, user_id=resident, what=f"đèn hỏng ở {name}"))
        assert report.id is not None
        ids[f"report_{name}"] = report.id
        touch_interaction(db, oa_id, resident, now)
        set_membership(db, oa_id, resident, group, now)
        ids[f"announcement_{name}"] = create_announcement(
            db, AnnouncementDraft(oa_id=oa_id, text=f"thông báo {name}", group_ids=(group,)), now
        )
        record_unanswered(
            db, oa_id=oa_id, user_id=resident, text=f"câu hỏi lạ {name}", kind="none",
            candidates=[],
        )  # fmt: skip
    questions = {q.oa_id: q.id for q in unanswered_since(db) if q.id is not None}
    return WardObjects(
        ids["report_a"],
        ids["report_b"],
        ids["announcement_a"],
        ids["announcement_b"],
        questions[OA_A],
        questions[OA_B],
    )


@dataclass(frozen=True)
class WardServices:
    """In each ward: a live booking at counter ho-tich, 09:00 on `day` (the same slot in both
    wards), a dossier with a follower, and a rating (5 in A, 2 in B) with a comment."""

    day: date
    slot_start: datetime
    booking_a: int
    booking_b: int
    code_a: str
    code_b: str
    dossier_a: str = "HS-A-0001"
    dossier_b: str = "HS-B-0001"


def fill_ward_services(db: Database) -> WardServices:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    # Far enough ahead that no reminder is due while a test runs.
    day = (datetime.now(zone) + timedelta(days=20)).date()
    start = datetime.combine(day, time(9, 0), tzinfo=zone)
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    for name, oa_id, score in (("a", OA_A, 5), ("b", OA_B, 2)):
        resident = f"dan-{name}"
        request = SeatRequest(
            oa_id, "ho-tich", start, start + timedelta(minutes=30), day.isoformat(), 3
        )
        booked = bookings.book(db, request, user_id=resident, procedure_code=None, now=now)
        assert booked.booking is not None and booked.booking.id is not None
        ids[name] = booked.booking.id
        code = f"HS-{name.upper()}-0001"
        follow(db, oa_id, code, resident, now)
        save_status(
            db, oa_id, code, state="processing", missing=None, pickup_date=None,
            procedure_code=None, updated_by="tiep-nhan", now=now,
        )  # fmt: skip
        add_request(
            db,
            ServiceRating(
                oa_id=oa_id, user_id=resident, subject_kind="visit",
                subject_ref=booking_code(ids[name]), counter="Quầy 1 – Hộ tịch",
                asked_at=now, score=score, rated_at=now, comment=f"góp ý {name}",
            ),
        )  # fmt: skip
    return WardServices(
        day, start, ids["a"], ids["b"], booking_code(ids["a"]), booking_code(ids["b"])
    )
