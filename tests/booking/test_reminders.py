"""The evening-before reminder, on a fake clock: sent once (across two workers and a second
round), refused by Zalo and recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.jobs.booking_reminders import BookingReminders
from app.storage.bookings import get_booking
from app.storage.tables import OutboundPurpose, ReminderStatus
from tests.booking.conftest import WARD_TIME, Chat, day_after, payloads
from tests.support.fake_zalo import MESSAGE_CS_PATH

pytestmark = pytest.mark.anyio
AN, BINH = "resident-an", "resident-binh"


def at(hour: int, minute: int = 0) -> datetime:
    """Today (Monday 1 March 2027) at this ward time."""
    return datetime(2027, 3, 1, hour, minute, tzinfo=WARD_TIME).astimezone(UTC)


def job(chat: Chat, moment: datetime) -> BookingReminders:
    return BookingReminders(
        chat.bookings, lambda oa_id: chat.catalogue, interval=0, clock=lambda: moment
    )


async def book_tomorrow(chat: Chat, user: str, what: str) -> None:
    from app.booking.dialogue import day_payload

    await chat.says_one(user, what)
    times = await chat.says_one(user, day_payload(day_after(1)))
    summary = await chat.says_one(user, payloads(times)[0])
    assert "LH-" in (await chat.taps(user, summary, "Xác nhận")).text


async def test_the_reminder_goes_out_the_evening_before_once(chat: Chat) -> None:
    await book_tomorrow(chat, AN, "đặt lịch khai sinh")
    sent_before = len(chat.fake.sent_messages)
    afternoon = await job(chat, at(17, 59)).run_once()
    assert afternoon.sent == 0 and len(chat.fake.sent_messages) == sent_before

    # Two workers at 18:00 (the sample ward's reminder_hour), then a later round.
    rounds = await asyncio.gather(job(chat, at(18)).run_once(), job(chat, at(18)).run_once())
    assert sum(r.sent for r in rounds) == 1
    assert (await job(chat, at(20)).run_once()).sent == 0
    reminders = [m for m in chat.fake.sent_messages[sent_before:] if m.user_id == AN]
    assert len(reminders) == 1
    text = reminders[0].text
    assert "nhắc anh/chị lịch hẹn ngày mai" in text and "LH-00001" in text
    assert "07:30–08:00, Thứ Ba 02/03/2027" in text and "Quầy 1 – Hộ tịch" in text
    birth = chat.catalogue.procedure("1.001193")
    assert birth is not None and birth.plain is not None and birth.plain.documents
    assert birth.plain.documents[0][:30] in text
    booking = get_booking(chat.running.services.db, 1)
    assert booking is not None and booking.reminder_status == ReminderStatus.sent


async def test_a_refused_reminder_is_recorded_not_lost(chat: Chat) -> None:
    await book_tomorrow(chat, BINH, "đặt lịch chứng thực")
    # The resident cannot receive it (Zalo: no interaction in the last 7 days).
    chat.fake.queue_error(MESSAGE_CS_PATH, -230, "user has not interacted")
    done = await job(chat, at(18, 30)).run_once()
    assert done.failed == 1
    booking = get_booking(chat.running.services.db, 1)
    assert booking is not None and booking.reminder_status == ReminderStatus.failed
    assert booking.reminder_reason and booking.reminder_message_id is not None
    from app.storage.outbox import parts_of

    parts = parts_of(chat.running.services.db, booking.reminder_message_id)
    assert parts and all(p.status.value == "failed" for p in parts)
    # Not retried by the next round: refused for good.
    assert (await job(chat, at(19)).run_once()).failed == 0
    assert OutboundPurpose.booking_reminder.value == "booking_reminder"


async def test_no_reminder_for_a_cancelled_visit(chat: Chat) -> None:
    await book_tomorrow(chat, AN, "đặt lịch khai sinh")
    ask = await chat.says_one(AN, "hủy lịch")
    await chat.taps(AN, ask, "Đồng ý hủy")
    assert (await job(chat, at(18)).run_once()).sent == 0
