"""The conversation's frames around the procedure answers: the welcome after a follow, the
fallback when nothing matched, and the hand-off to staff."""

from __future__ import annotations

from datetime import datetime

from app.catalogue.models import Catalogue, Category, Contact, WardProfile
from app.dialogue import texts
from app.dialogue.hours import is_open, next_opening_phrase
from app.dialogue.pieces import (
    call_button,
    contact_for,
    general_call_button,
    has_documents,
    menu_button,
    phone_line,
)
from app.dialogue.reply import Button, ButtonKind, Reply
from app.dialogue.texts import paragraphs


def _examples(catalogue: Catalogue, count: int) -> list[str]:
    """Procedures to quote as examples: documented ones first, as residents would name them."""
    ordered = sorted(catalogue.procedures, key=lambda p: not has_documents(p))
    return [p.short_name for p in ordered[:count]]


def welcome(catalogue: Catalogue) -> Reply:
    """The first message after a resident follows the OA."""
    ward = catalogue.ward
    questions = [
        f"“{name} {ending}”"
        for name, ending in zip(
            _examples(catalogue, 2), ("cần giấy tờ gì?", "mất mấy ngày?"), strict=False
        )
    ]
    questions.append(f"“{ward.name} làm việc mấy giờ?”")
    text = paragraphs(
        f"Dạ, {ward.name} xin chào anh/chị và cảm ơn anh/chị đã quan tâm theo dõi ạ.",
        "Em là trợ lý tự động, có thể hướng dẫn anh/chị giấy tờ cần chuẩn bị, thời hạn, lệ phí "
        "của các thủ tục hành chính, cách nộp hồ sơ trực tuyến, giờ làm việc và số điện thoại "
        "liên hệ.",
        ["Anh/chị cứ nhắn câu hỏi ngắn gọn, ví dụ:", *(f"• {q}" for q in questions)],
        f"Hoặc bấm “{texts.MENU_TITLE}” để chọn theo lĩnh vực ạ.",
        "Để phản ánh, kiến nghị (đèn đường, rác thải, an ninh trật tự…), anh/chị nhắn "
        "“phản ánh: nội dung ở địa điểm” hoặc bấm “Phản ánh” ạ.",
    )
    report = Button("Phản ánh", ButtonKind.query, "Phản ánh")
    return Reply(text, (menu_button(), report, general_call_button(ward)))


def fallback(catalogue: Catalogue) -> Reply:
    """Nothing matched: say what the bot can help with, offer the menu and the general line."""
    ward = catalogue.ward
    examples = ", ".join(f"“{name}”" for name in _examples(catalogue, 2))
    hint = f" (ví dụ: {examples})" if examples else ""
    text = paragraphs(
        "Dạ, em xin lỗi, em chưa tìm được thông tin phù hợp với câu hỏi của anh/chị ạ.",
        "Em có thể hướng dẫn giấy tờ, thời hạn, lệ phí của các thủ tục hành chính, giờ làm việc "
        f"và số điện thoại của {ward.name}. Anh/chị nhắn tên thủ tục{hint} hoặc bấm "
        f"“{texts.MENU_TITLE}” giúp em ạ.",
        ["Cần trao đổi với cán bộ, anh/chị gọi:", phone_line(ward.contact_for(None))],
    )
    return Reply(text, (menu_button(), general_call_button(ward)))


def _office_status(ward: WardProfile, contact: Contact, now: datetime) -> list[str]:
    if is_open(ward, now):
        return [
            "Hiện đang trong giờ làm việc ạ.",
            "\n".join(["Nếu cần gấp, anh/chị có thể gọi ngay:", phone_line(contact)]),
        ]
    opening = next_opening_phrase(ward, now)
    status = "Hiện đang ngoài giờ làm việc ạ."
    if opening is not None:
        status += f" {ward.name} làm việc trở lại lúc {opening}."
    return [status, "\n".join(["Trong giờ làm việc, anh/chị có thể gọi:", phone_line(contact)])]


def _handoff(catalogue: Catalogue, category: Category | None, now: datetime, opening: str) -> Reply:
    ward = catalogue.ward
    contact = contact_for(catalogue, category)
    text = paragraphs(
        f"{opening} câu hỏi của anh/chị tới cán bộ {ward.name}. Cán bộ sẽ trả lời anh/chị "
        "ngay trong cuộc trò chuyện này khi có thể ạ.",
        *_office_status(ward, contact, now),
    )
    return Reply(text, (call_button(contact, ward),))


def handoff(catalogue: Catalogue, category: Category | None, now: datetime) -> Reply:
    """The resident asked for a person: who will answer, whether the office is open now (if not,
    when it opens) and the phone line for the category (the general line without one)."""
    return _handoff(catalogue, category, now, "Dạ, em đã chuyển")


def second_failure_handoff(catalogue: Catalogue, category: Category | None, now: datetime) -> Reply:
    """After two messages in a row the bot did not understand: apologise, then hand off."""
    opening = "Dạ, em xin lỗi, em chưa hiểu được ý anh/chị. Em đã chuyển"
    return _handoff(catalogue, category, now, opening)
