"""Replies that ask the resident to choose: close procedures, the menu, a category's list."""

from __future__ import annotations

import pytest

from app.catalogue import Catalogue
from app.dialogue.choosing import category_list, clarify, menu
from app.dialogue.reply import MAX_BUTTONS, ButtonKind, Reply

from .support import assert_well_formed


def numbered_lines(reply: Reply) -> list[str]:
    return [line for line in reply.text.splitlines() if line[:1].isdigit() and ". " in line]


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
