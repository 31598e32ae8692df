"""Office hours: open or closed at a moment, in the ward's timezone, and when it opens next."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.catalogue import Catalogue, WardProfile
from app.catalogue.models import OfficeSession, Weekday
from app.dialogue.hours import describe_opening, hours_lines, is_open, next_opening

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2025 in Vietnam: the 24th is a Monday, the 22nd a Saturday."""
    return datetime(2025, 11, day, hour, minute, tzinfo=VN)


@pytest.fixture
def ward(catalogue: Catalogue) -> WardProfile:
    return catalogue.ward


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(24, 9), True),  # Monday morning
        (vn(24, 7, 30), True),  # opening minute
        (vn(24, 7, 29), False),
        (vn(24, 11, 30), False),  # closing minute is closed
        (vn(24, 12), False),  # lunch break
        (vn(24, 13, 30), True),
        (vn(24, 16, 59), True),
        (vn(24, 17), False),
        (vn(28, 10), True),  # Friday
        (vn(22, 8), True),  # Saturday morning
        (vn(22, 14), False),  # Saturday afternoon
        (vn(23, 9), False),  # Sunday
        (vn(24, 20), False),  # Monday evening
    ],
)
def test_is_open_in_the_ward_timezone(ward: WardProfile, moment: datetime, expected: bool) -> None:
    assert is_open(ward, moment) is expected


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2025, 11, 24, 2, 0, tzinfo=UTC), True),  # 09:00 Monday in Vietnam
        (datetime(2025, 11, 24, 5, 0, tzinfo=UTC), False),  # 12:00, lunch
        (datetime(2025, 11, 22, 0, 45, tzinfo=UTC), True),  # 07:45 Saturday
        (datetime(2025, 11, 21, 23, 45, tzinfo=UTC), False),  # Friday in UTC, 06:45 Saturday
        (datetime(2025, 11, 23, 2, 0, tzinfo=UTC), False),  # Sunday 09:00
        (datetime(2025, 11, 24, 10, 30, tzinfo=UTC), False),  # 17:30 Monday
    ],
)
def test_is_open_converts_from_utc(ward: WardProfile, utc: datetime, expected: bool) -> None:
    assert is_open(ward, utc) is expected


def test_is_open_uses_the_ward_timezone_not_vietnam(ward: WardProfile) -> None:
    tokyo = ward.model_copy(update={"timezone": "Asia/Tokyo"})
    moment = datetime(2025, 11, 24, 0, 0, tzinfo=UTC)  # 07:00 in Vietnam, 09:00 in Tokyo
    assert not is_open(ward, moment)
    assert is_open(tokyo, moment)


def test_naive_datetimes_are_refused(ward: WardProfile) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(ward, datetime(2025, 11, 24, 9, 0))


def test_hours_lines_of_the_real_ward(ward: WardProfile) -> None:
    assert hours_lines(ward) == [
        "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00",
        "Thứ Bảy: 07:30–11:30",
    ]


def test_hours_lines_group_only_consecutive_days_with_the_same_hours(ward: WardProfile) -> None:
    sessions = (
        OfficeSession(days=(Weekday.sun, Weekday.sat), opens=time(8, 0), closes=time(11, 0)),
        OfficeSession(days=(Weekday.wed,), opens=time(13, 0), closes=time(16, 0)),
        OfficeSession(days=(Weekday.mon, Weekday.wed), opens=time(7, 0), closes=time(11, 0)),
        OfficeSession(days=(Weekday.thu, Weekday.tue), opens=time(7, 0), closes=time(11, 0)),
    )
    custom = ward.model_copy(update={"office_hours": sessions})
    assert hours_lines(custom) == [
        "Thứ Hai, Thứ Ba: 07:00–11:00",
        "Thứ Tư: 07:00–11:00, 13:00–16:00",
        "Thứ Năm: 07:00–11:00",
        "Thứ Bảy, Chủ nhật: 08:00–11:00",
    ]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(24, 6), vn(24, 7, 30)),  # before opening
        (vn(24, 9), vn(24, 13, 30)),  # open: the next period
        (vn(24, 7, 30), vn(24, 13, 30)),  # at opening time: strictly after
        (vn(24, 12), vn(24, 13, 30)),  # lunch
        (vn(24, 18), vn(25, 7, 30)),  # evening
        (vn(28, 18), vn(29, 7, 30)),  # Friday evening -> Saturday
        (vn(29, 12), datetime(2025, 12, 1, 7, 30, tzinfo=VN)),  # Saturday noon -> Monday
        (vn(23, 9), vn(24, 7, 30)),  # Sunday -> Monday
    ],
)
def test_next_opening(ward: WardProfile, moment: datetime, expected: datetime) -> None:
    opening = next_opening(ward, moment)
    assert opening == expected
    assert opening is not None and opening.utcoffset() == expected.utcoffset()


def test_next_opening_from_utc_is_given_in_ward_time(ward: WardProfile) -> None:
    opening = next_opening(ward, datetime(2025, 11, 23, 2, 0, tzinfo=UTC))  # Sunday 09:00
    assert opening is not None
    assert (opening.hour, opening.minute, opening.weekday()) == (7, 30, 0)
    assert opening.tzinfo is not None
    assert opening.utcoffset() == vn(24, 7, 30).utcoffset()


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(24, 12), "13:30 chiều nay"),
        (vn(24, 18), "07:30 sáng mai"),
        (vn(22, 12), "07:30 sáng Thứ Hai (24/11)"),
    ],
)
def test_describe_opening(ward: WardProfile, moment: datetime, expected: str) -> None:
    opening = next_opening(ward, moment)
    assert opening is not None
    assert describe_opening(opening, moment) == expected
