"""Adding an alias or example to procedures.yaml: comments kept, validated, atomic.

Two paths share the editing: `add_phrase` writes a file, `text_with_phrase` makes the new text
in memory for the console, which saves it as a catalogue version. The list-shape tests run on
both."""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import pytest

from app.catalogue import load_content, load_documents
from app.catalogue.documents import DocumentPaths
from app.catalogue.editor import (
    EditRefused,
    PhraseKind,
    add_phrase,
    text_with_phrase,
    write_validated,
)
from app.errors import CatalogueError

ROOT = Path(__file__).resolve().parents[2]
INTENTS = ROOT / "intents"


@pytest.fixture
def procedures(tmp_path: Path) -> Path:
    path = tmp_path / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", path)
    return path


VIA = ["file", "version"]


def add(procedures: Path, code: str, phrase: str, kind: PhraseKind, via: str) -> bool:
    """Add a phrase by either path; the version path validates as a catalogue save does."""
    if via == "file":
        return add_phrase(procedures, INTENTS, code, phrase, kind)
    new_text = text_with_phrase(procedures.read_text(encoding="utf-8"), code, phrase, kind)
    if new_text is None:
        return False
    bundle = DocumentPaths(procedures, INTENTS).read()
    load_documents({**bundle, "procedures.yaml": new_text})  # CatalogueError: nothing saved
    procedures.write_text(new_text, encoding="utf-8")
    return True


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


BLOCK_EXAMPLES = """  examples:
  - Em mới sinh bé được 2 tuần, muốn làm giấy khai sinh cho bé thì cần chuẩn bị những gì ạ?
  - lam giay khai sinh cho con can mang theo gi ad
  - đăng ký khai sinh cho con có mất tiền không
  - dk khai sinh bao lâu thì lấy được
  - khai sinh cho bé có làm online trên vneid được không
  - ks cho be nop o dau
  - thu tuc lam khai sinh cho con moi de
"""


@pytest.mark.parametrize(
    ("shape", "replacement", "before_lines", "after_lines"),
    [
        (
            "flow",
            "  examples: [ks cho be nop o dau, 'dk khai sinh: bao lâu']  # từ hộp thư\n",
            ["  examples: [ks cho be nop o dau, 'dk khai sinh: bao lâu']  # từ hộp thư"],
            [
                "  examples:  # từ hộp thư",
                "  - ks cho be nop o dau",
                "  - 'dk khai sinh: bao lâu'",
                "  - thủ tục cho bé mới đẻ",
            ],
        ),
        (
            "empty",
            "  examples: []\n",
            ["  examples: []"],
            ["  examples:", "  - thủ tục cho bé mới đẻ"],
        ),
        ("null", "  examples:\n", [], ["  - thủ tục cho bé mới đẻ"]),
        ("missing", "", [], ["  examples:", "  - thủ tục cho bé mới đẻ"]),
    ],
)
@pytest.mark.parametrize("via", VIA)
def test_one_list_in_another_shape_changes_alone(
    procedures: Path,
    shape: str,
    replacement: str,
    before_lines: list[str],
    after_lines: list[str],
    via: str,
) -> None:
    """A flow, empty or missing list becomes a block list; the rest stays byte for byte
    (the README promises a one-line change; here the list's own lines and no others)."""
    original = procedures.read_text(encoding="utf-8")
    assert BLOCK_EXAMPLES in original
    procedures.write_text(original.replace(BLOCK_EXAMPLES, replacement, 1), encoding="utf-8")
    before = procedures.read_text(encoding="utf-8").splitlines()

    assert add(procedures, "1.001193", "thủ tục cho bé mới đẻ", PhraseKind.example, via)

    after = procedures.read_text(encoding="utf-8").splitlines()
    removed = [line for line in difflib.ndiff(before, after) if line.startswith("- ")]
    added = [line for line in difflib.ndiff(before, after) if line.startswith("+ ")]
    assert [line[2:] for line in removed] == before_lines
    assert [line[2:] for line in added] == after_lines
    procedure = load_content(procedures, INTENTS).catalogue.procedure("1.001193")
    assert procedure is not None and procedure.examples[-1] == "thủ tục cho bé mới đẻ"


@pytest.mark.parametrize("via", VIA)
def test_a_list_missing_from_the_last_procedure_goes_at_its_end(procedures: Path, via: str) -> None:
    text = procedures.read_text(encoding="utf-8")
    last = text.rindex("\n- code: ") + 1
    head, tail = text[:last], text[last:]
    start = tail.index("  examples:\n")
    # The examples block ends at the procedure's next key, or at the end of the file.
    next_key = re.search(r"^  [a-z_]+:", tail[start + 1 :], flags=re.MULTILINE)
    end = start + 1 + next_key.start() if next_key else len(tail)
    procedures.write_text(head + tail[:start] + tail[end:], encoding="utf-8")
    code = tail.split("'")[1]
    before = procedures.read_text(encoding="utf-8")

    assert add(procedures, code, "tổ trưởng tổ hòa giải", PhraseKind.example, via)

    after = procedures.read_text(encoding="utf-8")
    assert after == before + "  examples:\n  - tổ trưởng tổ hòa giải\n"


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize(
    "replacement",
    ["  examples: &ex [ks cho be nop o dau]\n", "  examples: !!seq [ks cho be nop o dau]\n"],
)
def test_a_list_of_a_stranger_shape_is_refused_and_nothing_changes(
    procedures: Path, replacement: str, via: str
) -> None:
    """An anchored or tagged list cannot be changed by its own lines alone: refused (the admin
    is asked to edit by hand) rather than re-written."""
    text = procedures.read_text(encoding="utf-8").replace(BLOCK_EXAMPLES, replacement, 1)
    procedures.write_text(text, encoding="utf-8")
    with pytest.raises(EditRefused, match="dạng lạ"):
        add(procedures, "1.001193", "thủ tục cho bé mới đẻ", PhraseKind.example, via)
    assert procedures.read_text(encoding="utf-8") == text
