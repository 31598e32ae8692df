"""The booking use case: what the inbox does with a resident's booking messages, the staff's
cancellations and marks, and the evening-before reminders.

Every method takes the ward's catalogue (its profile's `booking:` section, its procedures) as
a parameter and keys every row by the ward's `oa_id`: a province deployment serves several
wards. Bookings are written in transactions of their own (app.storage.bookings): the
database, not this code, decides who gets the last place.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from app.booking import calendar
from app.booking import dialogue as say
from app.booking.calendar import Taken
from app.booking.dialogue import Command, Draft, Kind, Visit, booking_code
from app.catalogue.models import (
    BookingConfig,
    BookingCounter,
    Catalogue,
    Procedure,
    WardProfile,
)
from app.dialogue.reply import Reply
from app.outbox import Outbox
from app.storage import bookings as store
from app.storage.bookings import Outcome, SeatRequest
from app.storage.database import Database, as_utc
from app.storage.tables import Booking, BookingStatus, OutboundPurpose, ReminderStatus

log = logging.getLogger(__name__)

NEAREST = 4
"""Slots offered when the one chosen is gone (one button left for "another day")."""
REMINDER_CLAIM_LEASE = timedelta(minutes=10)
"""A reminder claimed longer ago than this belongs to a worker that died: another takes it."""

FindProcedure = Callable[[str], Procedure | None]
"""A resident's words -> the procedure they name (the matcher), or None."""


@dataclass(frozen=True)
class VisitServed:
    """A visit staff marked as served: what the rating prompt (dossiers/ratings) needs."""

    booking_id: int
    code: str
    oa_id: str
    user_id: str
    procedure_code: str | None
    counter_id: str
    served_at: datetime
    staff: str


ServedListener = Callable[[VisitServed], Awaitable[None]]


@dataclass(frozen=True)
class SlotCancelled:
    """What a staff cancellation did."""

    cancelled: int
    told: int
    """Residents the message reached (or will: held for the Zalo connection)."""
    not_told: int


@dataclass
class ReminderRound:
    sent: int = 0
    held: int = 0
    failed: int = 0


def visit_of(booking: Booking, catalogue: Catalogue) -> Visit:
    ward = catalogue.ward
    counter = ward.booking.counter(booking.counter_id) if ward.booking else None
    proc = catalogue.procedure(booking.procedure_code) if booking.procedure_code else None
    assert booking.id is not None
    return Visit(
        code=booking_code(booking.id),
        start=calendar.local(ward, _aware(booking.slot_start)),
        end=calendar.local(ward, _aware(booking.slot_end)),
        counter=counter.name if counter else booking.counter_id,
        procedure=proc.short_name if proc else None,
    )


def _aware(moment: datetime) -> datetime:
    value = as_utc(moment)
    assert value is not None
    return value


