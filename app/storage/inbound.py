"""Group commit for the webhook: concurrent webhook events are recorded in one transaction.

Every event must be on disk before Zalo gets its 200 (an acknowledged event is never
re-sent), and a commit costs a flush to disk. Recording them one by one caps a process at
one flush per event, and blocks its event loop during each. The recorder keeps one write in
flight at a time, in a thread: events arriving meanwhile wait for the next write and share
its commit. Nothing waits on a timer: a lone event is written at once.
"""

from __future__ import annotations

import asyncio
import logging

from app.storage.database import Database
from app.storage.events import NewEvent, record_events

log = logging.getLogger(__name__)


class InboundRecorder:
    """`await recorder.record(event)` returns the event's id, or None for a duplicate."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting: list[tuple[NewEvent, asyncio.Future[int | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, event: NewEvent) -> int | None:
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="inbound-recorder")
        # A client that hangs up cancels only its own future: the shared write is the writer
        # task's, which skips futures already done.
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                events = [event for event, _ in batch]
                try:
                    ids = await asyncio.to_thread(record_events, self._db, events)
                except Exception as exc:
                    if len(batch) == 1:
                        _fail(batch, exc)
                        continue
                    # One event the database refuses must not cost the others theirs: each is
                    # written on its own, and only the ones that fail again answer 500 (Zalo
                    # re-sends them later).
                    log.warning("inbound batch refused; writing its events one by one")
                    for item in batch:
                        await self._write_one(*item)
                    continue
                for (_, future), event_id in zip(batch, ids, strict=True):
                    if not future.done():
                        future.set_result(event_id)
        finally:
            self._writer = None

    async def _write_one(self, event: NewEvent, future: asyncio.Future[int | None]) -> None:
        try:
            [event_id] = await asyncio.to_thread(record_events, self._db, [event])
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(event_id)


def _fail(batch: list[tuple[NewEvent, asyncio.Future[int | None]]], exc: Exception) -> None:
    """Each webhook of `batch` answers 500, and Zalo re-sends the event later."""
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)
