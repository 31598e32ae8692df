"""Checks shared by the dialogue tests."""

from __future__ import annotations

from app.dialogue.reply import MAX_BUTTONS, ButtonKind, Reply


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
