"""Research notes never reach what residents or staff read: the real content has none, and a
planted one is refused with its line (so `wardbot validate` and CI fail)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.catalogue import load_catalogue, load_content
from app.catalogue.importer import dump, yaml_rt
from app.catalogue.lint import markers
from app.cli import cli
from app.errors import CatalogueError

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures.yaml"
INTENTS = ROOT / "intents"

CHECKER = re.compile(
    r"chưa đọc|bản ghi|bên thứ ba|suy từ|isFullProcess|catalogue_only|tên theo bộ test"
)


def test_no_research_marker_anywhere_in_the_content_files() -> None:
    for path in [PROCEDURES, *INTENTS.glob("*.yaml")]:
        found = CHECKER.findall(path.read_text(encoding="utf-8"))
        assert found == [], path.name
    load_content(PROCEDURES, INTENTS)  # the lint runs on every load


@pytest.mark.parametrize(
    "text",
    [
        "Tờ khai theo mẫu — nằm ở trang 2 bản ghi (chưa đọc)",
        "suy từ cấu trúc khai sinh",
        "Danh mục theo nguồn [S1]",
        "theo S6, cần kiểm tra",
        "DVCQG isFullProcess=false",
        "detail_level: catalogue_only",
        "3 WORKING_DAY",
        "Trực tiếp (DIRECT): 5 ngày",
        "the record says 0",
        "mức lệ phí: unknown",
    ],
)
def test_markers_are_found(text: str) -> None:
    assert markers(text)


@pytest.mark.parametrize(
    "text",
    [
        "Tờ khai thay đổi thông tin cư trú (mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA)",
        "Nộp trực tuyến trên Cổng Dịch vụ công quốc gia hoặc ứng dụng VNeID",
        "10 USD/bản tại cơ quan đại diện",
        "Thủ tục công nhận hòa giải viên (cấp xã)",
    ],
)
def test_ordinary_text_is_not_a_marker(text: str) -> None:
    assert markers(text, name=True) == []


def test_kiem_chung_is_a_marker_in_a_name_only() -> None:
    assert markers("Cấp giấy phép xây dựng — tên chính thức chưa kiểm chứng", name=True)
    assert markers("Đổi giấy xác nhận khuyết tật (tên theo bộ test bên thứ ba)", name=True)
    assert markers("cần kiểm chứng", name=True) and not markers("kiểm chứng thông tin")


def _plant(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "procedures.yaml"
    text = PROCEDURES.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _plant_in(tmp_path: Path, code: str, keys: tuple[str | int, ...], text: str) -> Path:
    """A copy of procedures.yaml with `text` at `keys` of procedure `code` (added or replaced)."""
    y = yaml_rt()
    data = y.load(PROCEDURES.read_text(encoding="utf-8"))
    node = next(p for p in data["procedures"] if p["code"] == code)
    for key in keys[:-1]:
        if isinstance(key, str) and key not in node:
            node[key] = []
        node = node[key]
    last = keys[-1]
    if isinstance(last, int):
        node.insert(last, text)
    else:
        node[last] = text
    path = tmp_path / "procedures.yaml"
    path.write_text(dump(y, data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("keys", "text"),
    [
        (("name",), "Đăng ký giám hộ (tên theo bộ test bên thứ ba)"),
        (("short_name",), "Giám hộ — chưa kiểm chứng"),
        (("plain", "notes", 0), "Suy từ cấu trúc KS/KH."),
        (("plain", "deadline"), "3 WORKING_DAY"),
        (("plain", "fee"), "The record says 0."),
        (("documents", "submit", 1), "(bản ghi trang 2) Văn bản cử người giám hộ"),
        (("caveats", 0), "detail_level: catalogue_only"),
        (("deadlines", 0, "note"), "Theo [S1]"),
    ],
)
def test_a_planted_marker_is_refused_with_its_line(
    tmp_path: Path, keys: tuple[str | int, ...], text: str
) -> None:
    path = _plant_in(tmp_path, "1.004837", keys, text)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    [problem] = info.value.problems
    assert "1.004837" in problem.location and f".{keys[0]}" in problem.location
    assert problem.line is not None
    line = path.read_text(encoding="utf-8").splitlines()[problem.line - 1]
    assert text.split()[-1].strip(".'") in line


def test_provenance_and_notes_for_engineers_are_not_checked(tmp_path: Path) -> None:
    path = _plant(
        tmp_path,
        "  source: Cổng DVCQG, formalityId 019d2bfd-671b",
        "  deadline_source: 'processingTime 3, unit OTHER (record page 2)'\n"
        "  source: Cổng DVCQG, formalityId 019d2bfd-671b",
    )
    load_catalogue(path)


def test_residents_words_may_be_english_but_not_research_notes(tmp_path: Path) -> None:
    online = _plant(tmp_path, "  - đăng ký giám hộ\n", "  - đăng ký giám hộ online\n")
    load_catalogue(online)
    noted = _plant(tmp_path, "  - đăng ký giám hộ\n", "  - giám hộ (chưa đọc)\n")
    with pytest.raises(CatalogueError, match="aliases"):
        load_catalogue(noted)


def test_an_intent_answer_with_a_marker_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "intents"
    shutil.copytree(INTENTS, folder)
    intents = folder / "intents.yaml"
    text = intents.read_text(encoding="utf-8")
    first_answer = re.search(r"\n    answer: [|>]-?\n", text)
    assert first_answer is not None
    planted = (
        text[: first_answer.end()]
        + "      Theo nguồn S3 (chưa đọc).\n"
        + text[first_answer.end() :]
    )
    intents.write_text(planted, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_content(PROCEDURES, folder)
    assert any("answer" in p.location and p.line for p in info.value.problems)


def test_validate_fails_on_a_planted_marker(tmp_path: Path) -> None:
    path = _plant(
        tmp_path,
        "  name: Thủ tục đăng ký giám hộ\n",
        "  name: Thủ tục đăng ký giám hộ (suy từ KS)\n",
    )
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert "suy từ" in result.output
