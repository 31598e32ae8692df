"""Announcement delivery: a rate-limited, resumable worker, and the hand-off of deferred ones.

Deliveries are claimed atomically (pending -> sending), a few at a time, just before they
are decided and sent,
then settled: sent, deferred (outside Zalo's 7-day consultation window: -230/-232, or a last
interaction known to be older), failed (unfollowed, -213, -227, -244, or a request Zalo
refuses), or back to pending with a backoff (-32, HTTP 5xx, timeouts) until `max_attempts`.
Non-urgent announcements wait out the quiet hours (22:00-06:00 Asia/Ho_Chi_Minh); scheduled
ones wait for their time. Deferred ones go out through `deliver_deferred` the next time the
resident writes.

Sending goes through the outbox (app.outbox), like every outbound message: the delivery row
decides whether and when; the outbox records the message (split once into parts) before it
is sent, and each part's outcome. The delivery keeps the same message from one attempt to the
next, so a retry sends only the parts that did not go out.

Delivery guarantee
------------------
The one ambiguous moment is between Zalo accepting a part and our UPDATE recording it: a
crash there (or a timeout whose request did reach Zalo) leaves a part we cannot know was
sent. The policy:

1. Narrow the window. Deliveries are claimed in small batches (one per consumer) just
   before they are sent, the worker's Zalo client does not retry by itself (`attempts=1`;
   the worker retries), and `stop()` lets every delivery being sent finish and be recorded
   before the worker ends, and gives back the claims not started (nothing of them was
   sent). A stop,
   a restart, SIGTERM or Ctrl-C (within `stop`'s grace period) therefore never leaves an
   ambiguous delivery: that part is exactly-once.
2. Detect, don't guess. After a crash the claims left in `sending` expire after
   `claim_lease` (checked at start and on every pass; a lease, not "at start", because
   several workers may share the database) and go back to pending; the next attempt finds
   the message's part claimed by a dead process (or left uncertain by a timeout) and the
   outbox looks for Zalo's echo of it first: Zalo posts every message the OA sends back to
   the webhook as an `oa_send_*` event (reference §1.2), which the webhook records. Echo found
   -> sent, not re-sent (reason `echo_confirmed`). No echo after `echo_grace` -> sent again
   (reason `resent_after_unconfirmed`, so the report shows it).
3. Residual risk: if Zalo accepted the message but its echo never reached us (webhook
   down, echo events not subscribed), the resident gets it twice. We prefer that rare
   duplicate, visible in the report, to an announcement silently lost: delivery is
   at-least-once in the worst case and exactly-once whenever the echo arrives.

Logs carry ids, counts and reasons; never message text or tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time as monotonic_time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from app.announcements.groups import directory, zalo_tag_name
from app.announcements.notices import (
    ECHO_CONFIRMED,
    GAVE_UP_PREFIX,
    ON_NEXT_MESSAGE,
    OUTSIDE_WINDOW,
    RESENT_UNCONFIRMED,
    UNFOLLOWED,
    announcement_reply,
    deferred_reply,
)
from app.catalogue.models import ResidentialGroup
from app.config import Settings
from app.errors import (
    ZaloAuthError,
    ZaloError,
    ZaloRecipientError,
    ZaloTokenError,
    ZaloTransportError,
)
from app.outbox import Delivered, Outbox
from app.storage.announcements import (
    DeliveryWork,
    claim_delivery,
    claim_due_deliveries,
    deferred_delivery_ids,
    finish_delivery,
    release_stale_claims,
    requeue_if_resident_wrote,
)
from app.storage.database import Database
from app.storage.groups import TagSync, record_tag_outcome, tag_sync_for, tag_syncs_due
from app.storage.tables import DeliveryStatus, OutboundPurpose

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

WINDOW_CODES: Final = frozenset({-230, -232})
"""Zalo's "no interaction in the last 7 days": deferred until the resident writes."""

SIMULATOR_OA_ID: Final = "simulator-oa"
"""Must equal app.web.simulator.SIMULATOR_OA_ID (a test checks), without importing the web."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def announcing_oa_id(settings: Settings) -> str:
    """The OA whose residents announcements reach: ZALO_OA_ID, or the simulator's OA."""
    return SIMULATOR_OA_ID if settings.simulator else settings.zalo_oa_id


# --- pacing -------------------------------------------------------------------------------------
# The limit is the app's budget (app.zalo.budget): the worker's Zalo client spends it in the
# bulk lane, behind replies, before every request. `limiter` only adds an optional pace of this
# process's own (WARDBOT_SEND_RATE), never above the budget.


