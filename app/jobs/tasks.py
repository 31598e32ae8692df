"""An owner for background tasks: keeps references, logs failures, drains at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class EventQueue:
    """A bounded pool of workers that handle queued ids with `handler`, one at a time each.

    An id is queued at most once while it waits or is being handled: the webhook queues what
    it records and the inbox poller (app.jobs.inbox_poll) queues what it finds in the database,
    often the same ids. The handler claims each event in the database anyway, so an id handled
    twice is only wasted work, never a second answer.
    """

    def __init__(self, handler: Callable[[int], Awaitable[None]], workers: int = 4) -> None:
        self._handler = handler
        self._queue: asyncio.Queue[int | None] = asyncio.Queue()
        self._workers_count = workers
        self._workers: list[asyncio.Task[None]] = []
        self._pending: set[int] = set()
        """Ids queued or being handled."""
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def running(self) -> bool:
        """Started and not stopped: this process handles what is queued."""
        return bool(self._workers)

    @property
    def pending(self) -> int:
        """How many ids wait or are being handled."""
        return len(self._pending)

    async def wait_idle(self, seconds: float) -> bool:
        """Wait until no id waits or is being handled, at most `timeout` seconds; True if
        idle. The announcement worker calls it before each delivery: residents' answers
        first (see `AnnouncementWorker`'s `replies_first`)."""
        if self._idle.is_set():
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def start(self) -> None:
        if self._workers:
            raise RuntimeError("the event queue is already running")
        self._workers = [
            asyncio.create_task(self._work(), name=f"inbox-worker-{i}")
            for i in range(self._workers_count)
        ]

    def put(self, item: int) -> bool:
        """Queue `item` unless it is already waiting or being handled; True if queued."""
        if item in self._pending:
            return False
        self._pending.add(item)
        self._idle.clear()
        self._queue.put_nowait(item)
        return True

    async def join(self) -> None:
        """Wait until everything queued so far is handled (used by tests)."""
        await self._queue.join()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let the handlers in flight finish (up to `grace_seconds`), then stop the workers.

        Ids not started yet are dropped: their events are still `received` in the database,
        where the next poll (of this process after a restart, or of another) finds them.
        """
        dropped = self._drop_waiting()
        if dropped:
            log.info("shutdown: events left for the next poll", extra={"count": dropped})
        for _ in self._workers:
            self._queue.put_nowait(None)
        workers, self._workers = self._workers, []
        try:
            await asyncio.wait_for(asyncio.gather(*workers, return_exceptions=True), grace_seconds)
        except TimeoutError:
            # Their claims expire after the lease (EVENT_CLAIM_LEASE) and are released then.
            log.warning("shutdown: event handlers cancelled after the grace period")
        self._pending.clear()
        self._idle.set()

    def _discard(self, item: int) -> None:
        self._pending.discard(item)
        if not self._pending:
            self._idle.set()

    def _drop_waiting(self) -> int:
        dropped = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return dropped
            if item is not None:
                self._discard(item)
                dropped += 1
            self._queue.task_done()

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if item is None:
                    return
                await self._handler(item)
            except Exception:
                log.exception("background handler failed", extra={"item": item})
            finally:
                if item is not None:
                    self._discard(item)
                self._queue.task_done()
