"""An owner for background tasks: keeps references, logs failures, drains at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class EventQueue:
    """A bounded pool of workers that handle queued ids with `handler`, one at a time each."""

    def __init__(self, handler: Callable[[int], Awaitable[None]], workers: int = 4) -> None:
        self._handler = handler
        self._queue: asyncio.Queue[int | None] = asyncio.Queue()
        self._workers_count = workers
        self._workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._work(), name=f"inbox-worker-{i}")
            for i in range(self._workers_count)
        ]

    def put(self, item: int) -> None:
        self._queue.put_nowait(item)

    async def join(self) -> None:
        """Wait until everything queued so far is handled (used by tests and shutdown)."""
        await self._queue.join()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Finish queued work (up to `grace_seconds`), then stop the workers."""
        try:
            await asyncio.wait_for(self._queue.join(), grace_seconds)
        except TimeoutError:
            log.warning("shutdown: queued events left for the next start")
        for _ in self._workers:
            self._queue.put_nowait(None)
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

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
                self._queue.task_done()
