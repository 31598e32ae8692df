"""What the rest of the app needs to send a reply, and a stand-in that sends nothing.

`ZaloClient` is the real `MessageSender`; `RecordingSender` runs the app locally without
Zalo credentials (simulator mode).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.dialogue.reply import Reply
from app.zalo.split import split_text


@dataclass(frozen=True)
class SentMessage:
    """One message Zalo accepted. `quota_type` is None when the message was billed (§3.3)."""

    message_id: str
    user_id: str
    quota_type: str | None = None


class MessageSender(Protocol):
    async def send_reply(self, user_id: str, reply: Reply) -> list[SentMessage]: ...


class RecordingSender:
    """Simulator mode: records `(user_id, reply)` and answers with ids "sim-1", "sim-2", ...

    `on_send(user_id, reply)` is called for each reply, e.g. to show it in a local console.
    Like the real client it answers one message per part of the split text.
    """

    def __init__(self, on_send: Callable[[str, Reply], None] | None = None) -> None:
        self.sent: list[tuple[str, Reply]] = []
        self._on_send = on_send
        self._ids = itertools.count(1)

    async def send_reply(self, user_id: str, reply: Reply) -> list[SentMessage]:
        self.sent.append((user_id, reply))
        if self._on_send is not None:
            self._on_send(user_id, reply)
        parts = max(1, len(split_text(reply.text)))
        return [
            SentMessage(message_id=f"sim-{next(self._ids)}", user_id=user_id) for _ in range(parts)
        ]

    def replies_to(self, user_id: str) -> list[Reply]:
        return [reply for recipient, reply in self.sent if recipient == user_id]