class ResidentBookings:
    def __init__(self, db: Database, outbox: Outbox) -> None:
        self.db = db
        self.outbox = outbox
        self.served_listeners: list[ServedListener] = []
        """Called after a visit is marked served: where the rating prompt attaches."""

    # Resident side ---------------------------------------------------------------------------

    def answer(
        self,
        oa_id: str,
        user_id: str,
        text: str,
        now: datetime,
        *,
        catalogue: Catalogue,
        find_procedure: FindProcedure,
        last_procedure: str | None = None,
        event_id: int | None = None,
    ) -> Reply | None:
        """The reply to a booking message, or None when the message is not about booking."""
        command = say.parse(text)
        if command is None:
            return None
        ward = catalogue.ward
        if ward.booking is None:
            return say.not_offered(ward)
        turn = _Turn(self, oa_id, user_id, now, catalogue, event_id)
        return turn.handle(command, find_procedure, last_procedure)

    # Staff side ------------------------------------------------------------------------------

    async def mark(
        self, booking_id: int, status: BookingStatus, *, staff: str, now: datetime
    ) -> bool:
        """Served or no-show; listeners hear of a visit served (the rating prompt)."""
        if not store.mark(self.db, booking_id, status, by=staff, now=now):
            return False
        log.info("booking marked", extra={"booking_id": booking_id, "status": status.value})
        booking = store.get_booking(self.db, booking_id)
        if status is BookingStatus.served and booking is not None:
            served = VisitServed(
                booking_id=booking_id,
                code=booking_code(booking_id),
                oa_id=booking.oa_id,
                user_id=booking.user_id,
                procedure_code=booking.procedure_code,
                counter_id=booking.counter_id,
                served_at=now,
                staff=staff,
            )
            for listener in self.served_listeners:
                try:
                    await listener(served)
                except Exception:
                    log.exception("visit-served listener failed", extra={"booking_id": booking_id})
        return True

    async def cancel_slot(
        self,
        *,
        oa_id: str,
        counter_id: str,
        slot_start: datetime,
        reason: str,
        staff: str,
        now: datetime,
        catalogue: Catalogue,
    ) -> SlotCancelled:
        """Close a slot (e.g. the officer is ill): its residents are told and offered the
        nearest free slots, answerable for a day."""
        ward = catalogue.ward
        counter = ward.booking.counter(counter_id) if ward.booking else None
        if counter is None:
            raise LookupError(counter_id)
        cancelled = store.close_slot(
            self.db,
            oa_id=oa_id,
            counter_id=counter_id,
            slot_start=slot_start,
            reason=reason,
            by=staff,
            now=now,
        )
        told = not_told = 0
        for booking in cancelled:
            turn = _Turn(self, oa_id, booking.user_id, now, catalogue, None)
            start = calendar.local(ward, _aware(booking.slot_start))
            end = calendar.local(ward, _aware(booking.slot_end))
            taken = turn.taken(counter_id)
            nearest = calendar.nearest_slots(
                ward,
                counter_id,
                start,
                now,
                taken,
                limit=NEAREST,
                excluded=turn.booked_days(),
                skip={(counter_id, _aware(booking.slot_start))},
            )
            draft = Draft(counter_id, booking.procedure_code, expires_at=now + say.OFFER_TTL)
            turn.save(draft)
            assert booking.id is not None
            message = say.cancelled_by_ward(
                booking_code(booking.id), start, end, counter, reason, nearest
            )
            result = await self.outbox.send(
                oa_id, booking.user_id, (message,), now=now, purpose=OutboundPurpose.booking_notice
            )
            if result.failed:
                not_told += 1
            else:
                told += 1
        log.info(
            "booking slot cancelled",
            extra={"counter": counter_id, "cancelled": len(cancelled), "not_told": not_told},
        )
        return SlotCancelled(len(cancelled), told, not_told)

    # Reminders -------------------------------------------------------------------------------

    async def send_reminders(
        self, now: datetime, catalogue_for: Callable[[str], Catalogue | None]
    ) -> ReminderRound:
        """Remind, through the outbox, every live booking of tomorrow (in its ward's calendar)
        once its ward's reminder hour has come. Claimed first, so two workers (or a restart)
        never remind twice; a reminder Zalo refuses is recorded on the booking."""
        counts = ReminderRound()
        stale = now - REMINDER_CLAIM_LEASE
        for booking_id in store.reminders_due(self.db, now, now + timedelta(days=2), stale):
            booking = store.get_booking(self.db, booking_id)
            catalogue = catalogue_for(booking.oa_id) if booking is not None else None
            if booking is None or catalogue is None or not _due(booking, catalogue.ward, now):
                continue
            if not store.claim_reminder(self.db, booking_id, now, stale):
                continue  # another worker has it
            status = await self._remind(booking, catalogue, now)
            if status is ReminderStatus.sent:
                counts.sent += 1
            elif status is ReminderStatus.held:
                counts.held += 1
            else:
                counts.failed += 1
        return counts

    async def _remind(
        self, booking: Booking, catalogue: Catalogue, now: datetime
    ) -> ReminderStatus:
        assert booking.id is not None
        message_id = booking.reminder_message_id
        if message_id is None:
            ward = catalogue.ward
            counter = ward.booking.counter(booking.counter_id) if ward.booking else None
            if counter is None:
                counter = BookingCounter(id=booking.counter_id, name=booking.counter_id)
            proc = catalogue.procedure(booking.procedure_code) if booking.procedure_code else None
            reply = say.reminder(
                booking_code(booking.id),
                calendar.local(ward, _aware(booking.slot_start)),
                calendar.local(ward, _aware(booking.slot_end)),
                counter,
                proc,
                catalogue,
            )
            with self.db.unit():
                [message_id] = self.outbox.record(
                    booking.oa_id,
                    booking.user_id,
                    (reply,),
                    now=now,
                    purpose=OutboundPurpose.booking_reminder,
                )
                store.set_reminder(
                    self.db, booking.id, ReminderStatus.sending, message_id=message_id
                )
        result = await self.outbox.deliver([message_id], now=now)
        if result.complete:
            status, reason = ReminderStatus.sent, None
        elif result.failed:
            status = ReminderStatus.failed
            reason = result.error.reason if result.error else "failed"
        else:
            status = ReminderStatus.held
            reason = result.error.reason if result.error else "waiting"
        store.set_reminder(self.db, booking.id, status, reason=reason)
        log.info(
            "booking reminder",
            extra={"booking_id": booking.id, "status": status.value, "reason": reason},
        )
        return status


