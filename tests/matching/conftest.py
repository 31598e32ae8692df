"""Fixtures for matching tests: the real content and one matcher built from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalogue import Content, load_content
from app.matching.matcher import Matcher

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = Path(__file__).with_name("heldout.tsv")


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(ROOT / "procedures.yaml", ROOT / "intents")


@pytest.fixture(scope="session")
def matcher(content: Content) -> Matcher:
    return Matcher(content.catalogue, content.intents)
