"""One request budget for the whole Zalo app, shared by every process, replies first.

Zalo allows 4000 OA API requests a minute per *app* (reference §7), shared by every OA of the
app and every process of the deployment. `ZaloClient` spends this budget before each request
it makes (messages, announcements, held replies, tag calls, follower lists: every attempt,
retries included), so no caller can go around it. OAuth token calls go to another host and
are not counted.

The budget is a token bucket kept in the database (app.storage.budget), so processes share
it:

- **The bound.** The bucket holds at most `capacity` tokens (two seconds' worth) and refills
  at `(per_minute - capacity) / (60 + LEASE_SECONDS)` a second. A request needs a token, and
  a token taken is used within `LEASE_SECONDS` or dropped, so any 60 seconds, wherever they
  start, see at most `capacity + refill * (60 + LEASE_SECONDS) = per_minute` requests. This
  holds whatever Zalo's minute boundaries are, as long as the hosts' clocks agree (NTP).
- **Replies first.** Two lanes spend the bucket. `Priority.reply` (answers to residents, the
  "slow down", staff answers to reports, held replies) may take the last token.
  `Priority.bulk` (announcement fan-out, tag calls, follower lists) must leave
  `reply_reserve` tokens (half the bucket) in it. Bulk therefore only ever spends the refill
  beyond that reserve: while an announcement saturates the budget the bucket hovers at the
  reserve, a reply finds a token at once, and whenever replies come faster than the reserve
  refills, the refill goes to them first (bulk waits for the bucket to climb back above the
  reserve). A 100,000-recipient announcement of one ward slows down; nobody's answer waits
  for it.
- **Few round trips.** A reply takes one token per request (one short transaction); bulk
  takes `bulk_batch` tokens at a time and spends them within `LEASE_SECONDS`.
- **-32 slows the whole app.** When Zalo answers -32 (or HTTP 429), the client records a
  back-off in the same row: every process stops sending, replies and bulk alike, until it
  ends, and the bucket starts again empty (resuming at the refill rate, not in a burst).

Other limiters: the per-resident throttle (app.throttle) limits how often one resident gets
an automatic answer, not Zalo calls; `WARDBOT_SEND_RATE`, when set, only caps one process's
announcement pace below what this budget allows (app.announcements.delivery).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

logger = logging.getLogger(__name__)

# --- Zalo facts this module assumes (reference §7; not settled there) ----------------------
APP_REQUESTS_PER_MINUTE: Final = 4000
"""The app's limit for the OA API, "reset every minute" (§7, M). WARDBOT_APP_RATE_PER_MINUTE
sets it; the per-OA limits by package (§7, §9.20) have no known numbers."""
RATE_LIMIT_BACKOFF_FIRST: Final = 10.0
"""Seconds nobody sends after a -32. Zalo says nothing of when sending may resume (§7)."""
RATE_LIMIT_BACKOFF_LONGEST: Final = 60.0
"""A -32 again soon after a back-off doubles it, up to one minute: the limit's own window."""
# ---------------------------------------------------------------------------------------------

LEASE_SECONDS: Final = 1.0
"""Tokens a process took and has not used within this time are dropped (see the bound)."""
MIN_WAIT: Final = 0.005
"""Shortest sleep between two looks at the bucket: no busy loop on float rounding."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
BudgetTime = tuple[Clock, Sleep]
"""A clock (Unix seconds) and its sleep: the real ones, or a benchmark's faster time."""


class Priority(StrEnum):
    reply = "reply"
    """Answers to residents and staff replies: may use the whole budget."""
    bulk = "bulk"
    """Announcements and other mass calls: only what replies leave."""


@dataclass(frozen=True)
class BudgetShape:
    """The bucket for a limit of `per_minute` requests (see the module docstring)."""

    per_minute: int
    capacity: float
    refill_per_second: float
    reply_reserve: float
    bulk_batch: int

    @classmethod
    def for_limit(cls, per_minute: int) -> BudgetShape:
        if per_minute < 3:
            raise ValueError("the app's budget needs at least 3 requests a minute")
        capacity = max(2.0, per_minute / 30)
        reserve = float(math.floor(capacity / 2))
        return cls(
            per_minute=per_minute,
            capacity=capacity,
            refill_per_second=(per_minute - capacity) / (60 + LEASE_SECONDS),
            reply_reserve=reserve,
            bulk_batch=max(1, min(8, math.floor(capacity - reserve))),
        )


class BudgetStore(Protocol):
    """Where the bucket lives: app.storage.budget.DatabaseBudget for every process."""

    def take(self, *, want: int, least: int, keep: float, now: float) -> tuple[int, float]:
        """(tokens granted, seconds to wait when none were)."""
        ...

    def rate_limited(self, *, now: float, first: float, longest: float) -> float:
        """Record a -32; returns the end of the back-off."""
        ...


class RateBudget:
    """This process's side of the app's budget: one per process, shared by its clients."""

    def __init__(
        self,
        store: BudgetStore,
        shape: BudgetShape,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.shape = shape
        self.clock = clock
        self.sleep = sleep
        self._reply_lock = asyncio.Lock()
        self._bulk_lock = asyncio.Lock()
        self._leased = 0
        self._lease_ends = 0.0

    def lane(self, priority: Priority) -> BudgetLane:
        """What a `ZaloClient` spends from: every request of that client has `priority`."""
        return BudgetLane(self, priority)

    async def acquire(self, priority: Priority) -> None:
        """Wait until one request may be made now."""
        if priority is Priority.reply:
            await self._acquire_reply()
        else:
            await self._acquire_bulk()

    async def _acquire_reply(self) -> None:
        # One reply at a time asks the store: when the bucket is empty, the others queue here
        # in order instead of all polling the database.
        async with self._reply_lock:
            while True:
                granted, wait = self.store.take(want=1, least=1, keep=0.0, now=self.clock())
                if granted:
                    return
                await self.sleep(max(MIN_WAIT, wait))

    async def _acquire_bulk(self) -> None:
        # One bulk caller at a time asks the store; the others wait here (first come, first
        # served) and then find tokens left over from its batch.
        async with self._bulk_lock:
            batch = self.shape.bulk_batch
            while True:
                now = self.clock()
                if self._leased and now < self._lease_ends:
                    self._leased -= 1
                    return
                self._leased = 0  # unused after the lease: dropped, never sent late
                granted, wait = self.store.take(
                    want=batch, least=batch, keep=self.shape.reply_reserve, now=now
                )
                if granted:
                    self._leased = granted - 1
                    self._lease_ends = now + LEASE_SECONDS
                    return
                await self.sleep(max(MIN_WAIT, wait))

    def rate_limited(self) -> None:
        """Zalo answered -32: every process of the app backs off (see the module docstring)."""
        self._leased = 0
        until = self.store.rate_limited(
            now=self.clock(), first=RATE_LIMIT_BACKOFF_FIRST, longest=RATE_LIMIT_BACKOFF_LONGEST
        )
        logger.warning("zalo.rate_limited backoff_until=%.0f", until)


@dataclass(frozen=True)
class BudgetLane:
    """A `RateBudget` seen by one client: its requests all have the same priority."""

    budget: RateBudget
    priority: Priority

    async def acquire(self) -> None:
        await self.budget.acquire(self.priority)

    def rate_limited(self) -> None:
        self.budget.rate_limited()
