"""Office hours: is the ward open at a given moment, when does it next open, and how to say so.

Times are compared in the ward's own timezone, whatever timezone `now` arrives in. The public
holidays on fixed solar dates are closed; the lunar ones (Tết, Giỗ Tổ) and the days added to them
are announced each year, so they are not computed here and count as ordinary days.
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

FIXED_HOLIDAYS: dict[tuple[int, int], str] = {
    # (day, month): name. Bộ luật Lao động 2019, Điều 112: the solar-calendar public holidays.
    # Tết Nguyên đán, Giỗ Tổ Hùng Vương and the day next to 2/9 follow the lunar calendar or the
    # Prime Minister's yearly decision: the answers say "as announced" for those.
    (1, 1): "Tết Dương lịch",
    (30, 4): "Ngày Chiến thắng (30/4)",
    (1, 5): "Ngày Quốc tế Lao động (1/5)",
    (2, 9): "Quốc khánh (2/9)",
}


def fixed_holiday(day: date) -> str | None:
    """The name of the public holiday on `day` when it falls on a fixed solar date."""
    return FIXED_HOLIDAYS.get((day.day, day.month))


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
    return is_open_at(ward, local.date(), local.time())


def is_open_at(ward: WardProfile, day: date, moment: time) -> bool:
    """True when the office is open on `day` (in the ward's calendar) at `moment`."""
    if fixed_holiday(day) is not None:
        return False
    return any(opens <= moment < closes for opens, closes in opening_periods(ward, day))


def opening_periods(ward: WardProfile, day: date) -> list[Interval]:
    """The periods the office is open on `day`: none on a fixed public holiday."""
    if fixed_holiday(day) is not None:
        return []
    return _intervals(ward, WEEKDAYS[day.weekday()])


def next_opening(ward: WardProfile, now: datetime) -> datetime | None:
    """The next time the office opens strictly after `now`, in the ward's timezone.

    When the office is open at `now` this is the start of its next period (e.g. 13:30 after the
    lunch break). None only if no period starts within two weeks, which a valid profile rules out.
    """
    local = _local(ward, now)
    zone = _zone(ward)
    for offset in range(_SEARCH_DAYS + 1):
        day: date = local.date() + timedelta(days=offset)
        for opens, _closes in opening_periods(ward, day):
            start = datetime.combine(day, opens, tzinfo=zone)
            if start > local:
                return start
    return None


def clock(value: time) -> str:
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
            periods = ", ".join(f"{clock(o)}–{clock(c)}" for o, c in run_hours)
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
    said = f"{clock(opening.time())} {_part_of_day(opening.time())}"
    days_ahead = (opening.date() - today).days
    if days_ahead == 0:
        return f"{said} nay"
    if days_ahead == 1:
        return f"{said} mai"
    day_name = DAY_NAMES[WEEKDAYS[opening.weekday()]]
    return f"{said} {day_name} ({opening.day:02d}/{opening.month:02d})"


def next_opening_phrase(ward: WardProfile, now: datetime) -> str | None:
    """describe_opening(next_opening(...)), or None when there is no next opening."""
    opening = next_opening(ward, now)
    return describe_opening(opening, now) if opening is not None else None
