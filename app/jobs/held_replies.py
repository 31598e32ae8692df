"""Replies held while the Zalo connection was down go out once it is back.

A reply is held (outcome `held`) when Zalo was unreachable or refused our token; the resident
is not asked to write again. After each background token check that finds the connection
healthy, `HeldReplies.resend` sends them oldest first, each introduced by a short apology
naming the time of the resident's message. A reply older than `max_age` is not sent: by then
the resident has likely gone to the office or asked again, and Zalo bills messages sent
more than 48 hours after the resident's last message (reference §3.4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.dialogue.reply import Reply
from app.errors import ZaloError, connection_down
from app.storage.connection import claim_held, finish_held, held_replies, reply_of
from app.storage.database import Database, as_utc
from app.storage.tables import DeliveryOutcome
from app.zalo.sender import MessageSender

log = logging.getLogger(__name__)

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
HELD_REPLY_MAX_AGE = timedelta(hours=48)


def late_reply(reply: Reply, asked_at: datetime) -> Reply:
    local = asked_at.astimezone(LOCAL_TIME)
    apology = (
        "Dạ, xin lỗi anh/chị vì phường trả lời chậm do sự cố kết nối. Đây là trả lời cho "
        f"tin nhắn anh/chị gửi lúc {local:%H:%M} ngày {local:%d/%m}:"
    )
    return Reply(f"{apology}\n\n{reply.text}", reply.buttons)


@dataclass
class ResendCounts:
    sent: int = 0
    failed: int = 0
    expired: int = 0
    still_held: int = 0


class HeldReplies:
    def __init__(
        self,
        db: Database,
        sender: MessageSender,
        oa_id: str | None,
        *,
        simulated: bool = False,
        max_age: timedelta = HELD_REPLY_MAX_AGE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._sender = sender
        self._oa_id = oa_id
        self._simulated = simulated
        self._max_age = max_age
        self._clock = clock

    async def resend(self, batch: int = 200) -> ResendCounts:
        """Send up to `batch` held replies; stops at the first sign the connection is down."""
        counts = ResendCounts()
        introduced: set[int | None] = set()
        for row in held_replies(self._db, self._oa_id, batch):
            assert row.id is not None
            now = self._clock()
            if not claim_held(self._db, row.id, now):
                continue  # another process is sending it
            asked_at = as_utc(row.created_at) or now
            if now - asked_at > self._max_age:
                finish_held(self._db, row.id, DeliveryOutcome.failed, reason="held_expired")
                counts.expired += 1
                continue
            reply = reply_of(row)
            if row.inbound_event_id not in introduced:
                # One apology per resident message, before the first of its replies.
                introduced.add(row.inbound_event_id)
                reply = late_reply(reply, asked_at)
            try:
                sent = await self._sender.send_reply(row.user_id, reply)
            except ZaloError as exc:
                if connection_down(exc):
                    finish_held(
                        self._db,
                        row.id,
                        DeliveryOutcome.held,
                        error_code=exc.code,
                        reason=exc.reason,
                    )
                    counts.still_held += 1
                    break
                finish_held(
                    self._db, row.id, DeliveryOutcome.failed, error_code=exc.code, reason=exc.reason
                )
                counts.failed += 1
                continue
            outcome = DeliveryOutcome.simulated if self._simulated else DeliveryOutcome.sent
            finish_held(self._db, row.id, outcome, zalo_message_ids=[s.message_id for s in sent])
            counts.sent += 1
        if counts.sent or counts.failed or counts.expired:
            log.info(
                "held replies resent",
                extra={
                    "sent": counts.sent,
                    "failed": counts.failed,
                    "expired": counts.expired,
                    "still_held": counts.still_held,
                },
            )
        return counts
