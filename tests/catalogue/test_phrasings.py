"""intents/phrasings.yaml: residents' phrasings load, and a code or an intent id that does not
exist is refused with its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.catalogue import load_content, load_intents
from app.catalogue.loader import PHRASINGS_FILE
from app.errors import CatalogueError

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures.yaml"
INTENTS = ROOT / "intents"


def _folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "intents"
    shutil.copytree(INTENTS, folder)
    (folder / PHRASINGS_FILE).write_text(text, encoding="utf-8")
    return folder


def test_every_procedure_and_intent_has_phrasings() -> None:
    content = load_content(PROCEDURES, INTENTS)
    phrasings = content.intents.phrasings
    assert set(phrasings.procedures) == {p.code for p in content.catalogue.procedures}
    assert set(phrasings.intents) == {i.id for i in content.intents.intents}
    assert all(len(lines) >= 15 for lines in phrasings.procedures.values())
    assert len(phrasings.none) >= 100


def test_an_unknown_code_is_refused_with_its_line(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        "procedures:\n  '1.001193':\n    - làm khai sinh cho con\n"
        "  '9.999999':\n    - thủ tục không có\n",
    )
    load_intents(folder)  # the folder alone is valid: codes are the catalogue's business
    with pytest.raises(CatalogueError) as info:
        load_content(PROCEDURES, folder)
    (problem,) = info.value.problems
    assert problem.path.endswith(PHRASINGS_FILE)
    assert (problem.line, problem.location) == (4, "procedures.9.999999")


def test_an_unknown_intent_is_refused_with_its_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "intents:\n  greeting:\n    - chào ad\n  weather:\n    - mưa ko\n")
    with pytest.raises(CatalogueError) as info:
        load_intents(folder)
    (problem,) = info.value.problems
    assert (problem.line, problem.location) == (4, "intents.weather")


def test_an_unquoted_code_and_a_stray_key_are_refused_with_their_lines(tmp_path: Path) -> None:
    # Unquoted, 1.001193 is a number to YAML, not the code.
    folder = _folder(tmp_path, "procedures:\n  1.001193:\n    - khai sinh\nexamples:\n  - x\n")
    with pytest.raises(CatalogueError) as info:
        load_intents(folder)
    lines = sorted(p.line or 0 for p in info.value.problems)
    assert lines == [2, 4]


def test_research_notes_are_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "none:\n  - ok\n  - giá vàng (chưa kiểm chứng)\n")
    with pytest.raises(CatalogueError) as info:
        load_intents(folder)
    assert [p.line for p in info.value.problems] == [3]


def test_the_file_is_part_of_the_bundle(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "")
    (folder / PHRASINGS_FILE).unlink()
    with pytest.raises(CatalogueError, match="file not found"):
        load_intents(folder)
