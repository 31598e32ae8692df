"""A background job that runs one round every `interval` seconds until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging

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
