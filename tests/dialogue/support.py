"""Checks shared by the dialogue tests."""

from __future__ import annotations

from app.catalogue import Catalogue, Procedure
from app.catalogue.models import Contact, Documents
from app.dialogue.fullview import full_view
from app.dialogue.reply import MAX_BUTTONS, ButtonKind, Reply
from app.dialogue.texts import plain


def assert_well_formed(reply: Reply) -> None:
    """What every reply must look like on a resident's phone."""
    assert reply.text.startswith("Dạ"), reply.text[:80]
    assert len(reply.buttons) <= MAX_BUTTONS
    assert "**" not in reply.text and "{{" not in reply.text and "{%" not in reply.text
    assert "None" not in reply.text and "unknown" not in reply.text.lower()
    assert "\n\n\n" not in reply.text
    assert all(line == line.rstrip() for line in reply.text.splitlines())
    for button in reply.buttons:
        assert button.title and button.payload
        if button.kind is ButtonKind.url:
            assert button.payload.startswith("https://")
        if button.kind is ButtonKind.phone:
            assert button.payload.lstrip("+").isdigit()


def contact_of(proc: Procedure, catalogue: Catalogue) -> Contact:
    category = catalogue.category(proc.category)
    assert category is not None
    return catalogue.ward.contact_for(category.contact)


def document_texts(docs: Documents) -> list[str]:
    """Every document line a record lists (not notes): what must never leak elsewhere."""
    found = [*docs.submit, *docs.present, *docs.forms]
    for case in docs.cases:
        found += list(case.documents)
    return [plain(d) for d in found]


def without_plain(catalogue: Catalogue) -> Catalogue:
    """The catalogue as the bot answers before plain versions are written: from the records."""
    procedures = tuple(p.model_copy(update={"plain": None}) for p in catalogue.procedures)
    return catalogue.model_copy(update={"procedures": procedures})


def full_text(proc: Procedure, catalogue: Catalogue) -> str:
    """Every page of the full view, one after the other."""
    return "\n\n".join(reply.text for reply in full_view(proc, catalogue))