def _due(booking: Booking, ward: WardProfile, now: datetime) -> bool:
    """Tomorrow's visit (ward calendar), and the ward's reminder hour has come."""
    if ward.booking is None:
        return False
    today = calendar.local(ward, now)
    visit_day = calendar.local(ward, _aware(booking.slot_start)).date()
    return visit_day == today.date() + timedelta(days=1) and (
        today.hour >= ward.booking.reminder_hour
    )


@dataclass
class _Turn:
    """One booking message of one resident: the steps of the flow."""

    service: ResidentBookings
    oa_id: str
    user_id: str
    now: datetime
    catalogue: Catalogue
    event_id: int | None
    _live: Sequence[Booking] | None = field(default=None, init=False)

    @property
    def db(self) -> Database:
        return self.service.db

    @property
    def ward(self) -> WardProfile:
        return self.catalogue.ward

    @property
    def config(self) -> BookingConfig:
        return calendar.config(self.ward)

    # State -----------------------------------------------------------------------------------

    def draft(self) -> Draft | None:
        draft = Draft.from_json(store.load_draft(self.db, self.oa_id, self.user_id))
        return None if draft is None or draft.expired(self.now) else draft

    def save(self, draft: Draft | None) -> None:
        store.save_draft(self.db, self.oa_id, self.user_id, draft.to_json() if draft else None)

    def live(self) -> Sequence[Booking]:
        if self._live is None:
            self._live = store.live_of(self.db, self.oa_id, self.user_id, self.now)
        return self._live

    def booked_days(self, other_than: int | None = None) -> set[date]:
        return {
            calendar.local(self.ward, _aware(b.slot_start)).date()
            for b in self.live()
            if b.id != other_than
        }

    def taken(self, counter_id: str) -> Taken:
        start, end = calendar.range_of(self.ward, self.now)
        counts, closed = store.taken_between(self.db, self.oa_id, counter_id, start, end)
        return Taken(counts, closed)

    def counter(self, draft: Draft) -> BookingCounter | None:
        return self.config.counter(draft.counter_id)

    def procedure(self, code: str | None) -> Procedure | None:
        return self.catalogue.procedure(code) if code else None

    def visits(self) -> list[Visit]:
        return [visit_of(b, self.catalogue) for b in self.live()]

    # Steps -----------------------------------------------------------------------------------

    def handle(
        self, command: Command, find_procedure: FindProcedure, last_procedure: str | None
    ) -> Reply:
        kind = command.kind
        if kind is Kind.start:
            return self.start(command.rest, find_procedure, last_procedure)
        if kind is Kind.mine:
            return say.mine(self.visits())
        if kind in (Kind.move, Kind.cancel):
            return self.choose_booking(command)
        if kind is Kind.cancel_yes:
            return self.cancel(command.number or 0)
        if kind is Kind.keep:
            return say.KEPT
        if kind is Kind.confirm:
            return self.confirm()
        draft = self.draft()
        if kind is Kind.stop:
            self.save(None)
            return say.STOPPED
        if draft is None:
            return say.EXPIRED
        if kind is Kind.more_days:
            return self.offer_days(replace(draft, day_page=draft.day_page + 1))
        if kind is Kind.day and command.day is not None:
            return self.offer_times(replace(draft, day=command.day, time_page=0, start=None))
        if kind is Kind.more_times and draft.day is not None:
            return self.offer_times(replace(draft, time_page=draft.time_page + 1))
        if kind is Kind.time and command.day is not None and command.at is not None:
            return self.choose_time(draft, command.day, command.at)
        return self.offer_days(draft)

    def start(self, rest: str, find_procedure: FindProcedure, last_procedure: str | None) -> Reply:
        proc = find_procedure(rest) if rest else None
        draft = self.draft()
        if proc is None and not rest and draft is not None and draft.moving is None:
            # "Chọn ngày khác" under offered slots: the same counter and procedure, other days.
            return self.offer_days(replace(draft, day_page=0))
        if proc is None and last_procedure:
            proc = self.procedure(last_procedure)
        counter = calendar.counter_for(self.ward, proc)
        if counter is None:
            return say.not_bookable(proc, self.catalogue) if proc else say.ask_procedure(self.ward)
        return self.offer_days(Draft(counter.id, proc.code if proc else None))

    def offer_days(self, draft: Draft, lead: str | None = None) -> Reply:
        counter = self.counter(draft)
        if counter is None:
            self.save(None)
            return say.EXPIRED
        excluded = self.booked_days(other_than=draft.moving)
        days = calendar.open_days(
            self.ward, counter.id, self.now, self.taken(counter.id), excluded=excluded
        )
        if not days:
            self.save(None)
            return say.no_days(self.ward, counter, self.config.horizon_days)
        page = draft.day_page if draft.day_page * say.PER_PAGE < len(days) else 0
        draft = replace(draft, day_page=page, day=None, start=None).touched(self.now)
        self.save(draft)
        holding = [
            (v.code, v.start, v.end)
            for b, v in zip(self.live(), self.visits(), strict=True)
            if b.id != draft.moving
        ]
        today = calendar.local(self.ward, self.now).date()
        reply = say.choose_day(
            days, page, self.procedure(draft.procedure_code), counter, today, holding
        )
        return Reply(f"{lead}\n{reply.text}", reply.buttons) if lead else reply

    def offer_times(self, draft: Draft) -> Reply:
        counter = self.counter(draft)
        assert draft.day is not None
        if counter is None:
            return self.offer_days(draft)
        if draft.day in self.booked_days(other_than=draft.moving):
            return say.same_day(draft.day)
        slots = calendar.open_slots(
            self.ward, counter.id, draft.day, self.now, self.taken(counter.id)
        )
        if draft.day not in calendar.horizon(self.ward, self.now) or not slots:
            return self.offer_days(draft, lead=say.day_full(draft.day))
        page = draft.time_page if draft.time_page * say.PER_PAGE < len(slots) else 0
        self.save(replace(draft, time_page=page, start=None).touched(self.now))
        return say.choose_time(draft.day, slots, page)

    def choose_time(self, draft: Draft, day: date, at: time) -> Reply:
        counter = self.counter(draft)
        if counter is None:
            return self.offer_days(draft)
        wanted = datetime.combine(day, at, tzinfo=calendar.zone(self.ward))
        slot = calendar.slot_at(self.ward, counter.id, wanted)
        taken = self.taken(counter.id)
        if slot is None or slot not in calendar.open_slots(
            self.ward, counter.id, day, self.now, taken
        ):
            return self.nearest(draft, counter, wanted, taken)
        draft = replace(draft, day=day, start=slot.start).touched(self.now)
        self.save(draft)
        moving = booking_code(draft.moving) if draft.moving else None
        return say.confirm(slot, counter, self.procedure(draft.procedure_code), moving)

    def nearest(
        self, draft: Draft, counter: BookingCounter, around: datetime, taken: Taken
    ) -> Reply:
        nearest = calendar.nearest_slots(
            self.ward,
            counter.id,
            around,
            self.now,
            taken,
            limit=NEAREST,
            excluded=self.booked_days(other_than=draft.moving),
        )
        self.save(replace(draft, start=None).touched(self.now))
        return say.slot_taken(nearest, around.date())

    def confirm(self) -> Reply:
        if self.event_id is not None:
            # This message was handled before (its reply not recorded): the same answer.
            done = store.booking_by_event(self.db, self.event_id)
            if done is not None:
                return self.booked_reply(done, moved=False)
        draft = self.draft()
        if draft is None or draft.start is None:
            return say.EXPIRED
        counter = self.counter(draft)
        slot = calendar.slot_at(self.ward, draft.counter_id, draft.start)
        if counter is None or slot is None:
            return self.offer_days(draft)
        if not calendar.bookable(self.ward, slot, self.now):
            return self.nearest(draft, counter, slot.start, self.taken(counter.id))
        request = SeatRequest(
            self.oa_id,
            counter.id,
            slot.start,
            slot.end,
            slot.day.isoformat(),
            self.config.capacity,
        )
        if draft.moving is not None:
            result = store.move(self.db, draft.moving, request, now=self.now)
        else:
            result = store.book(
                self.db,
                request,
                user_id=self.user_id,
                procedure_code=draft.procedure_code,
                now=self.now,
                made_by_event=self.event_id,
            )
        if result.outcome is Outcome.booked and result.booking is not None:
            self.save(None)
            log.info(
                "booking made",
                extra={"booking_id": result.booking.id, "moved": draft.moving is not None},
            )
            return self.booked_reply(result.booking, moved=draft.moving is not None)
        if result.outcome is Outcome.same_day:
            self.save(None)
            return say.same_day(slot.day)
        if result.outcome is Outcome.gone:
            self.save(None)
            return say.not_found(draft.moving or 0)
        log.info("booking lost the slot", extra={"outcome": result.outcome.value})
        return self.nearest(draft, counter, slot.start, self.taken(counter.id))

    def booked_reply(self, booking: Booking, *, moved: bool) -> Reply:
        assert booking.id is not None
        counter = self.config.counter(booking.counter_id) or BookingCounter(
            id=booking.counter_id, name=booking.counter_id
        )
        return say.booked(
            booking_code(booking.id),
            calendar.local(self.ward, _aware(booking.slot_start)),
            calendar.local(self.ward, _aware(booking.slot_end)),
            counter,
            self.procedure(booking.procedure_code),
            self.catalogue,
            moved=moved,
        )

    def choose_booking(self, command: Command) -> Reply:
        live = list(self.live())
        if command.number is not None:
            live = [b for b in live if b.id == command.number]
            if not live:
                return say.not_found(command.number)
        if not live:
            return say.NO_BOOKINGS
        action = "Đổi lịch" if command.kind is Kind.move else "Hủy lịch"
        if len(live) > 1:
            return say.which(action, [visit_of(b, self.catalogue) for b in live])
        booking = live[0]
        if command.kind is Kind.cancel:
            return say.confirm_cancel(visit_of(booking, self.catalogue))
        assert booking.id is not None
        return self.offer_days(Draft(booking.counter_id, booking.procedure_code, booking.id))

    def cancel(self, number: int) -> Reply:
        mine = next((b for b in self.live() if b.id == number), None)
        if mine is None or mine.id is None:
            return say.not_found(number)
        store.cancel(self.db, mine.id, now=self.now)
        draft = self.draft()
        if draft is not None and draft.moving == mine.id:
            self.save(None)
        log.info("booking cancelled by the resident", extra={"booking_id": mine.id})
        return say.cancelled(booking_code(mine.id))
