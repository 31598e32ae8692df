"""RecordingSender: the simulator's MessageSender."""

from __future__ import annotations

import pytest

from app.dialogue.reply import Button, ButtonKind, Reply
from app.zalo.sender import MessageSender, RecordingSender, SentMessage

pytestmark = pytest.mark.anyio


async def test_records_replies_and_returns_sim_ids() -> None:
    seen: list[tuple[str, Reply]] = []
    sender = RecordingSender(on_send=lambda user_id, reply: seen.append((user_id, reply)))
    as_protocol: MessageSender = sender
    reply = Reply("Xin chào", (Button("Giờ làm việc", ButtonKind.query, "Giờ làm việc"),))

    first = await as_protocol.send_reply("u1", reply)
    second = await sender.send_reply("u2", Reply("Tạm biệt"))

    assert first == [SentMessage(message_id="sim-1", user_id="u1")]
    assert second == [SentMessage(message_id="sim-2", user_id="u2")]
    assert sender.sent == [("u1", reply), ("u2", Reply("Tạm biệt"))]
    assert seen == sender.sent
    assert sender.replies_to("u1") == [reply]


async def test_long_reply_gives_one_id_per_part_like_zalo() -> None:
    sender = RecordingSender()
    sent = await sender.send_reply("u1", Reply("câu. " * 700))
    assert [m.message_id for m in sent] == ["sim-1", "sim-2"]
    assert len(sender.sent) == 1
