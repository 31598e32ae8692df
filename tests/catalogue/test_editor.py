"""Adding an alias or example to procedures.yaml: comments kept, validated, atomic."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.catalogue import load_content
from app.catalogue.editor import EditRefused, PhraseKind, add_phrase, write_validated
from app.errors import CatalogueError

ROOT = Path(__file__).resolve().parents[2]
INTENTS = ROOT / "intents"


@pytest.fixture
def procedures(tmp_path: Path) -> Path:
    path = tmp_path / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", path)
    return path


def test_adds_one_line_and_keeps_everything_else(procedures: Path) -> None:
    before = procedures.read_text(encoding="utf-8").splitlines()
    assert add_phrase(procedures, INTENTS, "1.001193", "giấy chào đời: cho bé", PhraseKind.alias)
    after = procedures.read_text(encoding="utf-8").splitlines()
    # Exactly one new line; every comment and every other line as it was, in order.
    assert len(after) == len(before) + 1
    added = [line for line in after if line not in before]
    assert added == ["  - 'giấy chào đời: cho bé'"]
    assert [line for line in after if line.lstrip().startswith("#")] == [
        line for line in before if line.lstrip().startswith("#")
    ]
    procedure = load_content(procedures, INTENTS).catalogue.procedure("1.001193")
    assert procedure is not None
    assert procedure.aliases[-1] == "giấy chào đời: cho bé"


def test_examples_too_and_duplicates_are_not_added_twice(procedures: Path) -> None:
    assert add_phrase(procedures, INTENTS, "1.001193", "thủ tục cho bé mới đẻ", PhraseKind.example)
    text = procedures.read_text(encoding="utf-8")
    assert not add_phrase(
        procedures, INTENTS, "1.001193", "THU TUC cho be moi de", PhraseKind.example
    )
    assert procedures.read_text(encoding="utf-8") == text
    procedure = load_content(procedures, INTENTS).catalogue.procedure("1.001193")
    assert procedure is not None and "thủ tục cho bé mới đẻ" in procedure.examples


def test_unknown_procedure_is_refused(procedures: Path) -> None:
    text = procedures.read_text(encoding="utf-8")
    with pytest.raises(EditRefused):
        add_phrase(procedures, INTENTS, "9.999999", "câu hỏi", PhraseKind.alias)
    assert procedures.read_text(encoding="utf-8") == text


def test_invalid_text_never_replaces_the_file(procedures: Path) -> None:
    text = procedures.read_text(encoding="utf-8")
    with pytest.raises(CatalogueError):
        write_validated(
            procedures, INTENTS, text.replace("  handled_by: one_stop", "  handled_by: ?", 1)
        )
    assert procedures.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in procedures.parent.iterdir()) == ["procedures.yaml"]
