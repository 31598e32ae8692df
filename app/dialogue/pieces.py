"""The pieces procedure replies and frames are built from: names, contacts, buttons, the portal
link, and where a procedure is really handled (police and military matters say so first).

A fact the catalogue does not have is said to be missing (NOT_KNOWN); nothing is filled in.
"""

from __future__ import annotations

import re

from app.catalogue.models import Catalogue, Category, Contact, HandledBy, Procedure, WardProfile
from app.dialogue import texts
from app.dialogue.reply import Button, ButtonKind
from app.dialogue.texts import capitalise, plain

NOT_KNOWN = "em chưa có thông tin chính thức"
_NAME_LIMIT = 100
"""Longest procedure name shown in a sentence or a list line before it is clipped."""
_TRUNCATED_SHORT_NAME = 30
"""A short_name at least this long that is a prefix of the name was cut to fit a button."""

# --- names, contacts, buttons -------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-")
    return f"{cut}…"


def display_name(proc: Procedure) -> str:
    """The name to show in a sentence or a list: the short name, unless it was cut mid-phrase to
    fit a button, in which case the official name (without "Thủ tục", clipped if very long).
    It always starts with the short name, so a resident who types what they see is understood."""
    full = capitalise(re.sub(r"^thủ tục\s+", "", proc.name.strip(), flags=re.IGNORECASE))
    short = proc.short_name.strip()
    cut_short = len(short) >= _TRUNCATED_SHORT_NAME and len(full) > len(short)
    if cut_short and full.lower().startswith(short.lower()):
        return _clip(full, _NAME_LIMIT)
    return short


def has_documents(proc: Procedure) -> bool:
    return proc.plain is not None or proc.documents.known


def procedure_contact(proc: Procedure, catalogue: Catalogue) -> Contact:
    """The phone line for a procedure's category (the general line without one)."""
    return contact_for(catalogue, catalogue.category(proc.category))


def contact_for(catalogue: Catalogue, category: Category | None) -> Contact:
    """A category's phone line (the general line without a category or a line of its own)."""
    return catalogue.ward.contact_for(category.contact if category else None)


def call_button(contact: Contact, ward: WardProfile) -> Button:
    """A call button titled "Gọi <label>" when it fits (the general line: "Gọi <ward name>")."""
    for title in (f"Gọi {contact.label}", f"Gọi {ward.name}"):
        if len(title) <= texts.BUTTON_TITLE_LIMIT:
            return Button(title, ButtonKind.phone, contact.dial)
        if contact != ward.contact_for(None):
            break
    return Button(texts.CALL_FALLBACK_TITLE, ButtonKind.phone, contact.dial)


def general_call_button(ward: WardProfile) -> Button:
    return call_button(ward.contact_for(None), ward)


def portal_button(proc: Procedure) -> Button:
    return Button(texts.PORTAL_TITLE, ButtonKind.url, proc.dvc.best_url)


def menu_button() -> Button:
    return Button(texts.MENU_TITLE, ButtonKind.query, texts.MENU_PAYLOAD)


def full_view_button(proc: Procedure) -> Button:
    payload = texts.FULL_CARD_PAYLOAD.format(name=proc.short_name)
    return Button(texts.FULL_CARD_TITLE, ButtonKind.query, payload)


def phone_line(contact: Contact) -> str:
    return f"☎ {contact.label}: {contact.phone}"


def portal_block(proc: Procedure) -> str:
    if proc.dvc.detail_url:
        return f"🔗 Thông tin chính thức trên Cổng Dịch vụ công:\n{proc.dvc.detail_url}"
    return (
        "🔗 Tra cứu trên Cổng Dịch vụ công (đường dẫn mở trang tìm kiếm, anh/chị bấm vào đúng "
        f"tên thủ tục trong kết quả):\n{proc.dvc.search_url}"
    )


def ask_staff(contact: Contact) -> str:
    return (
        "Anh/chị vui lòng xem trên Cổng Dịch vụ công hoặc gọi "
        f"{contact.label}, số {contact.phone}, để được hướng dẫn chính xác ạ."
    )


def not_known(what: str, proc: Procedure) -> str:
    return f"Dạ, em chưa có thông tin chính thức về {what} của thủ tục {display_name(proc)} ạ."


def without_label(label: str, value: str) -> str:
    """A fact after its label, without repeating it ("Lệ phí: Lệ phí do HĐND..." -> "Lệ phí: do
    HĐND...")."""
    text = plain(value)
    if text.lower().startswith(label.lower() + " "):
        text = text[len(label) + 1 :]
    return text


def clause(text: str) -> str:
    """A fact inside a sentence of ours: abbreviations spelled out, no final full stop."""
    return plain(text).rstrip(" .")


# --- where a procedure is handled -----------------------------------------------------------


def handled_elsewhere(
    proc: Procedure, ward: WardProfile, contact: Contact, subject: str = "Dạ, thủ tục này"
) -> str | None:
    """Police and military procedures: who really handles them, said before anything else."""
    if proc.handled_by is HandledBy.police:
        police = ward.police
        return "\n".join(
            [
                f"{subject} do Công an cấp xã giải quyết, không nộp tại {texts.ONE_STOP_NAME} "
                "ạ. Anh/chị liên hệ:",
                police.name,
                f"📍 {police.address}",
                f"☎ {police.phone or contact.phone}",
            ]
        )
    if proc.handled_by is HandledBy.military:
        return "\n".join(
            [
                f"{subject} do Ban Chỉ huy quân sự cấp xã giải quyết ạ. Anh/chị liên hệ:",
                phone_line(contact),
            ]
        )
    return None


def in_person_place(proc: Procedure, ward: WardProfile) -> str:
    if proc.handled_by is HandledBy.police:
        return f"{ward.police.name} ({ward.police.address})"
    if proc.handled_by is HandledBy.military:
        return "Ban Chỉ huy quân sự cấp xã"
    return ward.address


def _channel_line(
    channel: str, proc: Procedure, ward: WardProfile, place_given: bool = False
) -> str:
    low = channel.strip().lower()
    if low in ("trực tiếp", "trực tiếp tại ttpvhcc"):
        place = "địa chỉ trên" if place_given else in_person_place(proc, ward)
        return f"Trực tiếp tại {place}"
    if low == "trực tuyến":
        return f"Trực tuyến trên {texts.PORTAL_NAME}"
    if low == "bưu chính":
        return "Qua dịch vụ bưu chính"
    return capitalise(plain(channel))


def _is_online(channel: str) -> bool:
    return channel.strip().lower().startswith("trực tuyến")


def channel_lines(
    proc: Procedure, ward: WardProfile, *, only_online: bool = False, place_given: bool = False
) -> list[str]:
    return [
        f"• {_channel_line(c, proc, ward, place_given)}"
        for c in proc.channels or ()
        if _is_online(c) or not only_online
    ]
