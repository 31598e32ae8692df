"""The conversation policy with the real matcher: what a resident's text (or a button's payload)
is answered with. Here: the full view's pages, reached by "Xem đầy đủ" and "Xem tiếp"."""

from __future__ import annotations

from datetime import UTC, datetime

from app.catalogue import Catalogue, Procedure
from app.dialogue.conversation import ConversationState, Dialogue, Turn
from app.dialogue.fullview import MAX_PAGE_MESSAGES, full_view
from app.dialogue.reply import ButtonKind, Reply
from app.zalo.split import split_text

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def ask(dialogue: Dialogue, text: str, state: ConversationState | None = None) -> Turn:
    return dialogue.respond(text, state or ConversationState(), NOW)


def next_page_payload(reply: Reply) -> str | None:
    more = [b for b in reply.buttons if b.title == "Xem tiếp"]
    assert len(more) <= 1
    if not more:
        return None
    assert more[0].kind is ButtonKind.query
    return more[0].payload


def pages_by_tapping(dialogue: Dialogue, proc: Procedure) -> list[Reply]:
    """Press "Xem đầy đủ", then "Xem tiếp" while it is offered, as a resident would."""
    turn = ask(dialogue, f"Xem đầy đủ: {proc.short_name}")
    pages: list[Reply] = []
    while True:
        assert (turn.kind, turn.id) == ("procedure", proc.code)
        [reply] = turn.replies
        pages.append(reply)
        payload = next_page_payload(reply)
        if payload is None:
            return pages
        assert len(pages) < 50, "Xem tiếp never ends"
        turn = ask(dialogue, payload, turn.state)


def test_xem_tiep_reaches_every_page_of_every_procedure(
    dialogue: Dialogue, catalogue: Catalogue
) -> None:
    for proc in catalogue.procedures:
        pages = pages_by_tapping(dialogue, proc)
        assert pages == list(full_view(proc, catalogue)), proc.code
        for page in pages:
            assert len(split_text(page.text)) <= MAX_PAGE_MESSAGES


def test_the_page_payload_is_understood_without_state_and_typed(
    dialogue: Dialogue, catalogue: Catalogue
) -> None:
    proc = catalogue.procedure("1.013225")
    assert proc is not None
    pages = full_view(proc, catalogue)
    assert len(pages) >= 3
    # A fresh conversation (the button pressed a day later): the payload alone decides.
    assert ask(dialogue, f"Xem đầy đủ: {proc.short_name} (trang 3)").replies == (pages[2],)
    # Typed without diacritics or brackets.
    typed = f"xem day du {proc.short_name} trang 2"
    assert ask(dialogue, typed).replies == (pages[1],)
    # "xem đầy đủ trang 2" about the procedure being discussed.
    state = ask(dialogue, proc.short_name).state
    assert ask(dialogue, "xem đầy đủ trang 2", state).replies == (pages[1],)


def test_a_page_past_the_last_answers_the_last(dialogue: Dialogue, catalogue: Catalogue) -> None:
    """A button sent before the catalogue changed may name a page that no longer exists."""
    proc = catalogue.procedure("2.000575")
    assert proc is not None
    pages = full_view(proc, catalogue)
    turn = ask(dialogue, f"Xem đầy đủ: {proc.short_name} (trang 99)")
    assert turn.replies == (pages[-1],)
    one_page = catalogue.procedure("1.001193")
    assert one_page is not None
    turn = ask(dialogue, f"Xem đầy đủ: {one_page.short_name} (trang 2)")
    assert turn.replies == full_view(one_page, catalogue)
