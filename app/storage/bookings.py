"""Booked visits, closed slots and booking drafts: queries and the seat-taking writes.

Capacity is enforced by the database, not by a check in Python: a live booking holds seat
1..capacity of its slot and (ward, counter, slot, seat) is unique, so two residents taking the
last place at the same moment cannot both get it. The loser's INSERT (or UPDATE) fails on the
constraint; it is retried on a fresh transaction with another free seat, and there is none.
The same goes for a resident's one visit a day (`active_day`).

These writes use transactions of their own (never a `Database.unit`): a failed INSERT must
roll back only itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select

from app.storage import drafts
from app.storage.database import Database, as_utc
from app.storage.tables import (
    Booking,
    BookingClosure,
    BookingDraft,
    BookingStatus,
    ReminderStatus,
)

LIVE = (BookingStatus.booked.value,)


class Outcome(Enum):
    booked = "booked"
    full = "full"
    """The slot has no seat left."""
    closed = "closed"
    """Staff closed the slot."""
    same_day = "same_day"
    """The resident already holds a visit that day."""
    gone = "gone"
    """The booking to move is no longer live."""


@dataclass(frozen=True)
class SeatRequest:
    """Where a booking should be: a counter's slot and the ward's local date of it."""

    oa_id: str
    counter_id: str
    slot_start: datetime
    slot_end: datetime
    day: str
    """YYYY-MM-DD in the ward's calendar."""
    capacity: int


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    booking: Booking | None = None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _fresh(db: Database) -> Session:
    return Session(db.engine, expire_on_commit=False)


def _taken_seats(session: Session, request: SeatRequest) -> set[int]:
    rows = session.exec(
        select(Booking.seat_no)
        .where(Booking.oa_id == request.oa_id)
        .where(Booking.counter_id == request.counter_id)
        .where(Booking.slot_start == _utc(request.slot_start))
        .where(col(Booking.seat_no).is_not(None))
    ).all()
    return {int(seat) for seat in rows if seat is not None}


def _is_closed(session: Session, request: SeatRequest) -> bool:
    key = (request.oa_id, request.counter_id, _utc(request.slot_start))
    return session.get(BookingClosure, key) is not None


def _holds_day(
    session: Session, oa_id: str, user_id: str, day: str, other_than: int | None
) -> bool:
    query = (
        select(Booking.id)
        .where(Booking.oa_id == oa_id)
        .where(Booking.user_id == user_id)
        .where(Booking.active_day == day)
    )
    if other_than is not None:
        query = query.where(Booking.id != other_than)
    return session.exec(query).first() is not None


def _take_seat(
    db: Database,
    request: SeatRequest,
    user_id: str,
    write: Callable[[Session, int], Booking | None],
    moving: int | None = None,
) -> Result:
    """Run `write(session, seat)` with the first free seat until the database accepts it."""
    for _ in range(request.capacity + 3):
        with _fresh(db) as session:
            if _holds_day(session, request.oa_id, user_id, request.day, moving):
                return Result(Outcome.same_day)
            if _is_closed(session, request):
                return Result(Outcome.closed)
            free = [
                s for s in range(1, request.capacity + 1) if s not in _taken_seats(session, request)
            ]
            if not free:
                return Result(Outcome.full)
            try:
                booking = write(session, free[0])
                if booking is None:
                    return Result(Outcome.gone)
                session.commit()
                return Result(Outcome.booked, booking)
            except IntegrityError:
                session.rollback()  # someone took the seat (or the day) first: look again
    return Result(Outcome.full)


def book(
    db: Database,
    request: SeatRequest,
    *,
    user_id: str,
    procedure_code: str | None,
    now: datetime,
    made_by_event: int | None = None,
) -> Result:
    """Take a seat of the slot for the resident: booked, or why not."""

    def write(session: Session, seat: int) -> Booking:
        row = Booking(
            oa_id=request.oa_id,
            user_id=user_id,
            procedure_code=procedure_code,
            counter_id=request.counter_id,
            slot_start=_utc(request.slot_start),
            slot_end=_utc(request.slot_end),
            seat_no=seat,
            active_day=request.day,
            made_by_event=made_by_event,
            created_at=_utc(now),
            updated_at=_utc(now),
        )
        session.add(row)
        session.flush()
        return row

    return _take_seat(db, request, user_id, write)


