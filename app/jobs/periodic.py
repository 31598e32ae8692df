"""A background job that runs one round every `interval` seconds until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class PeriodicJob:
    """Subclasses implement `run_once`; a failed round is logged and the next one runs.

    Owned by its starter: `start()` once, `await stop()` at shutdown (cancels the wait or the
    round in progress).
    """

    name = "periodic-job"
    sleep_first = False
    """True to wait one interval before the first round."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        if self.sleep_first:
            await asyncio.sleep(self.interval)
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("%s failed; retrying", self.name)
            await asyncio.sleep(self.interval)


async def in_thread(func: Callable[[], T]) -> T:
    """`asyncio.to_thread(func)` that, when cancelled, still waits for the thread to end.

    A cancelled `to_thread` leaves its thread running. At shutdown (`stop()` cancels the
    round, then the composition root closes the database) such a thread would hand its pooled
    connection back to a pool the engine has already dropped, where nobody closes it: a
    connection left open until the garbage collector finds it. Waiting keeps the order
    "work done, then database closed"; the cancellation is raised once the thread is done.
    """
    work = asyncio.ensure_future(asyncio.to_thread(func))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait({work})
        if not work.cancelled():
            work.exception()  # retrieved: the cancellation is what the caller sees
        raise
