"""The slots residents may book: pure functions of a ward's profile, the time, and what is taken.

A day is bookable when the office opens (office_hours), it is not a fixed public holiday nor one
of the profile's `booking.holidays`, and it lies within the horizon: today and the next
`horizon_days` working days. A slot is a `slot_minutes` piece of an opening period; it may be
booked until `lead_minutes` before it starts, while it is not closed by staff and has room.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from app.catalogue.models import (
    BookingConfig,
    BookingCounter,
    HandledBy,
    Procedure,
    WardProfile,
)
from app.dialogue.hours import opening_periods

MAX_SEARCH_DAYS = 90
"""How far the calendar looks for `horizon_days` working days (a long Tết break included)."""


@dataclass(frozen=True)
class Slot:
    counter_id: str
    start: datetime
    """Timezone-aware, in the ward's timezone."""
    end: datetime

    @property
    def key(self) -> tuple[str, datetime]:
        """How storage knows the slot: the counter and the start in UTC."""
        return self.counter_id, self.start.astimezone(UTC)

    @property
    def day(self) -> date:
        return self.start.date()


@dataclass(frozen=True)
class Taken:
    """What storage says about a range of slots."""

    counts: Mapping[tuple[str, datetime], int]
    """Live bookings per (counter, UTC start)."""
    closed: Collection[tuple[str, datetime]] = ()
    """Slots staff closed, as (counter, UTC start)."""

    def free(self, slot: Slot, capacity: int) -> int:
        if slot.key in self.closed:
            return 0
        return max(0, capacity - self.counts.get(slot.key, 0))


def zone(ward: WardProfile) -> tzinfo:
    return ZoneInfo(ward.timezone)


def local(ward: WardProfile, moment: datetime) -> datetime:
    return moment.astimezone(zone(ward))


def config(ward: WardProfile) -> BookingConfig:
    if ward.booking is None:
        raise ValueError("the ward profile has no booking section")
    return ward.booking


def counter_for(ward: WardProfile, procedure: Procedure | None) -> BookingCounter | None:
    """The counter a procedure is booked at: the first that lists it (by code, category or
    field), else the general counter when the one-stop centre handles it. Without a procedure,
    the general counter. None: not bookable here."""
    if ward.booking is None:
        return None
    general = next((c for c in ward.booking.counters if c.general), None)
    if procedure is None:
        return general
    for counter in ward.booking.counters:
        if (
            procedure.code in counter.procedures
            or procedure.category in counter.categories
            or procedure.field in counter.fields
        ):
            return counter
    return general if procedure.handled_by is HandledBy.one_stop else None


def is_closed_day(ward: WardProfile, day: date) -> bool:
    """No bookings: the office does not open (weekend, fixed public holiday) or the profile
    lists the day as a holiday."""
    holidays = ward.booking.holidays if ward.booking else ()
    return day in holidays or not opening_periods(ward, day)


def horizon(ward: WardProfile, now: datetime) -> list[date]:
    """Today and the next `horizon_days` working days, in the ward's calendar."""
    today = local(ward, now).date()
    days = [today] if not is_closed_day(ward, today) else []
    wanted, found = config(ward).horizon_days, 0
    for offset in range(1, MAX_SEARCH_DAYS):
        if found >= wanted:
            break
        day = today + timedelta(days=offset)
        if not is_closed_day(ward, day):
            days.append(day)
            found += 1
    return days


def day_slots(ward: WardProfile, counter_id: str, day: date) -> list[Slot]:
    """Every slot of a counter on a day, whatever is booked (none on a closed day)."""
    if is_closed_day(ward, day):
        return []
    length = timedelta(minutes=config(ward).slot_minutes)
    where = zone(ward)
    slots: list[Slot] = []
    for opens, closes in opening_periods(ward, day):
        start = datetime.combine(day, opens, tzinfo=where)
        last = datetime.combine(day, closes, tzinfo=where)
        while start + length <= last:
            slots.append(Slot(counter_id, start, start + length))
            start += length
    return slots


def bookable(ward: WardProfile, slot: Slot, now: datetime) -> bool:
    """Early enough: at least `lead_minutes` before the slot starts."""
    return slot.start - now >= timedelta(minutes=config(ward).lead_minutes)


def open_slots(
    ward: WardProfile, counter_id: str, day: date, now: datetime, taken: Taken
) -> list[Slot]:
    """The slots of a day a resident may book now: early enough, not closed, with room."""
    capacity = config(ward).capacity
    return [
        slot
        for slot in day_slots(ward, counter_id, day)
        if bookable(ward, slot, now) and taken.free(slot, capacity) > 0
    ]


def open_days(
    ward: WardProfile,
    counter_id: str,
    now: datetime,
    taken: Taken,
    *,
    excluded: Collection[date] = (),
) -> list[date]:
    """The days of the horizon with a slot left, except `excluded` (the resident already has a
    visit booked that day)."""
    return [
        day
        for day in horizon(ward, now)
        if day not in excluded and open_slots(ward, counter_id, day, now, taken)
    ]


def all_open_slots(
    ward: WardProfile,
    counter_id: str,
    now: datetime,
    taken: Taken,
    *,
    excluded: Collection[date] = (),
) -> Iterator[Slot]:
    for day in horizon(ward, now):
        if day not in excluded:
            yield from open_slots(ward, counter_id, day, now, taken)


def nearest_slots(
    ward: WardProfile,
    counter_id: str,
    around: datetime,
    now: datetime,
    taken: Taken,
    *,
    limit: int,
    excluded: Collection[date] = (),
    skip: Collection[tuple[str, datetime]] = (),
) -> list[Slot]:
    """The open slots closest in time to `around` (the one a resident could not have), in
    order of time."""
    candidates = [
        s
        for s in all_open_slots(ward, counter_id, now, taken, excluded=excluded)
        if s.key not in skip
    ]
    closest = sorted(candidates, key=lambda s: (abs(s.start - around), s.start))[:limit]
    return sorted(closest, key=lambda s: s.start)


def range_of(ward: WardProfile, now: datetime) -> tuple[datetime, datetime]:
    """The UTC range of every slot of the horizon (what storage is asked about)."""
    days = horizon(ward, now)
    first = days[0] if days else local(ward, now).date()
    last = days[-1] if days else first
    where = zone(ward)
    start = datetime.combine(first, datetime.min.time(), tzinfo=where)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=where)
    return start.astimezone(UTC), end.astimezone(UTC)


def slot_at(ward: WardProfile, counter_id: str, start: datetime) -> Slot | None:
    """The counter's slot starting at `start` (any timezone), if the calendar has one."""
    moment = local(ward, start)
    return next((s for s in day_slots(ward, counter_id, moment.date()) if s.start == moment), None)
