"""Replies held while the Zalo connection was down go out once it is back.

A part is held when Zalo was unreachable or refused our token, or when nobody sends it any more
(its process died: `Outbox.hold_stale`). After each background token check that finds the
connection healthy, `HeldReplies.resend` sends the held parts of each message, oldest message
first, through the outbox: only the parts that did not go out, as they were first split.

The apology. A reply of which nothing went out is introduced by a short apology naming the
time of the resident's message, as a message of its own (an extra part in front, position 0)
so the reply's own parts never change. Not when something of the answer already went out: the
resident then has the beginning, and the rest simply follows. One apology per resident
message, in front of its first reply; none for a staff member's answer or "please slow down".

A reply older than `max_age` is not sent: by then the resident has likely gone to the office
or asked again, and Zalo bills messages sent more than 48 hours after the resident's last
message (reference §3.4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.outbox.outbox import Outbox
from app.storage.outbox import MessageRow
from app.storage.tables import OutboundPurpose

log = logging.getLogger(__name__)

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
HELD_REPLY_MAX_AGE = timedelta(hours=48)
EXPIRED = "held_expired"


def apology(asked_at: datetime) -> str:
    local = asked_at.astimezone(LOCAL_TIME)
    return (
        "Dạ, xin lỗi anh/chị vì phường trả lời chậm do sự cố kết nối. Đây là trả lời cho "
        f"tin nhắn anh/chị gửi lúc {local:%H:%M} ngày {local:%d/%m}:"
    )


@dataclass
class ResendCounts:
    sent: int = 0
    """Messages now fully delivered."""
    failed: int = 0
    expired: int = 0
    still_held: int = 0


class HeldReplies:
    def __init__(
        self,
        outbox: Outbox,
        oa_id: str | None,
        *,
        max_age: timedelta = HELD_REPLY_MAX_AGE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        report_reply_delivered: Callable[[int, datetime], None] | None = None,
    ) -> None:
        self._outbox = outbox
        self._report_reply_delivered = report_reply_delivered
        """Told when a staff answer to a report went out (app.reports: `delivered_later`)."""
        self._oa_id = oa_id
        self._max_age = max_age
        self._clock = clock

    async def resend(self, batch: int = 200, *, oa_id: str | None = None) -> ResendCounts:
        """Send up to `batch` held messages (of `oa_id` when given, else of the OA this was
        built for); stops at the first sign the connection is down."""
        only = oa_id if oa_id is not None else self._oa_id
        counts = ResendCounts()
        for message_id in self._outbox.held_messages(only, batch, self._clock()):
            message = self._outbox.message(message_id)
            if message is None:
                continue
            now = self._clock()
            if now - message.created_at > self._max_age:
                self._outbox.expire(message_id, now, EXPIRED)
                counts.expired += 1
                continue
            self._introduce(message, now)
            result = await self._outbox.deliver([message_id], now=now, resent_at=now)
            if result.complete:
                counts.sent += 1
                if message.report_reply_id is not None and self._report_reply_delivered:
                    self._report_reply_delivered(message.report_reply_id, now)
            elif result.held or result.wait_until is not None:
                counts.still_held += 1
                if result.held:
                    break  # the connection is down again: the rest waits for the next round
            elif result.failed:
                counts.failed += 1
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

    def _introduce(self, message: MessageRow, now: datetime) -> None:
        """The apology, in front of the first reply to a resident message nothing of whose
        answer went out yet (see the module docstring)."""
        if message.purpose is not OutboundPurpose.reply or message.inbound_event_id is None:
            return
        answer = self._outbox.recorded_for_event(message.inbound_event_id)
        if not answer or answer[0] != message.id or self._outbox.answer_went_out(answer):
            return
        self._outbox.introduce(message.id, apology(message.created_at), now)