class RateLimiter(Protocol):
    async def acquire(self) -> None: ...


class TokenBucket:
    """`rate` acquisitions a second on average, bursts of at most `burst`; waiters queue FIFO.

    `monotonic` and `sleep` are injectable so tests and benchmarks control time.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        monotonic: Callable[[], float] = monotonic_time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # A little headroom absorbs the event loop's timer jitter without a visible burst.
        self.burst = burst if burst is not None else max(1.0, rate / 4)
        self._monotonic = monotonic
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._monotonic()
                elapsed = max(0.0, now - self._updated)
                self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
                self._updated = now
                # The epsilon keeps float rounding from waiting on a token that has come.
                if self._tokens >= 1 - 1e-9:
                    self._tokens = max(0.0, self._tokens - 1)
                    return
                await self._sleep((1 - self._tokens) / self.rate)


class Unpaced:
    """No pace of its own: the app's budget (app.zalo.budget), spent by the Zalo client
    before each request, is then the only limit on announcements."""

    async def acquire(self) -> None:
        return None


@dataclass(frozen=True)
class QuietHours:
    """Local night hours when non-urgent announcements wait (Zalo bans promotion at night too)."""

    start: time = time(22, 0)
    end: time = time(6, 0)
    timezone: str = "Asia/Ho_Chi_Minh"

    def is_quiet(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.timezone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, now: datetime) -> datetime:
        """The first end of the quiet hours after `now`, in UTC."""
        local = now.astimezone(ZoneInfo(self.timezone))
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)


@dataclass(frozen=True)
class DeliveryPolicy:
    window: timedelta = timedelta(days=7)
    """Zalo's consultation window (reference §3.4)."""
    window_margin: timedelta = timedelta(minutes=10)
    """Defer a little early rather than spend a call Zalo will refuse."""
    max_attempts: int = 6
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(minutes=30)
    claim_lease: timedelta = timedelta(minutes=5)
    """A claim older than this belongs to a dead worker. Must exceed the longest send."""
    echo_grace: timedelta = timedelta(seconds=30)
    """How long Zalo's echo of a sent message may take to reach the webhook."""
    auth_pause: timedelta = timedelta(minutes=5)
    """Wait after the token is refused: an admin has to act, not the resident."""
    quiet_hours: QuietHours | None = field(default_factory=QuietHours)
    tag_max_attempts: int = 8

    def backoff(self, failed_attempts: int) -> timedelta:
        factor = 1 << max(0, failed_attempts - 1)
        return min(self.backoff_max, self.backoff_base * factor)

    def outside_window(self, last_interaction: datetime | None, now: datetime) -> bool:
        """Known to be outside; unknown (never seen) is left for Zalo to decide."""
        if last_interaction is None:
            return False
        return now - last_interaction > self.window - self.window_margin


# --- settling one delivery ----------------------------------------------------------------------


def _record_error(
    db: Database, work: DeliveryWork, exc: ZaloError, now: datetime, policy: DeliveryPolicy
) -> DeliveryStatus:
    """Settle a delivery Zalo refused or that failed on the way; returns the new status."""
    if isinstance(exc, ZaloRecipientError):
        if exc.code in WINDOW_CODES:
            return _defer(db, work, now, exc.reason)
        finish_delivery(db, work, now, DeliveryStatus.failed, reason=exc.reason)
        return DeliveryStatus.failed
    if isinstance(exc, ZaloTokenError | ZaloAuthError):
        # Not this resident's fault: the attempt does not count.
        finish_delivery(
            db,
            work,
            now,
            DeliveryStatus.pending,
            reason=exc.reason,
            next_attempt_at=now + policy.auth_pause,
            refund_attempt=True,
        )
        return DeliveryStatus.pending
    if exc.transient:
        delay = policy.backoff(work.attempts)
        if isinstance(exc, ZaloTransportError) and exc.maybe_delivered:
            # It may have reached Zalo: give its echo time to arrive before the next try.
            delay = max(delay, policy.echo_grace)
        finish_delivery(
            db, work, now, DeliveryStatus.pending, reason=exc.reason, next_attempt_at=now + delay
        )
        return DeliveryStatus.pending
    finish_delivery(db, work, now, DeliveryStatus.failed, reason=exc.reason)
    return DeliveryStatus.failed


def _defer(db: Database, work: DeliveryWork, now: datetime, reason: str) -> DeliveryStatus:
    finish_delivery(db, work, now, DeliveryStatus.deferred, reason=reason)
    if requeue_if_resident_wrote(db, work, now):
        return DeliveryStatus.pending
    return DeliveryStatus.deferred


