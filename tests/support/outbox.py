"""Helpers for outbox tests: no backoff sleeps, what the fake Zalo accepted per resident, a
database that refuses writes on demand, and Zalo's echo through the real webhook."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from app.services import Services
from app.storage.database import Database
from app.zalo.client import RetryPolicy, ZaloClient
from tests.conftest import RunningApp
from tests.support.fake_zalo import FakeMessage, FakeZalo
from tests.support.webhook import echo_event


async def _no_sleep(delay: float) -> None:
    return None


def fast_retries(services: Services) -> None:
    """The app's Zalo clients retry at once instead of after 0.5 s, 1 s (the tests' time),
    and the app's request budget skips its waits (a -32's back-off) instead of sleeping."""
    if services.budget is not None:
        skipped = SkippedTime()
        services.budget.clock, services.budget.sleep = skipped.clock, skipped.sleep
    clients = [services.inbox.outbox.sender]
    if services.announcer is not None:
        clients.append(services.announcer.outbox.sender)
    for client in clients:
        if isinstance(client, ZaloClient):
            client._retry = RetryPolicy(attempts=client._retry.attempts, sleep=_no_sleep)


class SkippedTime:
    """The wall clock, moved on by every sleep instead of waiting for it."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def clock(self) -> float:
        return time.time() + self.skipped

    async def sleep(self, seconds: float) -> None:
        self.skipped += seconds
        await asyncio.sleep(0)


def accepted(fake: FakeZalo) -> Counter[tuple[str, str]]:
    """The multiset of (resident, text) Zalo accepted."""
    return Counter((m.user_id, m.text) for m in fake.sent_messages)


class RefusingWrites:
    """Makes the database refuse every write (as a full disk or a lock timeout would) while
    armed; `arm_after_accept` arms it the moment Zalo accepts a message."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.armed = False
        self.refused = 0
        event.listen(db.engine, "before_cursor_execute", self._check)

    def _check(self, conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if self.armed and statement.lstrip().split(" ", 1)[0].upper() in {
            "INSERT",
            "UPDATE",
            "DELETE",
        }:
            self.refused += 1
            raise OperationalError(statement, params, Exception("database or disk is full"))

    def arm_after_accept(self, fake: FakeZalo) -> None:
        def arm(message: FakeMessage) -> None:
            self.armed = True

        fake.on_accept = arm

    @contextmanager
    def refusing(self) -> Iterator[None]:
        self.armed = True
        try:
            yield
        finally:
            self.armed = False

    def close(self) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._check)


async def post_echoes(running: RunningApp, messages: list[FakeMessage]) -> None:
    """Zalo's `oa_send_text` echo of each accepted message, through the webhook."""
    for message in messages:
        payload = echo_event(message.user_id, message.text, admin_id=None)
        payload["message"]["msg_id"] = message.message_id
        assert (await running.webhook.post(payload)).status_code == 200
    await running.settle()