def move(db: Database, booking_id: int, request: SeatRequest, *, now: datetime) -> Result:
    """Move a live booking to another slot in one write: it keeps its code, and keeps its old
    slot when the new one cannot be had."""
    current = get_booking(db, booking_id)
    if current is None or current.status not in LIVE:
        return Result(Outcome.gone)

    def write(session: Session, seat: int) -> Booking | None:
        row = session.get(Booking, booking_id)
        if row is None or row.status not in LIVE:
            return None
        row.counter_id = request.counter_id
        row.slot_start, row.slot_end = _utc(request.slot_start), _utc(request.slot_end)
        row.seat_no, row.active_day = seat, request.day
        row.reminder_status = row.reminder_reason = None
        row.reminder_message_id = None
        row.reminder_claimed_at = None
        row.updated_at = _utc(now)
        session.add(row)
        session.flush()
        return row

    return _take_seat(db, request, current.user_id, write, moving=booking_id)


def cancel(
    db: Database,
    booking_id: int,
    *,
    now: datetime,
    status: BookingStatus = BookingStatus.cancelled,
    reason: str | None = None,
    by: str | None = None,
) -> Booking | None:
    """Cancel a live booking (its seat and day are freed); None when it was not live."""
    with _fresh(db) as session:
        row = session.get(Booking, booking_id)
        if row is None or row.status not in LIVE:
            return None
        row.status = status.value
        row.seat_no = row.active_day = None
        row.cancel_reason, row.marked_by = reason, by
        row.updated_at = _utc(now)
        session.add(row)
        session.commit()
        return row


def mark(db: Database, booking_id: int, status: BookingStatus, *, by: str, now: datetime) -> bool:
    """Served or no-show, for a booking that is live or already marked (staff correct a
    mistake); False for a cancelled one."""
    with _fresh(db) as session:
        row = session.get(Booking, booking_id)
        allowed = (*LIVE, BookingStatus.served.value, BookingStatus.no_show.value)
        if row is None or row.status not in allowed:
            return False
        row.status, row.marked_by, row.updated_at = status.value, by, _utc(now)
        session.add(row)
        session.commit()
        return True


def close_slot(
    db: Database,
    *,
    oa_id: str,
    counter_id: str,
    slot_start: datetime,
    reason: str,
    by: str,
    now: datetime,
) -> list[Booking]:
    """Close a slot and cancel its live bookings, in one transaction; the cancelled bookings.

    The closure is written first: a booking racing it either sees it, or committed before and
    is cancelled here."""
    start = _utc(slot_start)
    with _fresh(db) as session:
        if session.get(BookingClosure, (oa_id, counter_id, start)) is None:
            session.add(
                BookingClosure(
                    oa_id=oa_id,
                    counter_id=counter_id,
                    slot_start=start,
                    reason=reason,
                    closed_by=by,
                    closed_at=_utc(now),
                )
            )
            session.flush()
        rows = session.exec(
            select(Booking)
            .where(Booking.oa_id == oa_id)
            .where(Booking.counter_id == counter_id)
            .where(Booking.slot_start == start)
            .where(col(Booking.status).in_(LIVE))
            .with_for_update()
        ).all()
        for row in rows:
            row.status = BookingStatus.cancelled_by_ward.value
            row.seat_no = row.active_day = None
            row.cancel_reason, row.marked_by, row.updated_at = reason, by, _utc(now)
            session.add(row)
        session.commit()
        return list(rows)


# Reads ---------------------------------------------------------------------------------------


def get_booking(db: Database, booking_id: int) -> Booking | None:
    with db.session() as session:
        return session.get(Booking, booking_id)


def booking_by_event(db: Database, event_id: int) -> Booking | None:
    with db.session() as session:
        return session.exec(select(Booking).where(Booking.made_by_event == event_id)).first()


def taken_between(
    db: Database, oa_id: str, counter_id: str, start: datetime, end: datetime
) -> tuple[dict[tuple[str, datetime], int], set[tuple[str, datetime]]]:
    """Live bookings per slot and the closed slots of a counter in [start, end), keyed by
    (counter, UTC start)."""
    with db.session() as session:
        counts = session.exec(
            select(Booking.slot_start, func.count())
            .where(Booking.oa_id == oa_id)
            .where(Booking.counter_id == counter_id)
            .where(col(Booking.seat_no).is_not(None))
            .where(Booking.slot_start >= _utc(start))
            .where(Booking.slot_start < _utc(end))
            .group_by(col(Booking.slot_start))
        ).all()
        closed = session.exec(
            select(BookingClosure.slot_start)
            .where(BookingClosure.oa_id == oa_id)
            .where(BookingClosure.counter_id == counter_id)
            .where(BookingClosure.slot_start >= _utc(start))
            .where(BookingClosure.slot_start < _utc(end))
        ).all()
    by_slot = {(counter_id, _aware(s)): int(n) for s, n in counts}
    return by_slot, {(counter_id, _aware(s)) for s in closed}


