"""RecordingSender: the simulator's MessageSender."""

from __future__ import annotations

import pytest

from app.dialogue.reply import Button, ButtonKind
from app.zalo.sender import MessageSender, RecordedMessage, RecordingSender, SentMessage

pytestmark = pytest.mark.anyio


async def test_records_messages_and_returns_sim_ids() -> None:
    seen: list[RecordedMessage] = []
    sender = RecordingSender(on_send=seen.append)
    as_protocol: MessageSender = sender
    button = Button("Giờ làm việc", ButtonKind.query, "Giờ làm việc")

    first = await as_protocol.send_text("u1", "Xin chào", (button,))
    second = await sender.send_text("u2", "Tạm biệt")

    assert first == SentMessage(message_id="sim-1", user_id="u1")
    assert second == SentMessage(message_id="sim-2", user_id="u2")
    assert sender.sent == [
        RecordedMessage("u1", "Xin chào", (button,)),
        RecordedMessage("u2", "Tạm biệt", ()),
    ]
    assert seen == sender.sent
    assert sender.texts_to("u1") == ["Xin chào"]
