"""Per-resident throttling in front of the inbox: a resident sending a flood of messages does
not cost a Zalo call each. Past the limit in a minute they get one polite "please slow down",
then nothing until the minute has passed; every message is still recorded (and visible to
staff), only the automatic answer is skipped."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from app.dialogue.reply import Reply
from app.outbox import Outbox
from app.storage.database import Database
from app.storage.events import claim_event, finish_event, get_event, resident_messages_before
from app.storage.tables import EventStatus, OutboundPurpose

log = logging.getLogger(__name__)

SLOW_DOWN = Reply(
    "Dạ, phường đã nhận được các tin nhắn của anh/chị. Xin anh/chị vui lòng gửi chậm lại "
    "một chút, khoảng một phút sau phường sẽ tiếp tục trả lời ạ."
)
WINDOW = timedelta(minutes=1)


class ResidentThrottle:
    """Wraps the inbox's handler: `EventQueue(ResidentThrottle(...).wrap(inbox.handle))`."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        *,
        per_minute: int,
        answers_oa: Callable[[str], bool] = lambda oa_id: True,
        on_throttled: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._limit = per_minute
        self._answers_oa = answers_oa
        self._on_throttled = on_throttled
        self._clock = clock

    def wrap(self, handle: Callable[[int], Awaitable[None]]) -> Callable[[int], Awaitable[None]]:
        async def throttled(event_id: int) -> None:
            if not await self._throttled(event_id):
                await handle(event_id)

        return throttled

    async def _throttled(self, event_id: int) -> bool:
        event = get_event(self._db, event_id)
        if event is None or event.user_id is None or not event.event_name.startswith("user_send_"):
            return False
        if not self._answers_oa(event.oa_id):
            return False  # not ours to answer: the inbox records it and says nothing
        place = resident_messages_before(
            self._db, event.oa_id, event.user_id, event_id, self._clock() - WINDOW
        )
        if place <= self._limit:
            return False
        if claim_event(self._db, event_id) is None:
            return True  # another worker has it
        if self._on_throttled is not None:
            self._on_throttled()
        if place == self._limit + 1:
            await self._slow_down(event.oa_id, event.user_id, event_id)
        finish_event(self._db, event_id, EventStatus.ignored, error="throttled")
        log.info("message throttled", extra={"event_id": event_id, "place": place})
        return True

    async def _slow_down(self, oa_id: str, user_id: str, event_id: int) -> None:
        now = self._clock()
        # Handled again after a crash: the "slow down" recorded then is finished, not repeated.
        messages = self._outbox.recorded_for_event(event_id) or self._outbox.record(
            oa_id,
            user_id,
            (SLOW_DOWN,),
            now=now,
            purpose=OutboundPurpose.slow_down,
            inbound_event_id=event_id,
        )
        await self._outbox.deliver(messages, now=now)
