"""Office hours: is the ward open at a given moment, when does it next open, and how to say so.

Times are compared in the ward's own timezone, whatever timezone `now` arrives in. Public holidays
are not in the catalogue, so a holiday on a working day still counts as open.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from app.catalogue.models import WardProfile, Weekday

WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)
"""Monday first, matching `datetime.weekday()`."""

DAY_NAMES: dict[Weekday, str] = {
    Weekday.mon: "Thứ Hai",
    Weekday.tue: "Thứ Ba",
    Weekday.wed: "Thứ Tư",
    Weekday.thu: "Thứ Năm",
    Weekday.fri: "Thứ Sáu",
    Weekday.sat: "Thứ Bảy",
    Weekday.sun: "Chủ nhật",
}

_SEARCH_DAYS = 14
"""How far ahead next_opening looks; any valid profile opens at least once a week."""

Interval = tuple[time, time]


def _zone(ward: WardProfile) -> tzinfo:
    return ZoneInfo(ward.timezone)


def _local(ward: WardProfile, now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(_zone(ward))


def _intervals(ward: WardProfile, day: Weekday) -> list[Interval]:
    """The opening periods of one weekday, sorted and without repeats."""
    found = {(s.opens, s.closes) for s in ward.office_hours if day in s.days}
    return sorted(found)


def is_open(ward: WardProfile, now: datetime) -> bool:
    """True when `now` (timezone-aware) falls inside one of the ward's opening periods."""
    local = _local(ward, now)
    moment = local.time()
    day = WEEKDAYS[local.weekday()]
    return any(opens <= moment < closes for opens, closes in _intervals(ward, day))


def next_opening(ward: WardProfile, now: datetime) -> datetime | None:
    """The next time the office opens strictly after `now`, in the ward's timezone.

    When the office is open at `now` this is the start of its next period (e.g. 13:30 after the
    lunch break). None only if no period starts within two weeks, which a valid profile rules out.
    """
    local = _local(ward, now)
    zone = _zone(ward)
    for offset in range(_SEARCH_DAYS + 1):
        day: date = local.date() + timedelta(days=offset)
        for opens, _closes in _intervals(ward, WEEKDAYS[day.weekday()]):
            start = datetime.combine(day, opens, tzinfo=zone)
            if start > local:
                return start
    return None


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def _day_run(days: list[Weekday]) -> str:
    if len(days) >= 3:
        return f"{DAY_NAMES[days[0]]} – {DAY_NAMES[days[-1]]}"
    return ", ".join(DAY_NAMES[d] for d in days)


def hours_lines(ward: WardProfile) -> list[str]:
    """The opening hours as short lines, consecutive days with the same hours grouped.

    e.g. ["Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00", "Thứ Bảy: 07:30–11:30"]. Closed days
    are left out (the ward's `office_hours_note` says so in its own words).
    """
    lines: list[str] = []
    run: list[Weekday] = []
    run_hours: list[Interval] = []
    for day in (*WEEKDAYS, None):
        hours = _intervals(ward, day) if day is not None else []
        if day is not None and run and hours == run_hours:
            run.append(day)
            continue
        if run and run_hours:
            periods = ", ".join(f"{_clock(o)}–{_clock(c)}" for o, c in run_hours)
            lines.append(f"{_day_run(run)}: {periods}")
        run = [day] if day is not None else []
        run_hours = hours
    return lines


def _part_of_day(value: time) -> str:
    if value.hour < 11:
        return "sáng"
    if value.hour < 13:
        return "trưa"
    if value.hour < 18:
        return "chiều"
    return "tối"


def describe_opening(opening: datetime, now: datetime) -> str:
    """How a resident would say when the office opens, e.g. "07:30 sáng mai" or
    "07:30 sáng Thứ Hai (24/11)". `opening` is in the ward's timezone (as next_opening returns)."""
    if opening.tzinfo is None or now.tzinfo is None:
        raise ValueError("opening and now must be timezone-aware")
    today = now.astimezone(opening.tzinfo).date()
    clock = f"{_clock(opening.time())} {_part_of_day(opening.time())}"
    days_ahead = (opening.date() - today).days
    if days_ahead == 0:
        return f"{clock} nay"
    if days_ahead == 1:
        return f"{clock} mai"
    day_name = DAY_NAMES[WEEKDAYS[opening.weekday()]]
    return f"{clock} {day_name} ({opening.day:02d}/{opening.month:02d})"


def next_opening_phrase(ward: WardProfile, now: datetime) -> str | None:
    """describe_opening(next_opening(...)), or None when there is no next opening."""
    opening = next_opening(ward, now)
    return describe_opening(opening, now) if opening is not None else None
