"""The typed inbound message: what the bot reads of a Zalo event.

Zalo's event JSON is read once, at the edge (`webhooks.events.inbound_message`); the recorder
stores these fields beside the raw payload (kept for audit), and everything after the edge
(the inbox, reports, the outbox's echo search) reads them instead of the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MessageKind(StrEnum):
    text = "text"
    """user_send_text."""
    image = "image"
    """user_send_image, user_send_gif: a report may take its picture."""
    location = "location"
    """user_send_location."""
    media = "media"
    """Any other user_send_* (sticker, file, audio, video, link...): not read."""
    follow = "follow"
    unfollow = "unfollow"
    echo = "echo"
    """oa_send_*: a message the OA sent, posted back (ours, or typed by a staff admin)."""
    chatnow = "chatnow"
    """user_click_chatnow: the resident opened the chat."""
    other = "other"
    """Anything else (management events...): recorded, never answered."""


@dataclass(frozen=True)
class InboundMessage:
    """The fields of one event the bot acts on; ids of OA and resident are the envelope's."""

    kind: MessageKind = MessageKind.other
    text: str | None = None
    """message.text (a text, or an echo's text)."""
    msg_id: str | None = None
    """Zalo's message id."""
    admin_id: str | None = None
    """sender.admin_id of an echo: set when a staff member typed it in Zalo's own tools."""
    image_url: str | None = None
    """The first attachment's url (or thumbnail)."""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def coordinates(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude
