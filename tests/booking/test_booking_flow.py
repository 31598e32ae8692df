"""Booking a visit through the webhook, with the fake Zalo: book, "lịch hẹn của tôi",
reschedule, cancel, days not offered, two residents for the last place."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from app.booking import calendar
from app.booking.dialogue import day_payload
from app.dialogue.reply import MAX_BUTTONS, MESSAGE_LIMIT
from app.storage.bookings import bookings_between, get_booking
from app.storage.tables import BookingStatus
from tests.booking.conftest import (
    NOW,
    WARD_TIME,
    Chat,
    day_after,
    payloads,
    procedures_with,
    titles,
)
from tests.conftest import make_settings, start_app
from tests.support.fake_zalo import FakeMessage, FakeZalo
from tests.support.webhook import OA_ID

pytestmark = pytest.mark.anyio
AN, BINH = "resident-an", "resident-binh"
BIRTH = "1.001193"


def within_limits(message: FakeMessage) -> None:
    assert len(message.text) <= MESSAGE_LIMIT
    assert len(message.buttons) <= MAX_BUTTONS
    assert all(len(str(b["title"])) <= 20 for b in message.buttons)


async def all_days(chat: Chat, user: str, first: FakeMessage) -> list[str]:
    """Every day button, following "Ngày khác" to the end."""
    message, found = first, []
    while True:
        within_limits(message)
        found += [p for p in payloads(message) if p.startswith("Đặt lịch ngày")]
        if "Ngày khác" not in titles(message):
            return found
        message = await chat.taps(user, message, "Ngày khác")


async def book_first(chat: Chat, user: str, opening: str) -> FakeMessage:
    days = await chat.says_one(user, opening)
    times = await chat.says_one(user, payloads(days)[0])
    summary = await chat.says_one(user, payloads(times)[0])
    return await chat.taps(user, summary, "Xác nhận")


async def test_book_a_visit_for_a_procedure_named_in_the_message(chat: Chat) -> None:
    days = await chat.says_one(AN, "đặt lịch hẹn nộp hồ sơ khai sinh")
    within_limits(days)
    assert "Quầy 1 – Hộ tịch" in days.text and "khai sinh" in days.text.lower()
    # Monday 08:00: today still has slots after the lead time.
    assert titles(days)[0] == "Hôm nay 01/03" and titles(days)[1] == "Ngày mai 02/03"

    times = await chat.says_one(AN, payloads(days)[1])
    within_limits(times)
    assert titles(times)[0] == "07:30" and "02/03/2027" in times.text
    summary = await chat.says_one(AN, payloads(times)[0])
    assert "07:30–08:00" in summary.text and "Quầy 1 – Hộ tịch" in summary.text
    done = await chat.taps(AN, summary, "Xác nhận")
    within_limits(done)

    assert "LH-00001" in done.text and "07:30–08:00, Thứ Ba 02/03/2027" in done.text
    assert chat.catalogue.ward.address in done.text
    birth = chat.catalogue.procedure(BIRTH)
    assert birth is not None and birth.plain is not None
    first_document = birth.plain.documents[0] if birth.plain.documents else None
    if first_document:
        assert first_document[:30] in done.text
    booking = get_booking(chat.running.services.db, 1)
    assert booking is not None
    assert (booking.oa_id, booking.user_id, booking.procedure_code) == (OA_ID, AN, BIRTH)
    assert booking.counter_id == "ho-tich" and booking.status == BookingStatus.booked


async def test_the_booking_button_of_a_procedure_card(chat: Chat) -> None:
    card = await chat.says_one(AN, "làm giấy khai sinh")
    assert "Đặt lịch" in titles(card)
    days = await chat.taps(AN, card, "Đặt lịch")
    assert "Quầy 1 – Hộ tịch" in days.text
    # "đặt lịch" right after the card books for the procedure just read.
    again = await chat.says_one(AN, "đặt lịch")
    assert "Quầy 1 – Hộ tịch" in again.text


async def test_a_procedure_without_a_document_list_says_to_call(chat: Chat) -> None:
    unknown = next(
        p
        for p in chat.catalogue.procedures
        if p.plain is None
        and not p.documents.known
        and calendar.counter_for(chat.catalogue.ward, p) is not None
    )
    done = await book_first(chat, AN, f"đặt lịch {unknown.short_name}")
    assert "LH-00001" in done.text
    assert "chưa có danh sách giấy tờ chính thức" in done.text and "gọi" in done.text


async def test_police_procedures_are_not_booked_here(chat: Chat) -> None:
    police = next(p for p in chat.catalogue.procedures if p.handled_by.value == "police")
    reply = await chat.says_one(AN, f"đặt lịch {police.short_name}")
    assert "Công an" in reply.text and not any(
        p.startswith("Đặt lịch ngày") for p in payloads(reply)
    )


async def test_my_bookings_reschedule_and_cancel(chat: Chat) -> None:
    await book_first(chat, AN, "đặt lịch khai sinh")
    mine = await chat.says_one(AN, "lịch hẹn của tôi")
    assert "LH-00001" in mine.text and "09:00–09:30, Thứ Hai 01/03/2027" in mine.text
    assert "Đổi lịch LH-00001" in titles(mine) and "Hủy lịch LH-00001" in titles(mine)

    days = await chat.taps(AN, mine, "Đổi lịch LH-00001")
    times = await chat.says_one(AN, day_payload(day_after(3)))
    summary = await chat.says_one(AN, payloads(times)[1])
    assert "giờ mới của lịch hẹn LH-00001" in summary.text
    moved = await chat.taps(AN, summary, "Xác nhận")
    assert "đã đổi lịch hẹn LH-00001" in moved.text and "Thứ Năm 04/03/2027" in moved.text
    assert days.text
    booking = get_booking(chat.running.services.db, 1)
    assert booking is not None and booking.active_day == "2027-03-04"

    ask = await chat.says_one(AN, "hủy lịch")
    assert "chắc chắn muốn hủy lịch hẹn LH-00001" in ask.text
    done = await chat.taps(AN, ask, "Đồng ý hủy")
    assert "đã hủy lịch hẹn LH-00001" in done.text
    booking = get_booking(chat.running.services.db, 1)
    assert booking is not None and booking.status == BookingStatus.cancelled
    assert "chưa có lịch hẹn" in (await chat.says_one(AN, "lịch hẹn của tôi")).text


async def test_a_resident_with_a_visit_that_day_is_not_offered_it_again(chat: Chat) -> None:
    await book_first(chat, AN, "đặt lịch khai sinh")  # today
    offered = await all_days(chat, AN, await chat.says_one(AN, "đặt lịch chứng thực"))
    assert day_payload(day_after(0)) not in offered
    assert day_payload(day_after(1)) in offered


async def test_a_holiday_and_a_full_day_are_not_offered(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    holiday = day_after(2)
    procedures = procedures_with(tmp_path, holidays=f'["{holiday.isoformat()}"]')
    settings = make_settings(
        tmp_path, fake_zalo, procedures_path=procedures, booking_reminder_seconds=0
    )
    async for running in start_app(settings):
        chat = Chat(running, fake_zalo)
        full = day_after(3)
        chat.fill("ho-tich", full)
        chat.fill("ho-tich", day_after(4), leave=1)  # one place left in every slot
        offered = await all_days(chat, AN, await chat.says_one(AN, "đặt lịch khai sinh"))
        assert day_payload(holiday) not in offered
        assert day_payload(full) not in offered
        assert day_payload(day_after(4)) in offered
        assert len(offered) == 7  # today and 7 working days, less the full one
        # Another counter's day is not full.
        other = await all_days(chat, BINH, await chat.says_one(BINH, "đặt lịch chứng thực"))
        assert day_payload(full) in other and day_payload(holiday) not in other
        # Typed by hand, a full day says so and offers the others.
        typed = await chat.says_one(AN, day_payload(full))
        assert "không còn chỗ" in typed.text and day_payload(full) not in payloads(typed)


async def test_two_residents_take_the_last_place_exactly_one_wins(chat: Chat) -> None:
    day = day_after(1)
    chat.fill("ho-tich", day, leave=1)
    summaries = []
    for user in (AN, BINH):
        await chat.says_one(user, "đặt lịch khai sinh")
        times = await chat.says_one(user, day_payload(day))
        summaries.append(await chat.says_one(user, payloads(times)[0]))
    assert summaries[0].text == summaries[1].text  # both were offered the same last place

    before = len(chat.fake.sent_messages)
    from tests.support.webhook import text_event

    responses = await asyncio.gather(
        chat.running.webhook.post(text_event(AN, "Xác nhận đặt lịch")),
        chat.running.webhook.post(text_event(BINH, "Xác nhận đặt lịch")),
    )
    assert all(r.status_code == 200 for r in responses)
    await chat.running.settle()
    answers = {m.user_id: m for m in chat.fake.sent_messages[before:]}
    won = [u for u, m in answers.items() if "LH-" in m.text and "đã nhận lịch hẹn" in m.text]
    lost = [u for u, m in answers.items() if "vừa có người đặt hết chỗ" in m.text]
    assert len(won) == 1 and len(lost) == 1
    # The loser is offered the nearest free slots, and can take one.
    offer = answers[lost[0]]
    within_limits(offer)
    assert offer.buttons and all(p.startswith("Đặt lịch lúc") for p in payloads(offer)[:-1])
    summary = await chat.says_one(lost[0], payloads(offer)[0])
    assert "LH-" in (await chat.taps(lost[0], summary, "Xác nhận")).text
    start = calendar.day_slots(chat.catalogue.ward, "ho-tich", day)[0].start
    in_slot = [
        b
        for b in bookings_between(chat.running.services.db, start, start.replace(minute=31))
        if b.seat_no is not None
    ]
    assert len(in_slot) == 3  # the capacity, never more


async def test_a_day_typed_outside_the_horizon_and_an_old_button(chat: Chat) -> None:
    expired = await chat.says_one(AN, day_payload(date(2027, 3, 2)))
    assert "hết hạn" in expired.text
    await chat.says_one(AN, "đặt lịch khai sinh")
    far = await chat.says_one(AN, day_payload(date(2027, 6, 1)))
    assert "không còn chỗ hoặc không nhận đặt lịch" in far.text
    assert NOW.astimezone(WARD_TIME).date() == date(2027, 3, 1)
