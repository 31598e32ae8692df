"""What the bot says: text plus optional buttons, independent of Zalo's wire format."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ButtonKind(StrEnum):
    url = "url"
    """Opens a link (Zalo `oa.open.url`)."""
    query = "query"
    """Sends `payload` back as the resident's own text message (Zalo `oa.query.show`)."""
    phone = "phone"
    """Opens the dialler on `payload` (Zalo `oa.open.phone`)."""


@dataclass(frozen=True)
class Button:
    title: str
    kind: ButtonKind
    payload: str


@dataclass(frozen=True)
class Reply:
    """One answer to a resident. The Zalo client splits text longer than Zalo's limit."""

    text: str
    buttons: tuple[Button, ...] = ()


MAX_BUTTONS = 5
"""Zalo allows at most 5 buttons on a consultation message (reference §3.2)."""


MESSAGE_LIMIT = 2000
"""Zalo's limit on one text message (app.zalo.split.TEXT_LIMIT). A first answer fits in one;
only the full view ("Xem đầy đủ"), which residents ask for, takes several: at most
`fullview.MAX_PAGE_MESSAGES` a page, one page a tap."""
