"""What the outbox needs to send one message, and a stand-in that sends nothing.

`ZaloClient` is the real `MessageSender`; `RecordingSender` runs the app locally without
Zalo credentials (simulator mode). Both send one message (one part of a reply, at most 2000
characters): splitting a reply is the outbox's job (app.outbox), done once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from app.dialogue.reply import Button


@dataclass(frozen=True)
class SentMessage:
    """One message Zalo accepted. `quota_type` is None when the message was billed (§3.3)."""

    message_id: str
    user_id: str
    quota_type: str | None = None


class MessageSender(Protocol):
    async def send_text(
        self, user_id: str, text: str, buttons: Iterable[Button] = ()
    ) -> SentMessage: ...


@dataclass(frozen=True)
class RecordedMessage:
    user_id: str
    text: str
    buttons: tuple[Button, ...]


class RecordingSender:
    """Simulator mode: records each message and answers with ids "sim-1", "sim-2", ...

    `on_send(message)` is called for each one, e.g. to show it in a local console.
    """

    def __init__(self, on_send: Callable[[RecordedMessage], None] | None = None) -> None:
        self.sent: list[RecordedMessage] = []
        self._on_send = on_send
        self._ids = itertools.count(1)

    async def send_text(
        self, user_id: str, text: str, buttons: Iterable[Button] = ()
    ) -> SentMessage:
        message = RecordedMessage(user_id, text, tuple(buttons))
        self.sent.append(message)
        if self._on_send is not None:
            self._on_send(message)
        return SentMessage(message_id=f"sim-{next(self._ids)}", user_id=user_id)

    def texts_to(self, user_id: str) -> list[str]:
        return [m.text for m in self.sent if m.user_id == user_id]
