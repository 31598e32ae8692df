"""Capacity is the database's: residents racing for the last place of a slot, one wins.

Runs on SQLite, and on PostgreSQL when WARDBOT_TEST_DATABASE_URL is set. The race is forced:
every contender reads the free seats before any of them writes, so a check in Python alone
would let them all in; the unique seat constraint lets exactly one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.storage import bookings
from app.storage.bookings import Outcome, SeatRequest
from app.storage.database import Database
from app.storage.tables import Booking
from tests.support.databases import database_url

OA = "oa-1"
START = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
NOW = START - timedelta(days=1)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(database_url(tmp_path))
    database.create_schema()
    yield database
    database.close()


def request(capacity: int, start: datetime = START) -> SeatRequest:
    return SeatRequest(OA, "ho-tich", start, start + timedelta(minutes=30), "2026-12-02", capacity)


def race(
    db: Database, monkeypatch: pytest.MonkeyPatch, users: list[str], capacity: int
) -> list[Outcome]:
    """Every user books the same slot at once, each after all of them have read the seats."""
    barrier = threading.Barrier(len(users))
    first_read = threading.local()
    read = bookings._taken_seats

    def read_then_wait(session: Session, wanted: SeatRequest) -> set[int]:
        seats = read(session, wanted)
        if not getattr(first_read, "done", False):
            first_read.done = True
            barrier.wait(timeout=20)
        return seats

    monkeypatch.setattr(bookings, "_taken_seats", read_then_wait)

    def one(user: str) -> Outcome:
        first_read.done = False
        return bookings.book(
            db, request(capacity), user_id=user, procedure_code="1.001193", now=NOW
        ).outcome

    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(one, users))


def test_two_residents_take_the_last_place_exactly_one_wins(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked = bookings.book(db, request(2), user_id="first", procedure_code=None, now=NOW)
    assert booked.outcome is Outcome.booked
    outcomes = race(db, monkeypatch, ["an", "binh"], capacity=2)
    assert sorted(o.value for o in outcomes) == ["booked", "full"]
    live = bookings.bookings_between(db, START, START + timedelta(minutes=1))
    assert len(live) == 2 and {b.seat_no for b in live} == {1, 2}


def test_many_residents_for_three_places(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    users = [f"resident-{i}" for i in range(6)]
    outcomes = race(db, monkeypatch, users, capacity=3)
    assert sum(o is Outcome.booked for o in outcomes) == 3
    assert sum(o is Outcome.full for o in outcomes) == 3


def test_the_seat_constraint_itself_refuses_a_second_holder(db: Database) -> None:
    """Even a write that skips every check cannot put two bookings on one seat."""
    row = {
        "oa_id": OA,
        "counter_id": "ho-tich",
        "slot_start": START,
        "slot_end": START + timedelta(minutes=30),
        "seat_no": 1,
    }
    with Session(db.engine) as session:
        session.add(Booking(user_id="a", active_day="2026-12-02", **row))
        session.commit()
    with Session(db.engine) as session, pytest.raises(IntegrityError):
        session.add(Booking(user_id="b", active_day="2026-12-02", **row))
        session.commit()


def test_one_visit_a_day_and_a_cancelled_seat_is_free_again(db: Database) -> None:
    first = bookings.book(db, request(1), user_id="an", procedure_code=None, now=NOW)
    assert first.outcome is Outcome.booked and first.booking is not None
    later = request(1, START + timedelta(hours=2))
    assert bookings.book(db, later, user_id="an", procedure_code=None, now=NOW).outcome is (
        Outcome.same_day
    )
    assert bookings.book(db, request(1), user_id="binh", procedure_code=None, now=NOW).outcome is (
        Outcome.full
    )
    assert first.booking.id is not None
    assert bookings.cancel(db, first.booking.id, now=NOW) is not None
    assert bookings.book(db, request(1), user_id="binh", procedure_code=None, now=NOW).outcome is (
        Outcome.booked
    )


def test_a_move_keeps_the_old_slot_when_the_new_one_is_full(db: Database) -> None:
    mine = bookings.book(db, request(1), user_id="an", procedure_code=None, now=NOW).booking
    later = request(1, START + timedelta(hours=1))
    bookings.book(db, later, user_id="binh", procedure_code=None, now=NOW)
    assert mine is not None and mine.id is not None
    assert bookings.move(db, mine.id, later, now=NOW).outcome is Outcome.full
    kept = bookings.get_booking(db, mine.id)
    assert kept is not None and kept.seat_no == 1
    free = request(1, START + timedelta(hours=2))
    moved = bookings.move(db, mine.id, free, now=NOW)
    assert moved.outcome is Outcome.booked and moved.booking is not None
    assert moved.booking.id == mine.id
    assert bookings.book(db, request(1), user_id="chi", procedure_code=None, now=NOW).outcome is (
        Outcome.booked
    )


def test_a_closed_slot_cancels_its_bookings_and_takes_no_more(db: Database) -> None:
    bookings.book(db, request(3), user_id="an", procedure_code=None, now=NOW)
    cancelled = bookings.close_slot(
        db,
        oa_id=OA,
        counter_id="ho-tich",
        slot_start=START,
        reason="cán bộ nghỉ ốm",
        by="canbo",
        now=NOW,
    )
    assert [b.user_id for b in cancelled] == ["an"]
    assert bookings.book(db, request(3), user_id="binh", procedure_code=None, now=NOW).outcome is (
        Outcome.closed
    )
