"""The conversation's frames: welcome, fallback and hand-off."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.catalogue import Catalogue
from app.dialogue import cards, fullview
from app.dialogue.frames import fallback, handoff, second_failure_handoff, welcome
from app.dialogue.reply import ButtonKind

from .support import assert_well_formed

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_MORNING = datetime(2025, 11, 24, 9, 0, tzinfo=VN)
MONDAY_LUNCH = datetime(2025, 11, 24, 12, 0, tzinfo=VN)
SUNDAY = datetime(2025, 11, 23, 10, 0, tzinfo=VN)


def test_welcome(catalogue: Catalogue) -> None:
    reply = welcome(catalogue)
    assert_well_formed(reply)
    assert catalogue.ward.name in reply.text.splitlines()[0]
    examples = [line for line in reply.text.splitlines() if line.startswith("• “")]
    assert 2 <= len(examples) <= 3
    assert "Đăng ký khai sinh" in examples[0]
    assert reply.buttons[0].payload == "Danh sách thủ tục"


def test_fallback_is_short_and_offers_menu_and_phone(catalogue: Catalogue) -> None:
    reply = fallback(catalogue)
    assert_well_formed(reply)
    general = catalogue.ward.contact_for(None)
    assert general.phone in reply.text
    assert len(reply.text) < 600
    kinds = [(b.kind, b.payload) for b in reply.buttons]
    assert kinds == [(ButtonKind.query, "Danh sách thủ tục"), (ButtonKind.phone, general.dial)]


def test_handoff_while_open_gives_the_category_line(catalogue: Catalogue) -> None:
    category = catalogue.category("ho_tich")
    reply = handoff(catalogue, category, MONDAY_MORNING)
    assert_well_formed(reply)
    assert "trả lời anh/chị ngay trong cuộc trò chuyện này" in reply.text
    assert "đang trong giờ làm việc" in reply.text
    assert "0200 000 0001" in reply.text
    assert [(b.kind, b.payload) for b in reply.buttons] == [(ButtonKind.phone, "02000000001")]


@pytest.mark.parametrize(
    ("now", "reopens"),
    [(SUNDAY, "07:30 sáng mai"), (MONDAY_LUNCH, "13:30 chiều nay")],
)
def test_handoff_while_closed_says_when_it_reopens(
    catalogue: Catalogue, now: datetime, reopens: str
) -> None:
    reply = handoff(catalogue, None, now)
    assert "ngoài giờ làm việc" in reply.text
    assert f"làm việc trở lại lúc {reopens}" in reply.text
    general = catalogue.ward.contact_for(None)
    assert general.phone in reply.text
    assert reply.buttons[0].payload == general.dial


def test_second_failure_apologises_first(catalogue: Catalogue) -> None:
    reply = second_failure_handoff(catalogue, None, MONDAY_MORNING)
    assert_well_formed(reply)
    assert "xin lỗi" in reply.text.splitlines()[0]
    assert "Em đã chuyển câu hỏi" in reply.text


def test_fixed_button_titles_are_short(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.004222")
    assert proc is not None
    replies = [
        welcome(catalogue),
        fallback(catalogue),
        handoff(catalogue, catalogue.category("cu_tru"), SUNDAY),
        *fullview.full_view(proc, catalogue),
        cards.procedure_detail(proc, "fee", catalogue),
    ]
    for reply in replies:
        for button in reply.buttons:
            assert len(button.title) <= 20, button.title
