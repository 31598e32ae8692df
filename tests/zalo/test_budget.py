"""The app's request budget (app.zalo.budget) shared by several processes through the database.

Each "process" is its own `Database` (own engine and connections) and `RateBudget` on the same
SQLite file or PostgreSQL database (WARDBOT_TEST_DATABASE_URL), so only the stored bucket
keeps them within the limit. Time is virtual (tests/support/virtual_time.py): the figures
below are exact, not measured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.errors import ZaloRateLimited
from app.storage.budget import Bucket, DatabaseBudget, budget_state
from app.storage.database import Database
from app.zalo.budget import (
    RATE_LIMIT_BACKOFF_FIRST,
    BudgetShape,
    Priority,
    RateBudget,
)
from app.zalo.client import RetryPolicy, ZaloClient
from tests.support.databases import database_url
from tests.support.fake_zalo import MESSAGE_CS_PATH, FakeZalo
from tests.support.virtual_time import START, VirtualTime

pytestmark = pytest.mark.anyio

APP = "app-1"
HORIZON = START + 600


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two processes' handles on one database."""
    url = database_url(tmp_path)
    first = Database(url)
    first.create_schema()
    second = Database(url)
    yield first, second
    first.close()
    second.close()


def budget(db: Database, shape: BudgetShape, time: VirtualTime) -> RateBudget:
    bucket = Bucket(shape.capacity, shape.refill_per_second)
    return RateBudget(DatabaseBudget(db, APP, bucket), shape, clock=time.clock, sleep=time.sleep)


def busiest_minute(times: list[float]) -> int:
    """The most requests in any 60 seconds, wherever they start."""
    times = sorted(times)
    busiest, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 60:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


def test_the_shape_keeps_any_minute_within_the_limit() -> None:
    shape = BudgetShape.for_limit(4000)
    # Tokens in the bucket plus the refill over a minute and a lease: exactly the limit.
    assert shape.capacity + shape.refill_per_second * 61 == pytest.approx(4000)
    assert 0 < shape.reply_reserve < shape.capacity
    assert 1 <= shape.bulk_batch <= shape.capacity - shape.reply_reserve
    with pytest.raises(ValueError):
        BudgetShape.for_limit(2)


async def test_two_processes_never_exceed_the_limit_in_any_minute(
    databases: tuple[Database, Database],
) -> None:
    time = VirtualTime()
    shape = BudgetShape.for_limit(120)
    processes = [budget(db, shape, time) for db in databases]
    sent: list[float] = []
    by_process = [0, 0]

    async def sender(index: int, priority: Priority, count: int) -> None:
        for _ in range(count):
            await processes[index].acquire(priority)
            sent.append(time.now)
            by_process[index] += 1

    # Each process has replies and bulk senders, all as fast as the budget lets them.
    await time.run(
        *(sender(index, Priority.bulk, 150) for index in (0, 1) for _ in range(3)),
        *(sender(index, Priority.reply, 60) for index in (0, 1) for _ in range(2)),
    )

    assert len(sent) == 2 * (3 * 150 + 2 * 60)
    assert min(by_process) > 0
    assert busiest_minute(sent) <= 120
    # The budget is used, not merely respected: about the limit every minute.
    minutes = (max(sent) - min(sent)) / 60
    assert len(sent) / minutes > 0.9 * 120


async def test_replies_go_out_at_once_while_an_announcement_saturates_the_budget(
    databases: tuple[Database, Database],
) -> None:
    time = VirtualTime()
    shape = BudgetShape.for_limit(600)
    announcer, answerer = (budget(db, shape, time) for db in databases)
    bulk_sent: list[float] = []
    reply_waits: list[float] = []
    done = False

    async def fan_out() -> None:
        while not done and time.now < HORIZON:  # the horizon ends a test that would hang
            await announcer.acquire(Priority.bulk)
            bulk_sent.append(time.now)

    async def residents() -> None:
        nonlocal done
        await time.sleep(30)  # the announcement has been saturating the budget for a while
        for _ in range(40):
            asked = time.now
            await answerer.acquire(Priority.reply)
            reply_waits.append(time.now - asked)
            await time.sleep(2)
        done = True

    await time.run(*(fan_out() for _ in range(8)), residents())

    assert reply_waits == [0.0] * 40  # every reply found a token at once
    during = [at for at in bulk_sent if at >= time.now - 80]
    # Meanwhile the announcement had all the rest: the refill less the replies' share.
    assert len(during) >= 0.9 * (shape.refill_per_second * 80 - 40)


async def test_a_burst_of_replies_takes_the_refill_before_the_announcement(
    databases: tuple[Database, Database],
) -> None:
    time = VirtualTime()
    shape = BudgetShape.for_limit(600)
    announcer, answerer = (budget(db, shape, time) for db in databases)
    bulk_sent: list[float] = []
    replies_sent: list[float] = []
    done = False

    async def fan_out() -> None:
        while not done and time.now < HORIZON:  # the horizon ends a test that would hang
            await announcer.acquire(Priority.bulk)
            bulk_sent.append(time.now)

    async def reply() -> None:
        await answerer.acquire(Priority.reply)
        replies_sent.append(time.now)

    async def burst() -> None:
        nonlocal done
        await time.sleep(30)
        # Far more replies than the bucket holds: they need the refill too.
        await asyncio.gather(*(reply() for _ in range(60)))
        await time.sleep(5)
        done = True

    await time.run(*(fan_out() for _ in range(8)), burst())

    first, last = min(replies_sent), max(replies_sent)
    assert last - first > 1  # the burst did wait for the refill
    assert not [at for at in bulk_sent if first < at <= last]  # and the announcement waited
    assert [at for at in bulk_sent if at > last]  # then went on


async def test_a_rate_limit_answer_puts_every_sender_of_every_process_into_back_off(
    databases: tuple[Database, Database], fake_zalo: FakeZalo
) -> None:
    time = VirtualTime()
    shape = BudgetShape.for_limit(4000)
    first, second = (budget(db, shape, time) for db in databases)
    fake_zalo.queue_error(MESSAGE_CS_PATH, -32, "Your application/OA reached limit call api")

    async with httpx.AsyncClient() as http:

        def client(process: RateBudget, priority: Priority) -> ZaloClient:
            return ZaloClient(
                http,
                api_base_url=fake_zalo.api_base_url,
                tokens=fake_zalo.token_manager(http),
                retry=RetryPolicy(attempts=1),
                budget=process.lane(priority),
            )

        announcements = client(first, Priority.bulk)
        replies_elsewhere = client(second, Priority.reply)
        bulk_elsewhere = client(second, Priority.bulk)

        async def hit_the_limit() -> float:
            with pytest.raises(ZaloRateLimited):
                await announcements.send_text("u1", "Thông báo")
            return time.now

        [limited_at] = await time.run(hit_the_limit())
        requests_before = len(fake_zalo.requests)

        async def send(sender: ZaloClient, user_id: str) -> float:
            await sender.send_text(user_id, "Xin chào")
            return time.now

        sent_at = await time.run(
            send(replies_elsewhere, "u2"), send(bulk_elsewhere, "u3"), send(announcements, "u4")
        )

    until = limited_at + RATE_LIMIT_BACKOFF_FIRST
    assert all(at >= until for at in sent_at)  # nobody sent during the back-off
    assert len(fake_zalo.requests) == requests_before + 3  # nor tried to
    state = budget_state(databases[1], APP)
    assert state is not None and state.rate_limited == 1
    assert fake_zalo.sent_texts() == ["Xin chào"] * 3
