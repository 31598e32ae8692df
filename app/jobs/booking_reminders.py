"""The evening before a booked visit, the resident is reminded of the time, the code and the
documents to bring (app.booking.service.ResidentBookings.send_reminders).

Each reminder is claimed on its booking row before it is recorded in the outbox and sent, so
several workers (and a restart) remind once; what Zalo refuses is recorded on the booking.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from app.booking.service import ReminderRound, ResidentBookings
from app.catalogue.models import Catalogue
from app.jobs.periodic import PeriodicJob

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class BookingReminders(PeriodicJob):
    """Owned by `app.jobs.background.Background`: `start()` once, `await stop()` at shutdown."""

    name = "booking-reminders"

    def __init__(
        self,
        bookings: ResidentBookings,
        catalogue_for: Callable[[str], Catalogue | None],
        interval: float,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        super().__init__(interval)
        self.bookings = bookings
        self.catalogue_for = catalogue_for
        """The catalogue (ward profile) of a ward, by its OA id."""
        self.clock = clock

    async def run_once(self) -> ReminderRound:  # type: ignore[override]
        done = await self.bookings.send_reminders(self.clock(), self.catalogue_for)
        if done.sent or done.held or done.failed:
            log.info(
                "booking reminders",
                extra={"sent": done.sent, "held": done.held, "failed": done.failed},
            )
        return done
