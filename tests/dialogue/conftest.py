"""The real content, loaded once: the dialogue tests render what residents will really read."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalogue import Catalogue, Content, load_content
from app.dialogue.conversation import Dialogue
from app.matching.matcher import Matcher

pytest.register_assert_rewrite("tests.dialogue.support")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(ROOT / "procedures.yaml", ROOT / "intents")


@pytest.fixture(scope="session")
def catalogue(content: Content) -> Catalogue:
    return content.catalogue


@pytest.fixture(scope="session")
def dialogue(content: Content) -> Dialogue:
    """The conversation policy with the real matcher, as the inbox uses it."""
    return Dialogue(content, Matcher(content.catalogue, content.intents))
