"""/console/bookings: the day's visits by slot and counter, served / no-show (and the hook the
rating prompt attaches to), CSV, and a staff cancellation telling the residents."""

from __future__ import annotations

import csv
import io

import pytest

from app.booking.dialogue import day_payload
from app.booking.service import VisitServed
from app.storage.bookings import get_booking
from app.storage.tables import BookingStatus
from tests.booking.conftest import Chat, day_after, payloads
from tests.web.console_support import log_in, make_staff

pytestmark = pytest.mark.anyio
AN, BINH = "resident-an", "resident-binh"


async def book(chat: Chat, user: str, day_offset: int = 1, slot: int = 0) -> str:
    await chat.says_one(user, "đặt lịch khai sinh")
    times = await chat.says_one(user, day_payload(day_after(day_offset)))
    summary = await chat.says_one(user, payloads(times)[slot])
    done = await chat.taps(user, summary, "Xác nhận")
    return done.text.split("Mã lịch hẹn: ", 1)[1].split("\n", 1)[0]


async def test_the_page_needs_a_signed_in_staff_member(chat: Chat) -> None:
    client = chat.running.client
    page = await client.get("/console/bookings")
    assert page.status_code == 303 and "/console/login" in page.headers["location"]
    assert (await client.get("/console/bookings.csv")).status_code == 303
    make_staff(chat.running.services.db)
    await log_in(client, "canbo")
    refused = await client.post(
        "/console/bookings/1/mark", data={"status": "served", "date": "2027-03-02"}
    )
    assert refused.status_code == 403  # no CSRF token


async def test_slots_by_counter_marks_and_csv(chat: Chat) -> None:
    first = await book(chat, AN)
    second = await book(chat, BINH, slot=1)
    heard: list[VisitServed] = []

    async def rating_prompt(visit: VisitServed) -> None:
        heard.append(visit)

    chat.bookings.served_listeners.append(rating_prompt)
    make_staff(chat.running.services.db)
    csrf = await log_in(chat.running.client, "canbo")
    day = day_after(1).isoformat()
    page = await chat.running.client.get(f"/console/bookings?date={day}&days=1")
    assert page.status_code == 200
    assert "07:30–08:00 · Quầy 1 – Hộ tịch" in page.text
    assert "08:00–08:30 · Quầy 1 – Hộ tịch" in page.text
    assert first in page.text and second in page.text and 'id="live">2<' in page.text

    marked = await chat.running.client.post(
        "/console/bookings/1/mark",
        data={"csrf_token": csrf, "status": "served", "date": day, "days": "1"},
    )
    assert marked.status_code == 303
    page = await chat.running.client.get(marked.headers["location"])
    assert "người dân đã được phục vụ" in page.text
    await chat.running.client.post(
        "/console/bookings/2/mark",
        data={"csrf_token": csrf, "status": "no_show", "date": day, "days": "1"},
    )
    one, two = get_booking(chat.running.services.db, 1), get_booking(chat.running.services.db, 2)
    assert one is not None and one.status == BookingStatus.served and one.marked_by == "canbo"
    assert two is not None and two.status == BookingStatus.no_show
    assert [(v.code, v.user_id, v.procedure_code) for v in heard] == [(first, AN, "1.001193")]
    # The served visit is rated: the resident is asked once, with the five score buttons.
    asked = [m for m in chat.fake.sent_messages if m.user_id == AN and "từ 1 sao" in m.text]
    (question,) = asked
    assert first in question.text
    assert payloads(question) == [f"Đánh giá {n} sao {first}" for n in range(1, 6)]
    assert not [m for m in chat.fake.sent_messages if m.user_id == BINH and "từ 1 sao" in m.text]

    exported = await chat.running.client.get(f"/console/bookings.csv?date={day}&days=1")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][0] == "Mã lịch hẹn"
    assert [(r[0], r[2], r[7]) for r in rows[1:]] == [
        (first, "07:30–08:00", "Đã phục vụ"),
        (second, "08:00–08:30", "Vắng mặt"),
    ]


async def test_a_staff_cancellation_tells_the_residents_and_offers_other_slots(
    chat: Chat,
) -> None:
    codes = [await book(chat, user) for user in (AN, BINH)]
    untouched = await book(chat, "resident-chi", slot=2)
    make_staff(chat.running.services.db)
    csrf = await log_in(chat.running.client, "canbo")
    day = day_after(1).isoformat()
    page = await chat.running.client.get(f"/console/bookings?date={day}&days=1")
    start = page.text.split('name="start" value="', 1)[1].split('"', 1)[0]
    before = len(chat.fake.sent_messages)
    done = await chat.running.client.post(
        "/console/bookings/cancel-slot",
        data={
            "csrf_token": csrf,
            "oa_id": "388613280878808645",
            "counter_id": "ho-tich",
            "start": start,
            "reason": "cán bộ tiếp nhận nghỉ ốm",
            "date": day,
            "days": "1",
        },
    )
    assert done.status_code == 200
    assert "2 lịch hẹn bị hủy, 2 người dân đã được báo" in done.text
    told = {m.user_id: m for m in chat.fake.sent_messages[before:]}
    assert set(told) == {AN, BINH}
    for user, code in zip((AN, BINH), codes, strict=True):
        message = told[user]
        assert code in message.text and "cán bộ tiếp nhận nghỉ ốm" in message.text
        assert len(message.buttons) <= 5
        offered = payloads(message)
        assert offered[0].startswith("Đặt lịch lúc") and offered[-1] == "Đặt lịch"
        assert not any("07:30 ngày" in p for p in offered)  # not the cancelled slot
    remaining = get_booking(chat.running.services.db, 3)
    assert remaining is not None and remaining.status == BookingStatus.booked
    assert untouched == "LH-00003"

    # "Chọn ngày khác" stays with the counter of the cancelled visit.
    other_days = await chat.taps(BINH, told[BINH], "Chọn ngày khác")
    assert "Quầy 1 – Hộ tịch" in other_days.text
    # The resident takes an offered slot straight from the message.
    summary = await chat.says_one(AN, payloads(told[AN])[0])
    rebooked = await chat.taps(AN, summary, "Xác nhận")
    assert "LH-00004" in rebooked.text
    # Nobody can book the cancelled slot again.
    await chat.says_one("resident-dung", "đặt lịch khai sinh")
    times = await chat.says_one("resident-dung", day_payload(day_after(1)))
    assert "07:30" not in [b["title"] for b in times.buttons]
