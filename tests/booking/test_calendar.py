"""The booking calendar: days and slots offered, holidays and full days left out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.booking import calendar
from app.booking.calendar import Slot, Taken
from tests.booking.support import holidays, sample_catalogue, ward_with

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# Tuesday 1 December 2026, 09:00 in the ward.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=HANOI).astimezone(UTC)


def test_the_horizon_is_today_and_the_next_working_days() -> None:
    ward = ward_with(horizon_days=3)
    # Tue 1 (today), Wed 2, Thu 3, Fri 4: Saturday mornings open too.
    assert calendar.horizon(ward, NOW) == [date(2026, 12, d) for d in (1, 2, 3, 4)]
    ward = ward_with(horizon_days=5)
    days = calendar.horizon(ward, NOW)
    assert date(2026, 12, 5) in days  # Saturday morning
    assert date(2026, 12, 6) not in days  # Sunday: closed


def test_a_holiday_and_a_fixed_public_holiday_are_not_offered() -> None:
    ward = ward_with(holidays=holidays("2026-12-03"), horizon_days=3)
    assert date(2026, 12, 3) not in calendar.horizon(ward, NOW)
    assert date(2026, 12, 5) in calendar.horizon(ward, NOW)  # one more day to make three
    new_year = datetime(2026, 12, 31, 12, 0, tzinfo=HANOI)
    assert date(2027, 1, 1) not in calendar.horizon(ward, new_year)


def test_slots_follow_the_opening_periods_and_the_lead_time() -> None:
    ward = ward_with(slot_minutes=60, lead_minutes=60)
    slots = calendar.day_slots(ward, "ho-tich", date(2026, 12, 2))
    starts = [s.start.strftime("%H:%M") for s in slots]
    assert starts == ["07:30", "08:30", "09:30", "10:30", "13:30", "14:30", "15:30"]
    today = calendar.open_slots(ward, "ho-tich", date(2026, 12, 1), NOW, Taken({}))
    # 09:00 now: 09:30 is too soon, 10:30 is fine.
    assert [s.start.strftime("%H:%M") for s in today][:1] == ["10:30"]


def test_a_full_slot_and_a_full_day_are_not_offered() -> None:
    ward = ward_with(slot_minutes=60, capacity=2)
    day = date(2026, 12, 2)
    slots = calendar.day_slots(ward, "ho-tich", day)
    one_full = Taken({slots[0].key: 2})
    assert slots[0] not in calendar.open_slots(ward, "ho-tich", day, NOW, one_full)
    every = Taken({s.key: 2 for s in slots})
    assert day not in calendar.open_days(ward, "ho-tich", NOW, every)
    closed = Taken({}, closed={slots[1].key})
    assert slots[1] not in calendar.open_slots(ward, "ho-tich", day, NOW, closed)
    assert day not in calendar.open_days(ward, "ho-tich", NOW, Taken({}), excluded={day})


def test_nearest_slots_are_closest_in_time() -> None:
    ward = ward_with(slot_minutes=60)
    day = date(2026, 12, 2)
    slots = calendar.day_slots(ward, "ho-tich", day)
    taken = Taken({slots[2].key: 99})
    near = calendar.nearest_slots(
        ward, "ho-tich", slots[2].start, NOW, taken, limit=2, skip={slots[2].key}
    )
    assert near == [slots[1], slots[3]]


def test_procedures_go_to_their_counter() -> None:
    catalogue = sample_catalogue()
    ward = catalogue.ward
    birth = catalogue.procedure("1.001193")
    assert birth is not None
    counter = calendar.counter_for(ward, birth)
    assert counter is not None and counter.id == "ho-tich"
    general = calendar.counter_for(ward, None)
    assert general is not None and general.general
    police = next(p for p in catalogue.procedures if p.handled_by.value == "police")
    assert calendar.counter_for(ward, police) is None


def test_slot_keys_are_utc() -> None:
    start = datetime(2026, 12, 2, 7, 30, tzinfo=HANOI)
    slot = Slot("ho-tich", start, start + timedelta(minutes=30))
    assert slot.key == ("ho-tich", datetime(2026, 12, 2, 0, 30, tzinfo=UTC))
