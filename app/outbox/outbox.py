"""The outbox: every message the bot sends is recorded before it is sent, part by part.

    record(replies)  ->  one OutboundMessage per reply, split ONCE into parts (<= 2000 chars),
                         every part stored pending: the intent, before anything goes out
    deliver(ids)     ->  per part, in order: claim it, send it, mark it sent with Zalo's id

Exactly once, part by part:

- A part is claimed (pending|held -> sending) by one guarded UPDATE before it is sent, and
  marked sent (with Zalo's message_id) after Zalo accepts it. Parts already sent are never
  sent again, and a reply is never split again: a resend sends the stored parts that did not
  go out, and nothing else.
- A part whose send failed because the connection is down (Zalo unreachable, rate limited past
  the client's retries, our token refused) is *held* with the rest of the reply: the
  held-replies job (`app.outbox.held`) sends them, in order, once the connection is back.
  An announcement's parts are left to its delivery row instead, which schedules the retries
  (app.announcements.delivery; `hold=False`): the held-replies job never takes them.
- An attempt that may have reached Zalo without our knowing (a read timeout after the request
  went out; a process that died, or could not write to the database, after sending) leaves
  the part *uncertain*. Before it is sent again, Zalo's echo (`oa_send_*`, recorded by the
  webhook) is looked for: found, the part is marked sent with the echo's id; not found after
  `echo_grace`, it is sent again (`resent_unconfirmed`). The residual risk is the one the
  announcements document: an accepted message whose echo never reaches us is sent twice.
- A claim older than `claim_lease` belongs to a dead process and may be taken over (the part
  is then uncertain); `hold_stale` hands such parts, and parts their process never tried, to
  the held-replies job.
- A part Zalo refuses for good (this resident cannot receive: -230, -213, ...; or a request it
  will never accept) fails, with the rest of its reply: half a reply is worse than none.

Logs carry ids, counts and reasons; never message text.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import cast

from app.dialogue.reply import Button, ButtonKind, Reply
from app.errors import ZaloError, ZaloRecipientError, ZaloTransportError, connection_down
from app.storage import held as held_store
from app.storage import outbox as store
from app.storage.database import Database
from app.storage.outbox import NewPart, PartRow
from app.storage.tables import DeliveryOutcome, OutboundPurpose, PartStatus
from app.zalo.sender import MessageSender
from app.zalo.split import split_text

log = logging.getLogger(__name__)


class _Step(Enum):
    next = "next"
    """Go on with the next part."""
    next_message = "next_message"
    """This message is over (its rest given up); go on with the next message."""
    stop = "stop"
    """Stop here; what follows waits, in order."""


@dataclass(frozen=True)
class _Attempt:
    """How sending one part ended, before it is written down."""

    status: PartStatus
    zalo_message_id: str | None = None
    error: ZaloError | None = None
    reason: str | None = None
    uncertain_since: datetime | object | None = store.KEEP
    confirmed: bool = False
    """Found in Zalo's echo, not sent again."""
    resent: bool = False
    """Sent again after an unconfirmed attempt."""
    wait_until: datetime | None = None


@dataclass(frozen=True)
class OutboxPolicy:
    claim_lease: timedelta = timedelta(minutes=5)
    """A claim older than this belongs to a dead process. Sending one part takes seconds (the
    client's timeout and a short retry), so much shorter would risk taking a live process's
    part; much longer only delays the resend after a crash."""
    echo_grace: timedelta = timedelta(seconds=30)
    """How long Zalo's echo of a sent message may take to reach the webhook."""


@dataclass
class Delivered:
    """What one `deliver` call did."""

    sent: int = 0
    """Parts Zalo accepted in this call."""
    confirmed: int = 0
    """Uncertain parts found in Zalo's echo: settled as sent, not sent again."""
    resent_unconfirmed: int = 0
    """Uncertain parts sent again because no echo came."""
    failed: int = 0
    """Parts given up (refused for good, with the rest of their reply)."""
    held: bool = False
    """Stopped because the connection is down: the rest waits (held, or pending)."""
    busy: bool = False
    """Stopped at a part another process is sending right now."""
    wait_until: datetime | None = None
    """Stopped at an uncertain part whose echo may still come: try again then."""
    error: ZaloError | None = None
    """The error that stopped or failed a part."""
    first_message_id: str | None = None
    """Zalo's id of the first part sent or confirmed (an announcement's delivery keeps it)."""

    @property
    def complete(self) -> bool:
        """Every part of every message went out (now or before)."""
        return not (self.held or self.busy or self.wait_until or self.failed)


