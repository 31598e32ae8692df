"""Inbound events: recorded together (one commit for concurrent webhooks), claimed atomically
with a time, and released only once a claim outlives the lease."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

import app.storage.inbound
from app.messages import InboundMessage, MessageKind
from app.storage.database import Database
from app.storage.events import (
    EVENT_CLAIM_LEASE,
    NewEvent,
    claim_event,
    finish_event,
    get_event,
    list_events,
    received_event_ids,
    record_claimed,
    record_event,
    record_events,
    release_stale_events,
)
from app.storage.inbound import InboundRecorder
from app.storage.tables import EventStatus, InboundEvent, utcnow
from tests.support.databases import database_url

TEXT = InboundMessage(MessageKind.text, text="chào")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(database_url(tmp_path))
    database.create_schema()
    yield database
    database.close()


def _record(db: Database, key: str) -> int:
    event_id = record_event(db, _new(key))
    assert event_id is not None
    return event_id


def _status(db: Database, event_id: int) -> EventStatus:
    event = get_event(db, event_id)
    assert event is not None
    return event.status


def test_a_claim_is_taken_once_and_timed(db: Database) -> None:
    event_id = _record(db, "m1")
    before = utcnow()
    claimed = claim_event(db, event_id)
    assert claimed is not None and claimed.status == EventStatus.processing
    assert claimed.claimed_at is not None
    assert claimed.claimed_at.replace(tzinfo=before.tzinfo) >= before - timedelta(seconds=1)
    assert claim_event(db, event_id) is None


def test_a_fresh_claim_is_left_alone_and_an_old_one_released(db: Database) -> None:
    fresh, old, done = _record(db, "m1"), _record(db, "m2"), _record(db, "m3")
    for event_id in (fresh, old, done):
        assert claim_event(db, event_id) is not None
    finish_event(db, done, EventStatus.done)

    assert release_stale_events(db) == []  # a live process may be answering them
    assert _status(db, fresh) == _status(db, old) == EventStatus.processing

    with db.session() as session:
        session.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == old)
            .values(claimed_at=utcnow() - EVENT_CLAIM_LEASE - timedelta(seconds=1))
        )
        session.commit()
    assert release_stale_events(db) == [old]
    assert (_status(db, fresh), _status(db, old), _status(db, done)) == (
        EventStatus.processing,
        EventStatus.received,
        EventStatus.done,
    )
    assert received_event_ids(db, 10) == [old]
    assert claim_event(db, old) is not None  # and it can be claimed again

    # Much later, every claim still open has outlived the lease.
    later = utcnow() + EVENT_CLAIM_LEASE + timedelta(minutes=1)
    assert release_stale_events(db, now=later) == [fresh, old]


def test_a_claim_without_a_time_counts_as_stale(db: Database) -> None:
    """Claimed before claims were timed (schema 0005): only a crash leaves one behind."""
    event_id = _record(db, "m1")
    with db.session() as session:
        session.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == event_id)
            .values(status=EventStatus.processing, claimed_at=None)
        )
        session.commit()
    assert release_stale_events(db) == [event_id]
    assert _status(db, event_id) == EventStatus.received


def test_received_events_come_oldest_first_and_bounded(db: Database) -> None:
    ids = [_record(db, f"m{i}") for i in range(5)]
    assert claim_event(db, ids[1]) is not None
    assert received_event_ids(db, 3) == [ids[0], ids[2], ids[3]]


def test_events_recorded_together_get_ids_and_duplicates_none(db: Database) -> None:
    first = record_events(db, [_new("a"), _new("b"), _new("a")])
    assert first[0] is not None and first[1] is not None and first[2] is None
    assert first[0] != first[1]
    again = record_events(db, [_new("b"), _new("c")])
    assert again[0] is None and again[1] is not None
    assert record_events(db, []) == []
    assert [e.event_key for e in list_events(db)] == ["a", "b", "c"]
    assert {e.status for e in list_events(db)} == {EventStatus.received}


@pytest.mark.anyio
async def test_concurrent_webhooks_share_a_commit(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counting(db: Database, events: Sequence[NewEvent]) -> list[int | None]:
        calls.append(len(events))
        return record_events(db, events)

    monkeypatch.setattr(app.storage.inbound, "record_events", counting)
    recorder = InboundRecorder(db)
    keys = [f"m{i % 15}" for i in range(20)]  # five Zalo retries among them
    ids = await asyncio.gather(*(recorder.record(_new(key)) for key in keys))
    assert sum(calls) == 20 and len(calls) < 20
    assert len({i for i in ids if i is not None}) == 15
    assert ids.count(None) == 5
    assert ids[15:] == [None] * 5  # the retries came later


def _new(key: str) -> NewEvent:
    return NewEvent("oa", key, "user_send_text", "u1", "{}", TEXT)


@pytest.mark.anyio
async def test_a_cancelled_request_does_not_cancel_the_shared_write(db: Database) -> None:
    recorder = InboundRecorder(db)
    events = [NewEvent("oa", f"hang-up-{i}", "user_send_text", "u1", "{}", TEXT) for i in range(3)]
    first = asyncio.create_task(recorder.record(events[0]))
    hung_up = asyncio.create_task(recorder.record(events[1]))
    third = asyncio.create_task(recorder.record(events[2]))
    await asyncio.sleep(0)  # all three are waiting for the write
    hung_up.cancel()
    # Bounded: a writer that tripped over the cancelled future would leave these waiting.
    assert await asyncio.wait_for(first, timeout=10) is not None
    assert await asyncio.wait_for(third, timeout=10) is not None
    with pytest.raises(asyncio.CancelledError):
        await hung_up
    # Recorded all the same: Zalo had no answer for it and will re-send it, as a duplicate.
    assert {e.event_key for e in list_events(db)} == {e.event_key for e in events}


def test_an_event_recorded_claimed_is_never_offered_to_a_worker(db: Database) -> None:
    """The simulator answers its events itself: a `wardbot worker` polling the same database
    must not take one first (the page would show no reply)."""
    event = record_claimed(db, _new("sim-1"))
    assert event.id is not None and event.status == EventStatus.processing
    assert received_event_ids(db, 10) == []
    assert claim_event(db, event.id) is None


@pytest.mark.anyio
async def test_an_event_the_database_refuses_fails_alone_not_its_whole_batch(
    db: Database,
) -> None:
    """Whatever slips past the webhook's validation, one unstorable event (here a lone
    surrogate, which no database encodes) must not cost the others sharing its commit."""
    recorder = InboundRecorder(db)
    poisoned = NewEvent("oa", "poison", "user_send_text", "u\udfff", "{}", TEXT)
    events = [_new(f"fine-{i}") for i in range(3)] + [poisoned] + [_new("fine-3")]
    results = await asyncio.gather(
        *(recorder.record(event) for event in events), return_exceptions=True
    )
    assert isinstance(results[3], Exception)
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 3)
    assert sorted(e.event_key for e in list_events(db)) == [f"fine-{i}" for i in range(4)]
