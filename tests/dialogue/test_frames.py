"""Everything around the procedure cards: choosing, menus, intents, fallback and handoff."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import jinja2
import pytest

from app.catalogue import Catalogue, Content, Intent
from app.dialogue import cards
from app.dialogue.cards import (
    category_list,
    clarify,
    fallback,
    handoff,
    intent_answer,
    menu,
    second_failure_handoff,
    welcome,
)
from app.dialogue.hours import hours_lines
from app.dialogue.reply import MAX_BUTTONS, ButtonKind, Reply

from .support import assert_well_formed

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_MORNING = datetime(2025, 11, 24, 9, 0, tzinfo=VN)
MONDAY_LUNCH = datetime(2025, 11, 24, 12, 0, tzinfo=VN)
SUNDAY = datetime(2025, 11, 23, 10, 0, tzinfo=VN)


def numbered_lines(reply: Reply) -> list[str]:
    return [line for line in reply.text.splitlines() if line[:1].isdigit() and ". " in line]


# --- clarify --------------------------------------------------------------------------------


def test_clarify_numbers_the_options_and_offers_buttons(catalogue: Catalogue) -> None:
    options = [catalogue.procedure(c) for c in ("1.001193", "1.000894", "1.000656")]
    procs = [p for p in options if p is not None]
    reply = clarify(procs)
    assert_well_formed(reply)
    assert reply.text.startswith("Dạ, ý anh/chị là thủ tục nào ạ?")
    assert numbered_lines(reply) == [
        "1. Đăng ký khai sinh",
        "2. Đăng ký kết hôn",
        "3. Đăng ký khai tử",
    ]
    assert [(b.title, b.kind, b.payload) for b in reply.buttons] == [
        (p.short_name, ButtonKind.query, p.short_name) for p in procs
    ]


def test_clarify_lists_all_but_offers_at_most_four_buttons(catalogue: Catalogue) -> None:
    procs = list(catalogue.in_category("chung_thuc"))[:6]
    reply = clarify(procs)
    lines = numbered_lines(reply)
    assert len(lines) == 6
    for index, (line, proc) in enumerate(zip(lines, procs, strict=True), start=1):
        # A resident who types what they see (or its number) must reach the procedure.
        assert line.startswith(f"{index}. {proc.short_name}")
    assert len(reply.buttons) == 4
    assert all(b.kind is ButtonKind.query for b in reply.buttons)


def test_clarify_same_short_names_answer_with_their_number(catalogue: Catalogue) -> None:
    one, other = catalogue.procedure("1.001776"), catalogue.procedure("1.014027")
    assert one is not None and other is not None
    # Two procedures whose (cut) short names collide: buttons must answer with numbers.
    shared = "Thực hiện, điều chỉnh, thôi hưởng trợ"
    first = one.model_copy(update={"short_name": shared})
    second = other.model_copy(update={"short_name": shared})
    reply = clarify([first, second])
    assert [b.payload for b in reply.buttons] == ["1", "2"]
    lines = numbered_lines(reply)
    assert lines[0] != lines[1]
    assert "hưu trí xã hội" in lines[1]


def test_clarify_needs_options() -> None:
    with pytest.raises(ValueError):
        clarify([])


# --- menu and category lists ----------------------------------------------------------------


def test_menu_lists_every_category_and_buttons_the_first_five(catalogue: Catalogue) -> None:
    reply = menu(catalogue)
    assert_well_formed(reply)
    assert len(catalogue.categories) > MAX_BUTTONS
    assert numbered_lines(reply) == [
        f"{i}. {c.name}" for i, c in enumerate(catalogue.categories, start=1)
    ]
    assert len(reply.buttons) == MAX_BUTTONS
    assert [(b.kind, b.payload) for b in reply.buttons] == [
        (ButtonKind.query, c.name) for c in catalogue.categories[:MAX_BUTTONS]
    ]


def test_category_list_numbers_its_procedures_in_order(catalogue: Catalogue) -> None:
    category = catalogue.category("ho_tich")
    assert category is not None
    procs = catalogue.in_category("ho_tich")
    reply = category_list(category, procs)
    assert_well_formed(reply)
    lines = numbered_lines(reply)
    assert len(lines) == len(procs)
    for index, (line, proc) in enumerate(zip(lines, procs, strict=True), start=1):
        assert line.startswith(f"{index}. {proc.short_name}")
    assert "Hộ tịch" in reply.text.splitlines()[0]
    assert "số thứ tự" in reply.text.splitlines()[-1]


def test_empty_category(catalogue: Catalogue) -> None:
    category = catalogue.category("khac")
    assert category is not None
    reply = category_list(category, [])
    assert "chưa có thông tin thủ tục nào" in reply.text
    assert [b.payload for b in reply.buttons] == ["Danh sách thủ tục"]


# --- intents --------------------------------------------------------------------------------


@pytest.mark.parametrize("now", [MONDAY_MORNING, MONDAY_LUNCH, SUNDAY])
def test_every_intent_renders(content: Content, now: datetime) -> None:
    catalogue = content.catalogue
    for intent in content.intents.intents:
        reply = intent_answer(intent, catalogue, now)
        assert_well_formed(reply)
        if "ward.name" in intent.answer:
            assert catalogue.ward.name in reply.text


def test_office_hours_answer_depends_on_the_time(content: Content) -> None:
    intent = content.intents.get("office_hours")
    assert intent is not None
    ward = content.catalogue.ward
    open_text = intent_answer(intent, content.catalogue, MONDAY_MORNING).text
    closed_text = intent_answer(intent, content.catalogue, SUNDAY).text
    for line in hours_lines(ward):
        assert f"• {line}" in open_text
    assert "đang trong giờ làm việc" in open_text and "ngoài giờ" not in open_text
    assert "ngoài giờ làm việc" in closed_text
    utc_lunch = intent_answer(intent, content.catalogue, MONDAY_LUNCH.astimezone(UTC)).text
    assert "ngoài giờ làm việc" in utc_lunch


def test_contact_answer_lists_every_line(content: Content) -> None:
    intent = content.intents.get("contact")
    assert intent is not None
    reply = intent_answer(intent, content.catalogue, MONDAY_MORNING)
    for contact in content.catalogue.ward.contacts.values():
        assert f"☎ {contact.label}: {contact.phone}" in reply.text
    general = content.catalogue.ward.contact_for(None)
    assert [(b.kind, b.payload) for b in reply.buttons] == [(ButtonKind.phone, general.dial)]


def test_online_services_links_the_portal(content: Content) -> None:
    intent = content.intents.get("online_services")
    assert intent is not None
    ward = content.catalogue.ward
    reply = intent_answer(intent, content.catalogue, MONDAY_MORNING)
    urls = [b.payload for b in reply.buttons if b.kind is ButtonKind.url]
    assert urls == [ward.national_portal_url]  # the sample ward's provincial portal is the same
    other = content.catalogue.model_copy(
        update={"ward": ward.model_copy(update={"provincial_portal_url": "https://dvc.example.vn"})}
    )
    urls = [b.payload for b in intent_answer(intent, other, MONDAY_MORNING).buttons]
    assert "https://dvc.example.vn" in urls


def test_greeting_offers_the_menu(content: Content) -> None:
    intent = content.intents.get("greeting")
    assert intent is not None
    reply = intent_answer(intent, content.catalogue, MONDAY_MORNING)
    assert reply.buttons[0].payload == "Danh sách thủ tục"


def test_templates_are_strict_and_compiled_once(catalogue: Catalogue) -> None:
    broken = Intent(id="broken", description="x", phrases=("x",), answer="Dạ, {{ nope }}")
    with pytest.raises(jinja2.UndefinedError):
        intent_answer(broken, catalogue, MONDAY_MORNING)
    source = "Dạ, {{ ward.name }}{% if open_now %} đang mở{% endif %} ạ."
    custom = Intent(id="custom", description="x", phrases=("x",), answer=source)
    assert intent_answer(custom, catalogue, MONDAY_MORNING).text == "Dạ, Phường Mẫu đang mở ạ."
    assert intent_answer(custom, catalogue, SUNDAY).text == "Dạ, Phường Mẫu ạ."
    assert cards._template(source) is cards._template(source)


# --- welcome, fallback, handoff -------------------------------------------------------------


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
        cards.procedure_card(proc, catalogue),
        cards.procedure_detail(proc, "fee", catalogue),
    ]
    for reply in replies:
        for button in reply.buttons:
            assert len(button.title) <= 20, button.title
