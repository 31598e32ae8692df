"""Virtual time for code that takes `clock` and `sleep`: sleeping costs no real time.

`VirtualTime.run(*coroutines)` runs them as tasks; whenever every task is blocked (sleeping,
or waiting for a lock a sleeper holds), the clock jumps to the earliest wake-up. The code
under test must not wait on real I/O (database calls are synchronous; the fake Zalo only
yields), so "every task is blocked" is reached after a few turns of the event loop.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from typing import Any

START = 1_800_000_000.0
"""An arbitrary Unix time to start from."""

_TURNS = 20
"""Event-loop turns that let every runnable task reach its next wait."""


class VirtualTime:
    def __init__(self, start: float = START) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), wake))
        await wake

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
        """Run the coroutines to the end in virtual time; their results, in order."""
        tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
        try:
            while not all(task.done() for task in tasks):
                for _ in range(_TURNS):
                    await asyncio.sleep(0)
                if all(task.done() for task in tasks):
                    break
                if not self._sleepers:
                    raise RuntimeError("every task waits, and nobody sleeps: a deadlock")
                when, _, wake = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                if not wake.done():
                    wake.set_result(None)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return [task.result() for task in tasks]
