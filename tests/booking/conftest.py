"""The app with booking, on a fixed clock: Monday 1 March 2027, 08:00 in the ward."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.booking import calendar
from app.booking.service import ResidentBookings
from app.catalogue import Catalogue
from app.storage.bookings import SeatRequest, book
from tests.conftest import ROOT, RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeMessage, FakeZalo
from tests.support.webhook import OA_ID, text_event

WARD_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=WARD_TIME).astimezone(UTC)


@dataclass
class Chat:
    """Residents talking to the running app through the signed webhook, on a fixed clock."""

    running: RunningApp
    fake: FakeZalo
    now: datetime = NOW

    def __post_init__(self) -> None:
        self.running.services.inbox.clock = lambda: self.now

    @property
    def bookings(self) -> ResidentBookings:
        service = self.running.services.inbox.bookings
        assert service is not None
        return service

    @property
    def catalogue(self) -> Catalogue:
        return self.running.services.knowledge.current.content.catalogue

    async def says(self, user_id: str, text: str) -> list[FakeMessage]:
        before = len(self.fake.sent_messages)
        assert (await self.running.webhook.post(text_event(user_id, text))).status_code == 200
        await self.running.settle()
        return [m for m in self.fake.sent_messages[before:] if m.user_id == user_id]

    async def says_one(self, user_id: str, text: str) -> FakeMessage:
        (message,) = await self.says(user_id, text)
        return message

    async def taps(self, user_id: str, message: FakeMessage, title: str) -> FakeMessage:
        """The resident taps a button: Zalo sends its payload as the resident's text."""
        payload = next(b["payload"] for b in message.buttons if b["title"] == title)
        return await self.says_one(user_id, str(payload))

    def fill(self, counter_id: str, day: date, *, leave: int = 0) -> None:
        """Book every seat of every slot of a day for other residents (all but `leave`)."""
        ward = self.catalogue.ward
        assert ward.booking is not None
        for index, slot in enumerate(calendar.day_slots(ward, counter_id, day)):
            for seat in range(ward.booking.capacity - leave):
                request = SeatRequest(
                    OA_ID,
                    counter_id,
                    slot.start,
                    slot.end,
                    day.isoformat(),
                    ward.booking.capacity,
                )
                book(
                    self.running.services.db,
                    request,
                    user_id=f"other-{index}-{seat}",
                    procedure_code=None,
                    now=self.now,
                )


def titles(message: FakeMessage) -> list[str]:
    return [str(b["title"]) for b in message.buttons]


def payloads(message: FakeMessage) -> list[str]:
    return [str(b["payload"]) for b in message.buttons]


def procedures_with(tmp_path: Path, **edits: str) -> Path:
    """procedures.yaml with lines of the booking section replaced (key: new value)."""
    text = (ROOT / "procedures.yaml").read_text(encoding="utf-8")
    for key, value in edits.items():
        old = next(line for line in text.splitlines() if line.startswith(f"    {key}: "))
        text = text.replace(old, f"    {key}: {value}", 1)
    path = tmp_path / "procedures.yaml"
    path.write_text(text, encoding="utf-8")
    return path


ChatFactory = Callable[..., Any]


@pytest.fixture
async def chat(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[Chat]:
    settings = make_settings(tmp_path, fake_zalo, booking_reminder_seconds=0)
    async for running in start_app(settings):
        yield Chat(running, fake_zalo)


def day_after(days: int) -> date:
    return (NOW.astimezone(WARD_TIME) + timedelta(days=days)).date()
