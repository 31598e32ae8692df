"""The specific question inside the contact and office-hours intents: a field's phone, the address,
the hours on a given day or at a given time."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.catalogue import Catalogue
from app.catalogue.models import Weekday
from app.dialogue.hours import fixed_holiday, is_open, next_opening
from app.dialogue.reply import ButtonKind
from app.dialogue.specifics import AskedWhen, asked_field, contact_reply, hours_reply, read_when

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=VN)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("số của chị bên hộ tịch", "ho_tich"),
        ("xin sdt cán bộ tư pháp", "ho_tich"),
        ("đt công an khu vực", "cong_an"),
        ("so dien thoai ben ho khau", "cong_an"),
        ("số cán bộ địa chính", "dia_chinh"),
        ("sdt ben chung thuc", "chung_thuc"),
        ("số bên quân sự phường", "quan_su"),
        ("số cán bộ phụ trách bảo trợ xã hội", "xa_hoi"),
        ("số điện thoại phường", None),
        ("hotline", None),
    ],
)
def test_asked_field_names_the_phone_line(catalogue: Catalogue, text: str, key: str | None) -> None:
    assert asked_field(text, catalogue) == key


def test_a_fields_phone_is_that_line_not_the_general_one(catalogue: Catalogue) -> None:
    reply = contact_reply("số của chị bên hộ tịch", catalogue)
    assert reply is not None
    line = catalogue.ward.contacts["ho_tich"]
    assert line.phone in reply.text.splitlines()[0]
    assert [b.kind for b in reply.buttons] == [ButtonKind.phone]
    assert reply.buttons[0].payload == line.dial


def test_the_police_line_comes_with_the_police_address(catalogue: Catalogue) -> None:
    reply = contact_reply("đt công an khu vực", catalogue)
    assert reply is not None
    assert catalogue.ward.contacts["cong_an"].phone in reply.text
    assert catalogue.ward.police.address in reply.text


def test_the_address_alone_when_only_the_place_is_asked(catalogue: Catalogue) -> None:
    reply = contact_reply("một cửa ở chỗ nào vậy", catalogue)
    assert reply is not None
    assert catalogue.ward.address in reply.text
    assert contact_reply("số điện thoại phường", catalogue) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thứ bảy có mở cửa không", AskedWhen(weekdays=(Weekday.sat,))),
        ("t7 co lam ko", AskedWhen(weekdays=(Weekday.sat,))),
        ("cuối tuần có làm không", AskedWhen(weekdays=(Weekday.sat, Weekday.sun))),
        ("12 giờ trưa còn nhận hồ sơ không", AskedWhen(moment=time(12, 0))),
        ("5h chiều còn làm không", AskedWhen(moment=time(17, 0))),
        ("7h30 sáng mở cửa chưa", AskedWhen(moment=time(7, 30))),
        ("30/4 có làm việc không", AskedWhen(day=date(2027, 4, 30))),
        ("hôm nay có làm không", AskedWhen(day=date(2026, 12, 2))),
        ("Tết nghỉ đến mùng mấy", AskedWhen(lunar_holiday=True)),
        ("ngày lễ có làm không", AskedWhen(any_holiday=True)),
        ("buổi trưa có nhận hồ sơ không", AskedWhen(part="trua")),
        ("giờ làm việc", None),
        ("mấy giờ mở cửa", None),
    ],
)
def test_read_when(text: str, expected: AskedWhen | None) -> None:
    assert read_when(text, date(2026, 12, 2)) == expected


def first_line(text: str, catalogue: Catalogue, now: datetime = WEDNESDAY) -> str:
    reply = hours_reply(text, catalogue, now)
    assert reply is not None
    return reply.text.split("\n\n")[0]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("12 giờ trưa còn nhận hồ sơ không", "không làm việc"),
        ("9h sáng có làm không", "có làm việc"),
        ("thứ bảy có mở cửa không", "Thứ Bảy Phường Mẫu làm việc 07:30–11:30"),
        ("chiều thứ 7 có làm không", "không làm việc"),
        ("chủ nhật có làm không", "Chủ nhật Phường Mẫu nghỉ"),
        ("30/4 có làm việc không", "nghỉ lễ"),
        ("2/9 có làm không", "Quốc khánh"),
        ("Tết nghỉ đến mùng mấy", "công bố"),
        ("20/10 có làm không", "làm việc 07:30–11:30, 13:30–17:00"),
    ],
)
def test_hours_reply_says_whether_open_then(catalogue: Catalogue, text: str, says: str) -> None:
    assert says in first_line(text, catalogue)


def test_hours_reply_lists_the_hours_and_offers_a_call(catalogue: Catalogue) -> None:
    reply = hours_reply("thứ bảy có mở cửa không", catalogue, WEDNESDAY)
    assert reply is not None
    assert "Thứ Hai – Thứ Sáu" in reply.text
    assert [b.kind for b in reply.buttons] == [ButtonKind.phone]
    assert hours_reply("giờ làm việc", catalogue, WEDNESDAY) is None


def test_fixed_holidays_are_closed(catalogue: Catalogue) -> None:
    ward = catalogue.ward
    assert fixed_holiday(date(2027, 4, 30)) is not None
    assert fixed_holiday(date(2027, 4, 29)) is None
    thursday_30_april = datetime(2026, 4, 30, 9, 0, tzinfo=VN)
    assert not is_open(ward, thursday_30_april)
    # 1/5 is a Friday too: the office opens again on Saturday morning.
    assert next_opening(ward, thursday_30_april) == datetime(2026, 5, 2, 7, 30, tzinfo=VN)
