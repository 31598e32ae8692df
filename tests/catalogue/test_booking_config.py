"""The ward profile's `booking:` section is validated like the rest, each problem with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalogue.loader import load_catalogue
from app.errors import CatalogueError
from tests.conftest import ROOT

SAMPLE = (ROOT / "procedures.yaml").read_text(encoding="utf-8")


def broken(tmp_path: Path, *edits: tuple[str, str]) -> tuple[Path, list[str]]:
    text = SAMPLE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "procedures.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text.splitlines()


def line_of(lines: list[str], needle: str) -> int:
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def test_the_sample_ward_has_a_working_booking_section() -> None:
    ward = load_catalogue(ROOT / "procedures.yaml").ward
    assert ward.booking is not None
    assert [c.id for c in ward.booking.counters] == ["ho-tich", "chung-thuc", "chung"]
    assert ward.booking.capacity >= 1 and ward.booking.horizon_days == 7


def test_bad_values_are_reported_with_their_lines(tmp_path: Path) -> None:
    path, lines = broken(
        tmp_path,
        ("    capacity: 3\n", "    capacity: 0\n"),
        ("    holidays: []\n", '    holidays: ["2026-13-45"]\n'),
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    found = {(p.line, p.location) for p in caught.value.problems}
    assert (line_of(lines, "capacity: 0"), "ward.booking.capacity") in found
    assert (line_of(lines, '"2026-13-45"'), "ward.booking.holidays[0]") in found


def test_a_counter_naming_an_unknown_category_or_procedure(tmp_path: Path) -> None:
    path, lines = broken(
        tmp_path,
        ("categories: [chung_thuc]}", "categories: [chung_thuc], procedures: ['9.999999']}"),
        ("categories: [ho_tich]}", "categories: [ho_tich_sai]}"),
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    problems = {str(p) for p in caught.value.problems}
    category_line = line_of(lines, "ho_tich_sai")
    code_line = line_of(lines, "9.999999")
    assert any(
        f":{category_line}: " in p and "no such category 'ho_tich_sai'" in p for p in problems
    ), problems
    assert any(f":{code_line}: " in p and "'9.999999'" in p for p in problems), problems


def test_two_counters_for_everything_else_and_duplicate_ids(tmp_path: Path) -> None:
    path, lines = broken(
        tmp_path,
        (
            "    - {id: chung, name: Quầy 3 – Các thủ tục khác}\n",
            "    - {id: chung, name: Quầy 3 – Các thủ tục khác}\n    - {id: chung, name: Quầy 4}\n",
        ),
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    (problem,) = caught.value.problems
    assert problem.line == line_of(lines, "  booking:")
    assert "duplicate counter ids: ['chung']" in problem.message
