"""Replies that ask the resident to choose: between close procedures, a category from the menu,
a procedure from a category's list."""

from __future__ import annotations

from collections.abc import Sequence

from app.catalogue.models import Catalogue, Category, Procedure
from app.dialogue.pieces import display_name, menu_button
from app.dialogue.reply import MAX_BUTTONS, Button, ButtonKind, Reply
from app.dialogue.texts import numbered, paragraphs

MAX_CLARIFY_BUTTONS = 4


def clarify(options: Sequence[Procedure]) -> Reply:
    """Ask which of a few close procedures the resident means; they may answer with the number.
    With one option: is it this one (a button), or another from the menu."""
    if not options:
        raise ValueError("clarify needs at least one option")
    if len(options) == 1:
        text = (
            f"Dạ, có phải anh/chị hỏi về thủ tục {display_name(options[0])} không ạ? "
            "Anh/chị bấm để xem, hoặc bấm “Danh sách thủ tục” để chọn thủ tục khác."
        )
        return Reply(text, (*_choice_buttons(options), menu_button()))
    lines = numbered([display_name(p) for p in options])
    text = paragraphs(
        "Dạ, ý anh/chị là thủ tục nào ạ?",
        lines,
        "Anh/chị bấm chọn hoặc nhắn số thứ tự giúp em ạ.",
    )
    return Reply(text, _choice_buttons(options[:MAX_CLARIFY_BUTTONS]))


def _choice_buttons(options: Sequence[Procedure]) -> tuple[Button, ...]:
    """One button per option, sending its short name. Two options with the same short name
    would send the same text, so those send their number instead (the list is numbered)."""
    names = [p.short_name for p in options]
    buttons: list[Button] = []
    for index, name in enumerate(names, start=1):
        if names.count(name) == 1:
            buttons.append(Button(name, ButtonKind.query, name))
        else:
            buttons.append(Button(f"{index}. {name}", ButtonKind.query, str(index)))
    return tuple(buttons)


def menu(catalogue: Catalogue) -> Reply:
    """All categories, numbered in the text; the first MAX_BUTTONS also as buttons."""
    lines = numbered([c.name for c in catalogue.categories])
    text = paragraphs(
        "Dạ, anh/chị cần hỏi thủ tục thuộc lĩnh vực nào ạ?",
        lines,
        "Anh/chị bấm chọn, hoặc nhắn số thứ tự hay tên lĩnh vực giúp em ạ.",
    )
    buttons = tuple(
        Button(c.name, ButtonKind.query, c.name) for c in catalogue.categories[:MAX_BUTTONS]
    )
    return Reply(text, buttons)


def category_list(category: Category, procedures: Sequence[Procedure]) -> Reply:
    """The procedures of one category, numbered in the order given."""
    if not procedures:
        text = (
            f"Dạ, hiện em chưa có thông tin thủ tục nào thuộc lĩnh vực {category.name} ạ. "
            "Anh/chị bấm “Danh sách thủ tục” để chọn lĩnh vực khác."
        )
        return Reply(text, (menu_button(),))
    text = paragraphs(
        f"Dạ, các thủ tục thuộc lĩnh vực {category.name}:",
        numbered([display_name(p) for p in procedures]),
        "Anh/chị nhắn tên hoặc số thứ tự của thủ tục cần hỏi giúp em ạ.",
    )
    return Reply(text, (menu_button(),))
