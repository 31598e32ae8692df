"""Per-resident throttling, a step of the inbox's pipeline: a resident sending a flood of
messages does not cost a Zalo call each. Past the limit in a minute they get one polite
"please slow down", then nothing until the minute has passed; every message is still recorded
(and visible to staff), only the automatic answer is skipped.

The throttle only decides; the inbox, which has claimed the event, records and sends the
"slow down" through the outbox like any reply."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import Enum

from app.dialogue.reply import Reply
from app.storage.database import Database
from app.storage.events import resident_messages_before
from app.storage.tables import InboundEvent

log = logging.getLogger(__name__)

SLOW_DOWN = Reply(
    "Dạ, phường đã nhận được các tin nhắn của anh/chị. Xin anh/chị vui lòng gửi chậm lại "
    "một chút, khoảng một phút sau phường sẽ tiếp tục trả lời ạ."
)
WINDOW = timedelta(minutes=1)


class Verdict(Enum):
    answer = "answer"
    """Within the limit: the message is answered."""
    slow_down = "slow_down"
    """The first message past the limit: answered with SLOW_DOWN only."""
    silent = "silent"
    """Further past the limit: not answered."""


class ResidentThrottle:
    """`verdict(event)` for a claimed resident message (the inbox asks before deciding)."""

    def __init__(
        self,
        db: Database,
        *,
        per_minute: int,
        on_throttled: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._limit = per_minute
        self._on_throttled = on_throttled
        self._clock = clock

    def verdict(self, event: InboundEvent) -> Verdict:
        if event.id is None or event.user_id is None:
            return Verdict.answer
        if not event.event_name.startswith("user_send_"):
            return Verdict.answer
        # Counting by id makes every process agree on each message's place in the burst.
        place = resident_messages_before(
            self._db, event.oa_id, event.user_id, event.id, self._clock() - WINDOW
        )
        if place <= self._limit:
            return Verdict.answer
        if self._on_throttled is not None:
            self._on_throttled()
        log.info("message throttled", extra={"event_id": event.id, "place": place})
        return Verdict.slow_down if place == self._limit + 1 else Verdict.silent