def _settle_sent(
    db: Database,
    work: DeliveryWork,
    result: Delivered,
    now: datetime,
    policy: DeliveryPolicy,
    *,
    reason: str | None = None,
) -> DeliveryStatus:
    """Settle a delivery after the outbox tried its message; returns the new status."""
    if result.complete:
        if result.resent_unconfirmed:
            reason = RESENT_UNCONFIRMED
        elif result.confirmed and not result.sent:
            reason = ECHO_CONFIRMED
        finish_delivery(
            db, work, now, DeliveryStatus.sent, reason=reason, message_id=result.first_message_id
        )
        return DeliveryStatus.sent
    if result.error is not None and not (result.busy or result.wait_until):
        return _record_error(db, work, result.error, now, policy)
    # A part waits for its echo, or another process is sending it: not an attempt.
    retry_at = result.wait_until or now + policy.echo_grace
    finish_delivery(
        db,
        work,
        now,
        DeliveryStatus.pending,
        reason=work.last_reason,
        next_attempt_at=retry_at,
        refund_attempt=True,
    )
    return DeliveryStatus.pending


async def deliver_deferred(
    db: Database,
    outbox: Outbox,
    oa_id: str,
    user_id: str,
    now: datetime,
    policy: DeliveryPolicy = DeliveryPolicy(),
) -> int:
    """Send this resident every announcement deferred for them, once each; returns how many.

    Called by the inbox when the resident writes (which opens Zalo's window). Each delivery is
    claimed deferred -> sending, so a second message, or a second inbox worker, cannot send
    it again. A transient failure hands the delivery to the worker (pending) since the
    resident is inside the window now.
    """
    ids = deferred_delivery_ids(db, oa_id, user_id)
    delivered = 0
    for index, delivery_id in enumerate(ids, start=1):
        work = claim_delivery(
            db, delivery_id, now, uuid.uuid4().hex, expected=DeliveryStatus.deferred
        )
        if work is None:
            continue
        message_id = outbox.open_message_for_delivery(work.delivery_id)
        if message_id is None:
            reply = deferred_reply(
                work.text,
                # A personal notice (no group, not everyone) is "gửi anh/chị".
                for_group=not work.target_all and work.group_id is not None,
                index=index,
                count=len(ids),
                link_url=work.link_url,
                link_title=work.link_title,
                image_url=work.image_url,
            )
            [message_id] = outbox.record(
                oa_id,
                user_id,
                (reply,),
                now=now,
                purpose=OutboundPurpose.announcement,
                delivery_id=work.delivery_id,
            )
        result = await outbox.deliver(
            [message_id], now=now, hold=False, echo_grace=policy.echo_grace
        )
        status = _settle_sent(db, work, result, now, policy, reason=ON_NEXT_MESSAGE)
        if status is DeliveryStatus.sent:
            delivered += 1
            log.info("announcement.deferred_delivered delivery=%s", work.delivery_id)
        else:
            log.warning(
                "announcement.deferred_not_delivered delivery=%s status=%s reason=%s",
                work.delivery_id,
                status,
                result.error.reason if result.error else None,
            )
    return delivered


# --- the Zalo tag mirror ------------------------------------------------------------------------


class Tagger(Protocol):
    async def tag_follower(self, user_id: str, tag_name: str) -> None: ...

    async def remove_from_tag(self, user_id: str, tag_name: str) -> None: ...


