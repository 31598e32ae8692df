"""Answering inbound events in the background: the queue's de-duplication, the poller that
finds events no process queued, and the split deployment (an ingest-only web process and
`wardbot worker`) on one database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

from app.cli.worker import run_worker
from app.jobs.background import Background
from app.jobs.inbox_poll import InboxPoller
from app.jobs.tasks import EventQueue
from app.storage.database import Database
from app.storage.events import NewEvent, claim_event, get_event, list_events, record_event
from app.storage.tables import EventStatus, InboundEvent, utcnow
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import OA_ID, text_event
from webhooks.events import RawEvent, inbound_message

pytestmark = pytest.mark.anyio

QUESTION = "chứng thực bản sao"


# --- EventQueue ------------------------------------------------------------------------------


async def test_the_queue_holds_an_id_once_while_it_waits_or_is_handled() -> None:
    handled: list[int] = []
    release = asyncio.Event()

    started = asyncio.Event()

    async def handler(item: int) -> None:
        handled.append(item)
        started.set()
        await release.wait()

    queue = EventQueue(handler, workers=1)
    queue.start()
    try:
        assert queue.put(1) is True
        assert queue.put(2) is True
        assert queue.put(1) is False  # waiting
        await started.wait()
        assert handled == [1]
        assert queue.put(1) is False  # being handled
        assert queue.pending == 2
        release.set()
        await queue.join()
        assert handled == [1, 2]
        assert queue.pending == 0
        assert queue.put(1) is True  # handled: may come again (the handler claims it)
        await queue.join()
        assert handled == [1, 2, 1]
    finally:
        await queue.stop()
    assert not queue.running


async def test_stopping_finishes_the_work_in_flight_and_leaves_the_rest() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    finished: list[int] = []

    async def handler(item: int) -> None:
        started.set()
        await release.wait()
        finished.append(item)

    queue = EventQueue(handler, workers=1)
    queue.start()
    for item in (1, 2, 3):
        queue.put(item)
    await started.wait()
    stopping = asyncio.create_task(queue.stop())
    await asyncio.sleep(0)
    release.set()
    await stopping
    assert finished == [1]  # 2 and 3 were never started: their events stay `received`
    assert queue.pending == 0 and not queue.running


async def test_wait_idle_returns_once_nothing_waits_or_is_handled() -> None:
    release = asyncio.Event()

    async def handler(item: int) -> None:
        await release.wait()

    queue = EventQueue(handler, workers=1)
    queue.start()
    try:
        assert await queue.wait_idle(0) is True  # nothing queued
        queue.put(1)
        queue.put(2)
        assert await queue.wait_idle(0.01) is False  # bounded: gives up while work is in hand
        waiting = asyncio.create_task(queue.wait_idle(5))
        await asyncio.sleep(0)
        assert not waiting.done()
        release.set()
        assert await waiting is True
        assert queue.pending == 0
    finally:
        await queue.stop()


# --- the poller ------------------------------------------------------------------------------


@pytest.fixture
async def app(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    """The full app with its own poller off: the tests poll by hand."""
    settings = make_settings(tmp_path, fake_zalo, zalo_oa_id=OA_ID, inbox_poll_seconds=0)
    async for running in start_app(settings):
        yield running


def _record(app: RunningApp, user_id: str, text: str = QUESTION) -> int:
    """An event recorded by a process that then died before queuing it (or an ingest-only
    web process): it is in the database, in no queue."""
    payload = text_event(user_id, text)
    event_id = record_event(
        app.services.db,
        NewEvent(
            oa_id=OA_ID,
            event_key=str(payload["message"]["msg_id"]),
            event_name="user_send_text",
            user_id=user_id,
            payload=json.dumps(payload, ensure_ascii=False),
            message=inbound_message(RawEvent.model_validate(payload)),
        ),
    )
    assert event_id is not None
    return event_id


async def test_the_poller_answers_an_event_nobody_queued_exactly_once(
    app: RunningApp, fake_zalo: FakeZalo
) -> None:
    # The reference: one message answered the usual way.
    await app.webhook.post(text_event("u0", QUESTION))
    await app.settle()
    answer = fake_zalo.sent_texts("u0")
    assert answer

    event_id = _record(app, "u1")
    await asyncio.sleep(0)
    assert fake_zalo.sent_texts("u1") == []
    poller = InboxPoller(app.services.db, app.services.queue, interval=1.0)

    assert poller.poll_once() == 1
    assert poller.poll_once() == 0  # already queued (or claimed): not twice
    await app.settle()
    assert poller.poll_once() == 0  # answered: nothing left

    assert fake_zalo.sent_texts("u1") == answer
    event = get_event(app.services.db, event_id)
    assert event is not None and event.status == EventStatus.done


async def test_two_processes_polling_one_database_answer_each_event_once(
    app: RunningApp, fake_zalo: FakeZalo
) -> None:
    await app.webhook.post(text_event("u0", QUESTION))
    await app.settle()
    answer = fake_zalo.sent_texts("u0")
    users = [f"u{i}" for i in range(1, 13)]
    for user in users:
        _record(app, user)
    # A second "process": its own queue and poller over the same database and inbox.
    other = EventQueue(app.services.inbox.handle, workers=3)
    other.start()
    try:
        pollers = [
            InboxPoller(app.services.db, app.services.queue, interval=1.0, batch=5),
            InboxPoller(app.services.db, other, interval=1.0, batch=5),
        ]
        for _ in range(4):
            for poller in pollers:
                poller.poll_once()
            await asyncio.gather(app.settle(), other.join())
    finally:
        await other.stop()
    assert {user: fake_zalo.sent_texts(user) for user in users} == dict.fromkeys(users, answer)


async def test_the_poller_releases_an_old_claim_and_leaves_a_fresh_one(
    app: RunningApp, fake_zalo: FakeZalo
) -> None:
    db = app.services.db
    fresh, old = _record(app, "fresh"), _record(app, "old")
    assert claim_event(db, fresh) is not None  # another live process is answering it
    assert claim_event(db, old) is not None
    with db.session() as session:
        # ... and this claim was left by a process that died six minutes ago.
        session.execute(
            update(InboundEvent)
            .where(col(InboundEvent.id) == old)
            .values(claimed_at=utcnow() - timedelta(minutes=6))
        )
        session.commit()

    InboxPoller(db, app.services.queue, interval=1.0).poll_once()
    await app.settle()

    assert fake_zalo.sent_texts("old")  # released, queued, answered
    assert fake_zalo.sent_texts("fresh") == []
    event = get_event(db, fresh)
    assert event is not None and event.status == EventStatus.processing


# --- the split deployment ---------------------------------------------------------------------


async def test_an_ingest_only_web_process_records_and_the_worker_answers(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    settings = make_settings(
        tmp_path, fake_zalo, zalo_oa_id=OA_ID, run_worker=False, inbox_poll_seconds=0.05
    )
    async for web in start_app(settings):
        db = web.services.db
        assert not web.services.queue.running
        assert (await web.webhook.post(text_event("u1", QUESTION))).status_code == 200
        assert (await web.webhook.post(text_event("u2", "giờ làm việc"))).status_code == 200
        await asyncio.sleep(0.1)  # a poll interval and more: nothing in this process answers
        assert fake_zalo.sent_texts() == []
        assert {e.status for e in list_events(web.services.db)} == {EventStatus.received}

        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(settings, stop))
        try:
            await _until(partial(_all_handled, db), worker)
        finally:
            stop.set()
            await worker
        assert fake_zalo.sent_texts("u1") and fake_zalo.sent_texts("u2")
        answered = len(fake_zalo.sent_texts())

        # With the worker stopped, a new message waits in the database for the next one.
        await web.webhook.post(text_event("u3", QUESTION))
        assert [e.status for e in list_events(web.services.db)][-1] == EventStatus.received
        background = Background(web.services, settings)  # what `wardbot worker` runs
        background.start()
        try:
            await _until(partial(_all_handled, db))
        finally:
            await background.stop()
        assert len(fake_zalo.sent_texts()) > answered
        assert fake_zalo.sent_texts("u3") == fake_zalo.sent_texts("u1")


def _all_handled(db: Database) -> bool:
    return all(e.status == EventStatus.done for e in list_events(db))


async def _until(condition: Callable[[], bool], task: asyncio.Task[None] | None = None) -> None:
    """Wait for `condition()` (bounded: a hang fails the test instead of blocking the run)."""
    for _ in range(600):
        if condition():
            return
        if task is not None and task.done():
            task.result()  # raise what stopped the worker
            raise AssertionError("the worker stopped early")
        await asyncio.sleep(0.05)
    raise AssertionError("not handled in time")