def _aware(moment: datetime) -> datetime:
    value = as_utc(moment)
    assert value is not None
    return value


def live_of(db: Database, oa_id: str, user_id: str, since: datetime) -> Sequence[Booking]:
    """The resident's live bookings whose slot ends after `since`, soonest first."""
    with db.session() as session:
        return session.exec(
            select(Booking)
            .where(Booking.oa_id == oa_id)
            .where(Booking.user_id == user_id)
            .where(col(Booking.status).in_(LIVE))
            .where(Booking.slot_end > _utc(since))
            .order_by(col(Booking.slot_start))
        ).all()


def bookings_between(
    db: Database, start: datetime, end: datetime, oa_ids: Collection[str] | None = None
) -> Sequence[Booking]:
    """Every booking (any status) with a slot starting in [start, end), by slot and counter,
    of the given wards' OAs (None: every OA; per ward it reads ix_bookings_slot)."""
    with db.session() as session:
        query = (
            select(Booking)
            .where(Booking.slot_start >= _utc(start))
            .where(Booking.slot_start < _utc(end))
            .order_by(col(Booking.slot_start), col(Booking.counter_id), col(Booking.id))
        )
        if oa_ids is not None:
            query = query.where(col(Booking.oa_id).in_(oa_ids))
        return session.exec(query).all()


def closures_between(
    db: Database, start: datetime, end: datetime, oa_id: str | None = None
) -> Sequence[BookingClosure]:
    with db.session() as session:
        query = (
            select(BookingClosure)
            .where(BookingClosure.slot_start >= _utc(start))
            .where(BookingClosure.slot_start < _utc(end))
        )
        if oa_id is not None:
            query = query.where(BookingClosure.oa_id == oa_id)
        return session.exec(query).all()


# Reminders -----------------------------------------------------------------------------------


def reminders_due(
    db: Database, start: datetime, end: datetime, stale_before: datetime
) -> list[int]:
    """Live bookings with a slot in [start, end) not reminded yet (or whose claim is stale)."""
    with db.session() as session:
        rows = session.exec(
            select(Booking.id)
            .where(col(Booking.status).in_(LIVE))
            .where(Booking.slot_start >= _utc(start))
            .where(Booking.slot_start < _utc(end))
            .where(
                or_(
                    col(Booking.reminder_status).is_(None),
                    (col(Booking.reminder_status) == ReminderStatus.sending.value)
                    & (col(Booking.reminder_claimed_at) < _utc(stale_before)),
                )
            )
            .order_by(col(Booking.slot_start))
        ).all()
        return [int(r) for r in rows if r is not None]


def claim_reminder(db: Database, booking_id: int, now: datetime, stale_before: datetime) -> bool:
    """One guarded UPDATE: only one worker (of any process) reminds a booking."""
    with db.session() as session:
        result = session.execute(
            update(Booking)
            .where(col(Booking.id) == booking_id)
            .where(col(Booking.status).in_(LIVE))
            .where(
                or_(
                    col(Booking.reminder_status).is_(None),
                    (col(Booking.reminder_status) == ReminderStatus.sending.value)
                    & (col(Booking.reminder_claimed_at) < _utc(stale_before)),
                )
            )
            .values(reminder_status=ReminderStatus.sending.value, reminder_claimed_at=_utc(now))
        )
        session.commit()
        return bool(getattr(result, "rowcount", 0))


def set_reminder(
    db: Database,
    booking_id: int,
    status: ReminderStatus,
    *,
    message_id: int | None = None,
    reason: str | None = None,
) -> None:
    with db.session() as session:
        row = session.get(Booking, booking_id)
        if row is None:
            return
        row.reminder_status, row.reminder_reason = status.value, reason
        if message_id is not None:
            row.reminder_message_id = message_id
        session.add(row)
        session.commit()


def reminder_for_message(db: Database, message_id: int) -> Booking | None:
    with db.session() as session:
        return session.exec(
            select(Booking).where(Booking.reminder_message_id == message_id)
        ).first()


# Drafts --------------------------------------------------------------------------------------


def load_draft(db: Database, oa_id: str, user_id: str) -> dict[str, Any] | None:
    return drafts.load_draft(db, BookingDraft, oa_id, user_id)


def save_draft(db: Database, oa_id: str, user_id: str, state: dict[str, Any] | None) -> None:
    drafts.save_draft(db, BookingDraft, oa_id, user_id, state)