class TagMirror:
    """Mirrors each resident's group to a Zalo tag, best-effort; the local record is the truth."""

    def __init__(
        self,
        db: Database,
        tagger: Callable[[str], Tagger],
        groups: Callable[[str], Sequence[ResidentialGroup]],
        *,
        policy: DeliveryPolicy = DeliveryPolicy(),
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.tagger = tagger
        self.groups = groups
        self.policy = policy
        self.clock = clock

    async def sync_resident(self, oa_id: str, user_id: str) -> bool:
        sync = tag_sync_for(self.db, oa_id, user_id)
        return await self.sync(sync) if sync is not None else True

    async def sync_due(self, limiter: RateLimiter | None = None, limit: int = 100) -> int:
        """Retry the memberships whose tag is out of date; returns how many are now in sync."""
        done = 0
        for sync in tag_syncs_due(self.db, self.clock(), limit):
            if limiter is not None:
                await limiter.acquire()
            done += await self.sync(sync)
        return done

    async def sync(self, sync: TagSync) -> bool:
        group = directory(tuple(self.groups(sync.oa_id))).by_id(sync.group_id)
        tagger = self.tagger(sync.oa_id)  # the client with this OA's token
        wanted = zalo_tag_name(group) if group is not None else None
        applied = sync.applied_tag
        try:
            if applied is not None and applied != wanted:
                await tagger.remove_from_tag(sync.user_id, applied)
                applied = None
            if wanted is not None and applied != wanted:
                await tagger.tag_follower(sync.user_id, wanted)
                applied = wanted
        except ZaloError as exc:
            now = self.clock()
            attempts = sync.attempts + 1
            retry = exc.transient or isinstance(exc, ZaloTokenError | ZaloAuthError)
            if retry and attempts < self.policy.tag_max_attempts:
                retry_at: datetime | None = now + self.policy.backoff(attempts)
            else:
                retry_at = None
            record_tag_outcome(
                self.db,
                sync,
                now,
                applied_tag=applied,
                synced=False,
                error=exc.reason,
                retry_at=retry_at,
            )
            log.warning(
                "announcement.tag_sync_failed user=%s reason=%s retry=%s",
                sync.user_id,
                exc.reason,
                retry_at is not None,
            )
            return False
        record_tag_outcome(self.db, sync, self.clock(), applied_tag=applied, synced=True)
        return True


# --- the worker ---------------------------------------------------------------------------------


class AnnouncementWorker:
    """Owns the delivery loop: `start()` it in the lifespan, `await stop()` to drain it.

    `run_once()` does one full pass (reconcile stale claims, send everything due, sync tags);
    tests drive it directly with an injected clock.
    """

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        *,
        limiter: RateLimiter,
        policy: DeliveryPolicy = DeliveryPolicy(),
        clock: Clock = utcnow,
        tags: TagMirror | None = None,
        concurrency: int = 8,
        claim_size: int | None = None,
        poll_interval: float = 1.0,
        replies_first: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.limiter = limiter
        self.policy = policy
        self.clock = clock
        self.tags = tags
        self.concurrency = max(1, concurrency)
        self.claim_size = claim_size or self.concurrency
        """Deliveries claimed at once (one UPDATE); by default one per consumer."""
        self.poll_interval = poll_interval
        self.replies_first = replies_first
        """Awaited before each delivery is claimed: in a process that also answers residents,
        it waits (a bounded time) while answers are in hand. The database calls of a delivery
        run on the event loop, so sixteen deliveries in flight would otherwise make each step
        of a resident's answer wait behind them (seconds under load: bench/bench_province.py).
        The app's budget (replies first) then decides who gets Zalo's requests."""
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._paused_until: datetime | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the announcement worker is already running")
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name="announcement-worker")

    def wake(self) -> None:
        """New work (e.g. an announcement was just created): skip the rest of the idle wait."""
        self._wake.set()

    def request_stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def stop(self, grace: float = 30.0) -> None:
        """Stop claiming; let every claimed delivery be sent and recorded (up to `grace` s)."""
        self.request_stop()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            # Claims left behind expire after the lease and are checked against Zalo's echo.
            log.warning("announcement.worker_stop_timeout")
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def run(self) -> None:
        """Work until `request_stop()`/`stop()`."""
        log.info("announcement.worker_started concurrency=%d", self.concurrency)
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("announcement.worker_pass_failed")
            await self._idle()
        log.info("announcement.worker_stopped")

    async def _idle(self) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    # --- one pass ---------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Reconcile, send what is due, sync tags. Returns the deliveries settled or moved on."""
        self.reconcile()
        settled = await self.drain_due()
        if self.tags is not None and not self._stopping.is_set():
            await self.tags.sync_due(self.limiter)
        return settled

    def reconcile(self) -> int:
        now = self.clock()
        released = release_stale_claims(self.db, now - self.policy.claim_lease, now)
        if released:
            log.warning("announcement.stale_claims_released count=%d", released)
        return released

    async def drain_due(self) -> int:
        """Process deliveries until none is due now.

        The consumers share a small batch of claims (`claim_size`, claimed in one UPDATE),
        refilled when it runs out, so two workers take disjoint deliveries. A claim waits at
        most a few deliveries' time before it is sent (far inside the lease); the claims
        left when the worker stops or pauses are released unsent, their attempt refunded.
        """
        claimed: deque[DeliveryWork] = deque()
        open_messages: dict[int, int] = {}
        exhausted = False
        processed = 0

        def next_work() -> DeliveryWork | None:
            nonlocal exhausted
            if self._halted():
                return None
            if not claimed and not exhausted:
                now = self.clock()
                quiet = self.policy.quiet_hours
                batch = claim_due_deliveries(
                    self.db,
                    now,
                    uuid.uuid4().hex,
                    limit=self.claim_size,
                    urgent_only=quiet is not None and quiet.is_quiet(now),
                )
                exhausted = not batch
                claimed.extend(batch)
                # One look-up for the batch instead of one per delivery: only the holder of
                # a delivery's claim records or settles its message, so it cannot change.
                open_messages.update(
                    self.outbox.open_messages_for_deliveries([w.delivery_id for w in batch])
                )
            return claimed.popleft() if claimed else None

        async def consume() -> None:
            nonlocal processed
            while not self._halted():
                if self.replies_first is not None:
                    await self.replies_first()
                work = next_work()  # synchronous: no other consumer runs meanwhile
                if work is None:
                    break
                await self._deliver_claimed(work, open_messages.pop(work.delivery_id, None))
                processed += 1

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.concurrency):
                    group.create_task(consume())
        finally:
            self._release(claimed)
        return processed

    def _halted(self) -> bool:
        if self._stopping.is_set():
            return True
        return self._paused_until is not None and self.clock() < self._paused_until

    def _release(self, claimed: deque[DeliveryWork]) -> None:
        """Give back claims not started: nothing of them was sent, so no ambiguity."""
        now = self.clock()
        while claimed:
            self._put_back(claimed.popleft(), now)

    def _put_back(self, work: DeliveryWork, now: datetime, at: datetime | None = None) -> None:
        """Pending again, its attempt refunded: nothing of it went out (due now, or at `at`)."""
        finish_delivery(
            self.db,
            work,
            now,
            DeliveryStatus.pending,
            reason=work.last_reason,
            next_attempt_at=at,
            refund_attempt=True,
        )

    async def _deliver_claimed(self, work: DeliveryWork, message_id: int | None) -> None:
        try:
            await self._settle(work, message_id)
        except Exception:
            # A bug or the database: the claim expires after the lease and is reconciled.
            log.exception("announcement.delivery_error delivery=%s", work.delivery_id)

    async def _settle(self, work: DeliveryWork, message_id: int | None) -> None:
        """Decide and send one claimed delivery; `message_id`: its open message, if any."""
        now = self.clock()
        policy = self.policy
        # A message that began going out (or may have) is finished before anything else:
        # its parts are confirmed from Zalo's echo, or the rest is sent.
        if message_id is None or not self.outbox.went_out(message_id):
            if work.attempts > policy.max_attempts:
                reason = f"{GAVE_UP_PREFIX}{work.last_reason or 'unknown'}"
                self._give_up(message_id, now, reason)
                finish_delivery(self.db, work, now, DeliveryStatus.failed, reason=reason)
                return
            if work.following is False and work.unfollowed_at is not None:
                self._give_up(message_id, now, UNFOLLOWED)
                finish_delivery(self.db, work, now, DeliveryStatus.failed, reason=UNFOLLOWED)
                return
            if policy.outside_window(work.last_interaction_at, now):
                # The resident's next message brings it, introduced as such: a new message.
                self._give_up(message_id, now, OUTSIDE_WINDOW)
                _defer(self.db, work, now, OUTSIDE_WINDOW)
                return
            quiet = policy.quiet_hours
            if quiet is not None and not work.urgent and quiet.is_quiet(now):
                self._put_back(work, now, at=quiet.next_end(now))
                return
        await self.limiter.acquire()
        if message_id is None:
            reply = announcement_reply(
                work.text,
                link_url=work.link_url,
                link_title=work.link_title,
                image_url=work.image_url,
            )
            [message_id] = self.outbox.record(
                work.oa_id,
                work.user_id,
                (reply,),
                now=now,
                purpose=OutboundPurpose.announcement,
                delivery_id=work.delivery_id,
            )
        result = await self.outbox.deliver(
            [message_id], now=self.clock(), hold=False, echo_grace=policy.echo_grace
        )
        now = self.clock()
        status = _settle_sent(self.db, work, result, now, policy)
        error = result.error
        if status is not DeliveryStatus.sent and isinstance(error, ZaloTokenError | ZaloAuthError):
            self._paused_until = now + policy.auth_pause
            log.error("announcement.paused_token_refused reason=%s", error.reason)
        if error is not None:
            log.info(
                "announcement.delivery delivery=%s status=%s reason=%s",
                work.delivery_id,
                status,
                error.reason,
            )

    def _give_up(self, message_id: int | None, now: datetime, reason: str) -> None:
        if message_id is not None:
            self.outbox.give_up(message_id, now, reason)
