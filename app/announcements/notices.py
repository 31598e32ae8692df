"""What residents and staff read about announcements: the messages and the report's labels.

Pure: no storage, no Zalo. Reason codes are stored with each delivery; the labels are Vietnamese.
"""

from __future__ import annotations

from app.dialogue.reply import Button, ButtonKind, Reply

# Reason codes stored with a delivery. Zalo errors are stored as "zalo:<code>".
OUTSIDE_WINDOW = "outside_window"
"""Last interaction older than Zalo's 7-day consultation window: deferred without a call."""
UNFOLLOWED = "unfollowed"
ON_NEXT_MESSAGE = "on_next_message"
"""Sent when the resident wrote again (after a deferral)."""
ECHO_CONFIRMED = "echo_confirmed"
"""An unacknowledged attempt was found in Zalo's echo of the OA's messages: not sent again."""
RESENT_UNCONFIRMED = "resent_after_unconfirmed"
"""An earlier attempt was unacknowledged and no echo of it arrived, so it was sent again."""
GAVE_UP_PREFIX = "gave_up:"
"""Transient errors until the attempts ran out, e.g. "gave_up:ZaloTransportError"."""

STATUS_LABELS = {
    "pending": "Chờ gửi",
    "sending": "Đang gửi",
    "sent": "Đã gửi",
    "deferred": "Chờ cư dân nhắn tin (ngoài 7 ngày)",
    "failed": "Không gửi được",
}

REASON_LABELS = {
    OUTSIDE_WINDOW: "chưa tương tác với OA trong 7 ngày",
    UNFOLLOWED: "đã bỏ quan tâm OA",
    ON_NEXT_MESSAGE: "gửi khi cư dân nhắn tin lại",
    ECHO_CONFIRMED: "xác nhận qua bản sao tin Zalo gửi về",
    RESENT_UNCONFIRMED: "gửi lại sau một lần gửi chưa được xác nhận",
    "zalo:-230": "Zalo báo chưa tương tác trong 7 ngày",
    "zalo:-232": "Zalo báo chưa tương tác hoặc tương tác đã hết hạn",
    "zalo:-213": "chưa quan tâm OA",
    "zalo:-227": "tài khoản bị khóa hoặc không hoạt động quá 45 ngày",
    "zalo:-244": "người dùng đã chặn loại tin này",
    "zalo:-201": "Zalo từ chối nội dung tin (tham số không hợp lệ)",
    "zalo:-210": "tin vượt giới hạn của Zalo",
}


def reason_label(reason: str) -> str:
    if reason in REASON_LABELS:
        return REASON_LABELS[reason]
    if reason.startswith(GAVE_UP_PREFIX):
        return f"lỗi tạm thời lặp lại, đã thử đủ số lần ({reason.removeprefix(GAVE_UP_PREFIX)})"
    return reason


def announcement_reply(
    text: str,
    *,
    link_url: str | None = None,
    link_title: str | None = None,
    image_url: str | None = None,
) -> Reply:
    """The announcement as sent in the 7-day window; links and the image become buttons."""
    buttons: list[Button] = []
    if link_url:
        buttons.append(Button(link_title or "Xem chi tiết", ButtonKind.url, link_url))
    if image_url:
        buttons.append(Button("Xem hình ảnh", ButtonKind.url, image_url))
    return Reply(text.strip(), tuple(buttons))


def deferred_reply(
    text: str,
    *,
    for_group: bool,
    index: int = 1,
    count: int = 1,
    link_url: str | None = None,
    link_title: str | None = None,
    image_url: str | None = None,
) -> Reply:
    """An announcement that waited for the resident to write, introduced as such."""
    whom = "cho tổ của anh/chị" if for_group else "gửi anh/chị"
    if count == 1:
        lead = f"Dạ, phường có 1 thông báo mới {whom}:"
    else:
        lead = f"Dạ, phường có {count} thông báo mới {whom} ({index}/{count}):"
    plain = announcement_reply(text, link_url=link_url, link_title=link_title, image_url=image_url)
    return Reply(f"{lead}\n\n{plain.text}", plain.buttons)