def buttons_json(buttons: Sequence[Button]) -> str:
    return json.dumps(
        [{"title": b.title, "kind": b.kind.value, "payload": b.payload} for b in buttons],
        ensure_ascii=False,
    )


def buttons_of(raw: str) -> tuple[Button, ...]:
    return tuple(Button(b["title"], ButtonKind(b["kind"]), b["payload"]) for b in json.loads(raw))


def split_reply(text: str, buttons: str) -> list[NewPart]:
    """The parts of a reply, split once: Zalo's 2000-character limit, buttons on the last."""
    texts = split_text(text)
    if not texts:
        raise ValueError("a reply needs text")
    return [
        NewPart(part, buttons if index == len(texts) - 1 else "[]")
        for index, part in enumerate(texts)
    ]


class Outbox:
    """Records and sends every outbound message; see the module docstring."""

    def __init__(
        self,
        db: Database,
        sender: MessageSender | Callable[[str], MessageSender],
        *,
        simulated: bool = False,
        policy: OutboxPolicy = OutboxPolicy(),
    ) -> None:
        """`sender`: one sender, or `oa_id -> sender` (each OA's messages with its token)."""
        self.db = db
        self.sender = sender
        if hasattr(sender, "send_text"):
            single = cast(MessageSender, sender)
            self._sender_for: Callable[[str], MessageSender] = lambda oa_id: single
        else:
            self._sender_for = sender
        self.simulated = simulated
        self.policy = policy

    def sender_for(self, oa_id: str) -> MessageSender:
        """The sender of this OA's messages (with this OA's token)."""
        return self._sender_for(oa_id)

    # --- the intent -----------------------------------------------------------------------

    def record(
        self,
        oa_id: str,
        user_id: str,
        replies: Sequence[Reply],
        *,
        now: datetime,
        purpose: OutboundPurpose = OutboundPurpose.reply,
        inbound_event_id: int | None = None,
        delivery_id: int | None = None,
        report_reply_id: int | None = None,
    ) -> list[int]:
        """Store one message per reply, split into its parts, all pending; nothing is sent.

        Synchronous, so it can share a `Database.unit` with the decision that made the
        replies: the decision and its intent are committed together, or not at all."""
        ids = []
        for reply in replies:
            buttons = buttons_json(reply.buttons)
            ids.append(
                store.record_message(
                    self.db,
                    oa_id=oa_id,
                    user_id=user_id,
                    purpose=purpose,
                    text=reply.text,
                    buttons=buttons,
                    parts=split_reply(reply.text, buttons),
                    now=now,
                    inbound_event_id=inbound_event_id,
                    delivery_id=delivery_id,
                    report_reply_id=report_reply_id,
                )
            )
        return ids

    def recorded_for_event(self, event_id: int) -> list[int]:
        return store.messages_for_event(self.db, event_id)

    def message_for_report_reply(self, report_reply_id: int) -> int | None:
        return store.message_for_report_reply(self.db, report_reply_id)

    def open_message_for_delivery(self, delivery_id: int) -> int | None:
        return store.open_message_for_delivery(self.db, delivery_id)

    def open_messages_for_deliveries(self, delivery_ids: Sequence[int]) -> dict[int, int]:
        """{delivery id: its message that still has parts to send}, for a batch, one query."""
        return store.open_messages_for_deliveries(self.db, delivery_ids)

    def went_out(self, message_id: int) -> bool:
        """Whether any part of the message reached Zalo, or may have."""
        return store.went_out(self.db, [message_id])

    def give_up(self, message_id: int, now: datetime, reason: str) -> None:
        """Give up the parts of the message that did not go out (nobody will send them)."""
        store.move_unsent(self.db, [message_id], now, PartStatus.failed, reason=reason)
        store.refresh_outcome(self.db, message_id, simulated=self.simulated)

    async def send(
        self,
        oa_id: str,
        user_id: str,
        replies: Sequence[Reply],
        *,
        now: datetime,
        purpose: OutboundPurpose = OutboundPurpose.reply,
        inbound_event_id: int | None = None,
        report_reply_id: int | None = None,
    ) -> Delivered:
        """`record` then `deliver`."""
        ids = self.record(
            oa_id,
            user_id,
            replies,
            now=now,
            purpose=purpose,
            inbound_event_id=inbound_event_id,
            report_reply_id=report_reply_id,
        )
        return await self.deliver(ids, now=now)

    # --- sending --------------------------------------------------------------------------

    async def deliver(
        self,
        message_ids: Sequence[int],
        *,
        now: datetime,
        hold: bool = True,
        retry_failed: bool = False,
        echo_grace: timedelta | None = None,
        resent_at: datetime | None = None,
    ) -> Delivered:
        """Send every part of these messages that has not gone out, in order.

        Stops at the first part it cannot send now (the connection is down, another process
        has it, its echo may still come) and leaves the rest for later, in order: with
        `hold`, what is left is held for the held-replies job. `retry_failed` gives parts
        Zalo refused another try (a report reply, once the resident has written again).
        `resent_at` is stored on the messages it settles (the held-replies job).
        """
        result = Delivered()
        grace = self.policy.echo_grace if echo_grace is None else echo_grace
        summed_up: set[int] = set()
        try:
            for index, message_id in enumerate(message_ids):
                step = await self._deliver_message(
                    message_id, now, result, retry_failed, grace, resent_at, summed_up
                )
                if step is _Step.stop:
                    self._stop(message_ids[index:], now, result, hold, resent_at, summed_up)
                    break
        finally:
            # Each message's outcome is written with its last part when it can be (one
            # commit); the others' here.
            rest = [m for m in message_ids if m not in summed_up]
            if rest:
                with self.db.unit():
                    self._sum_up(rest, resent_at, summed_up)
        return result

    def _stop(
        self,
        rest: Sequence[int],
        now: datetime,
        result: Delivered,
        hold: bool,
        resent_at: datetime | None,
        summed_up: set[int],
    ) -> None:
        """What is left after a stop: given up if the resident cannot receive it; else, in
        order, held for the held-replies job (`hold`) or left to the message's owner."""
        error = result.error
        if isinstance(error, ZaloRecipientError) and not result.held:
            move, reason = PartStatus.failed, "after_failed_part"
        elif hold:
            move, reason = PartStatus.held, error.reason if error else "waiting"
        else:
            return
        with self.db.unit():
            store.move_unsent(
                self.db, rest, now, move, reason=reason, error_code=error.code if error else None
            )
            self._sum_up(rest, resent_at, summed_up)

    def _sum_up(
        self, message_ids: Sequence[int], resent_at: datetime | None, summed_up: set[int]
    ) -> None:
        for message_id in message_ids:
            store.refresh_outcome(
                self.db, message_id, simulated=self.simulated, resent_at=resent_at
            )
            summed_up.add(message_id)

    def _claim(self, part: PartRow, now: datetime, retry_failed: bool) -> PartRow | None:
        return store.claim_part(
            self.db,
            part.id,
            now,
            uuid.uuid4().hex,
            stale_before=now - self.policy.claim_lease,
            retry_failed=retry_failed,
        )

    async def _deliver_message(
        self,
        message_id: int,
        now: datetime,
        result: Delivered,
        retry_failed: bool,
        grace: timedelta,
        resent_at: datetime | None,
        summed_up: set[int],
    ) -> _Step:
        """Send the message's parts that have not gone out, in order.

        Each part's outcome is written in one transaction with the claim of the next part
        (or, after the last, the message's outcome): one commit per part."""
        todo: list[PartRow] = []
        # The look-up and the first claim share one transaction (committed before the send).
        with self.db.unit():
            for part in store.parts_of(self.db, message_id):
                if part.status is PartStatus.sent:
                    result.first_message_id = result.first_message_id or part.zalo_message_id
                elif part.status is not PartStatus.failed or retry_failed:
                    todo.append(part)
            if not todo:
                return _Step.next
            claimed = self._claim(todo[0], now, retry_failed)
        for index in range(len(todo)):
            if claimed is None:
                result.busy = True  # another process is sending it: not ours to follow
                return _Step.stop
            attempt = await self._attempt(claimed, now, grace)
            step = self._account(attempt, result)
            following = todo[index + 1] if step is _Step.next and index + 1 < len(todo) else None
            with self.db.unit():
                kept = store.settle_part(
                    self.db,
                    claimed,
                    now,
                    attempt.status,
                    zalo_message_id=attempt.zalo_message_id,
                    error_code=attempt.error.code if attempt.error else None,
                    reason=attempt.reason,
                    uncertain_since=attempt.uncertain_since,
                )
                if attempt.status is PartStatus.failed:
                    # Half a reply is worse than none: the rest of it is given up too.
                    result.failed += store.move_unsent(
                        self.db, [message_id], now, PartStatus.failed, reason="after_failed_part"
                    )
                if kept and following is not None:
                    claimed = self._claim(following, now, retry_failed)
                else:
                    self._sum_up([message_id], resent_at, summed_up)
            if not kept:
                result.busy = True  # our claim was taken over (we looked dead): stop here
                return _Step.stop
            if step is not _Step.next:
                return step
        return _Step.next

    async def _attempt(self, part: PartRow, now: datetime, grace: timedelta) -> _Attempt:
        """Send one claimed part, or settle it from Zalo's echo; nothing is written here."""
        resend = False
        if part.uncertain_since is not None:
            echo = store.find_echo(self.db, part, part.uncertain_since)
            if echo is not None:
                log.info("outbox.echo_confirmed part=%s", part.id)
                return _Attempt(PartStatus.sent, zalo_message_id=echo, confirmed=True)
            if now < part.uncertain_since + grace:
                # Its echo may still be on its way: leave it (and what follows) for later.
                return _Attempt(
                    PartStatus.held,
                    reason="awaiting_echo",
                    wait_until=part.uncertain_since + grace,
                )
            resend = True
        try:
            sender = self.sender_for(part.oa_id)
            sent = await sender.send_text(part.user_id, part.text, buttons_of(part.buttons))
        except ZaloError as exc:
            if connection_down(exc):
                # Held: sent again by the held-replies job (or an announcement's worker).
                maybe = isinstance(exc, ZaloTransportError) and exc.maybe_delivered
                log.warning(
                    "outbox.part_not_sent part=%s reason=%s uncertain=%s",
                    part.id,
                    exc.reason,
                    maybe,
                )
                return _Attempt(
                    PartStatus.held,
                    error=exc,
                    reason=exc.reason,
                    uncertain_since=(part.uncertain_since or part.claimed_at)
                    if maybe
                    else store.KEEP,
                )
            log.warning("outbox.part_refused part=%s reason=%s", part.id, exc.reason)
            return _Attempt(PartStatus.failed, error=exc, reason=exc.reason)
        return _Attempt(PartStatus.sent, zalo_message_id=sent.message_id, resent=resend)

    @staticmethod
    def _account(attempt: _Attempt, result: Delivered) -> _Step:
        """Count the attempt in `result`; what the caller does next."""
        if attempt.status is PartStatus.sent:
            result.sent += not attempt.confirmed
            result.confirmed += attempt.confirmed
            result.resent_unconfirmed += attempt.resent
            result.first_message_id = result.first_message_id or attempt.zalo_message_id
            return _Step.next
        if attempt.wait_until is not None:
            result.wait_until = attempt.wait_until
            return _Step.stop
        result.error = attempt.error
        if attempt.status is PartStatus.held:
            result.held = True
            return _Step.stop
        result.failed += 1
        # A resident who cannot receive this cannot receive what follows either.
        if isinstance(attempt.error, ZaloRecipientError):
            return _Step.stop
        return _Step.next_message

    # --- maintenance ----------------------------------------------------------------------

    # --- the held-replies job's retry loop (app.outbox.held) -------------------------------

    def held_messages(self, oa_id: str | None, batch: int, now: datetime) -> list[int]:
        """Up to `batch` messages with held parts (of `oa_id` when given), oldest first; parts
        nobody sends any more are held first, and held messages never split are split."""
        self.hold_stale(now)
        held_store.adopt_unsplit_held(self.db, now, split_reply)
        return held_store.held_message_ids(self.db, oa_id, batch)

    def message(self, message_id: int) -> store.MessageRow | None:
        return store.message(self.db, message_id)

    def answer_went_out(self, message_ids: Sequence[int]) -> bool:
        """Whether any part of these messages reached Zalo, or may have."""
        return store.went_out(self.db, message_ids)

    def introduce(self, message_id: int, text: str, now: datetime) -> bool:
        """Record a part in front of a held message's parts (the apology), held like them,
        once; its own parts never change. Whether it was added now."""
        return held_store.add_apology(self.db, message_id, text, now)

    def expire(self, message_id: int, now: datetime, reason: str) -> None:
        """Give up a held message too old to send."""
        held_store.expire_held(self.db, message_id, now, reason)
        self.outcome(message_id)

    def hold_stale(self, now: datetime) -> int:
        """Hand parts nobody is sending any more to the held-replies job (see the store)."""
        held = held_store.hold_stale(self.db, now - self.policy.claim_lease, now)
        if held:
            log.warning("outbox.stale_parts_held count=%d", held)
        return held

    def outcome(self, message_id: int) -> DeliveryOutcome:
        return store.refresh_outcome(self.db, message_id, simulated=self.simulated)
