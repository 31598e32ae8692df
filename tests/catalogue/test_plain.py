"""Plain-language versions: their shape is checked, drafts merge into procedures.yaml once and
only once, and they quote no number or form code their record does not have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from app.catalogue import load_catalogue
from app.catalogue.importer import (
    dump,
    merge_plain,
    procedure_texts,
    read_drafts,
    read_facts,
    unsupported,
    yaml_rt,
)
from app.catalogue.models import FeeKind, Plain

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures.yaml"
FACTS = ROOT.parent / "shared" / "reference" / "facts"
CATALOGUE = load_catalogue(PROCEDURES)

VALID = {
    "documents": ["Tờ khai đăng ký giám hộ theo mẫu"],
    "cases": [
        {"title": "Giám hộ đương nhiên", "label": "Người giám hộ đương nhiên", "documents": ["A"]},
        {"title": "Giám hộ cử", "label": "Người giám hộ được cử", "documents": ["B"]},
    ],
    "notes": ["Gửi qua bưu điện: kèm bản sao có chứng thực."],
    "deadline": "3 ngày làm việc.",
    "fee": "Anh/chị hỏi cán bộ.",
    "fee_kind": "unknown",
}


def _without_plain(codes: list[str]) -> str:
    """procedures.yaml with the plain versions of `codes` taken out."""
    y = yaml_rt()
    data = y.load(PROCEDURES.read_text(encoding="utf-8"))
    for entry in data["procedures"]:
        if entry["code"] in codes and "plain" in entry:
            del entry["plain"]
    return dump(y, data)


def _drafts(folder: Path, drafts: dict[str, dict[str, Any]]) -> dict[str, tuple[Path, Any]]:
    folder.mkdir(exist_ok=True)
    for name, draft in drafts.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(draft, allow_unicode=True))
    return read_drafts(folder)


def test_a_plain_version_has_a_shape() -> None:
    Plain.model_validate(VALID)
    broken: list[dict[str, Any]] = [
        {**VALID, "cases": [{**VALID["cases"][0], "title": "Một tiêu đề quá hai mươi ký tự"}]},
        {**VALID, "cases": VALID["cases"][:1]},  # one case is no choice
        {**VALID, "cases": [VALID["cases"][0], VALID["cases"][0]]},
        {**VALID, "notes": ["a", "b", "c", "d"]},
        {**VALID, "documents": [], "cases": []},
        {**VALID, "fee_kind": "cheap"},
        {key: value for key, value in VALID.items() if key != "deadline"},
    ]
    for draft in broken:
        with pytest.raises(ValidationError):
            Plain.model_validate(draft)


def test_drafts_merge_once_and_bad_ones_are_refused(tmp_path: Path) -> None:
    codes = ["1.004837", "1.001022", "1.004845", "2.001019"]
    text = _without_plain(codes)
    drafts = _drafts(
        tmp_path / "drafts",
        {
            "1.004837": {"code": "1.004837", **VALID},
            # The record leaves this fee to the province: it cannot be called free.
            "1.001022": {"code": "1.001022", **VALID, "fee_kind": "free"},
            "1.004845": {"code": "1.004845", **VALID, "remarks": "?"},
            "2.001019": {"code": "1.001193", **VALID},
            "2.001283": {"code": "2.001283", **VALID},  # no record: nothing to write from
        },
    )
    merged, report = merge_plain(text, drafts, skip=["2.001283"])
    assert report.added == ["1.004837"]
    assert sorted(report.refused) == ["1.001022", "1.004845", "2.001019", "2.001283"]
    assert "province" in report.refused["1.001022"]
    assert "remarks" in report.refused["1.004845"]
    assert sorted(report.missing) == ["1.001022", "1.004845", "2.001019"]
    assert any("still without a plain version (3)" in line for line in report.lines())

    path = tmp_path / "procedures.yaml"
    path.write_text(merged, encoding="utf-8")
    procedure = load_catalogue(path).procedure("1.004837")
    assert procedure is not None and procedure.plain is not None
    assert procedure.plain.cases[1].title == "Giám hộ cử"
    assert procedure.fee_kind is FeeKind.unknown
    # Everything else in the file is as it was (comments included).
    assert merged.replace(_block(merged, "1.004837"), "") == text.replace(
        _block(text, "1.004837"), ""
    )

    again, second = merge_plain(merged, drafts, skip=["2.001283"])
    assert again == merged
    assert second.unchanged == ["1.004837"] and not second.added and not second.updated


def _block(text: str, code: str) -> str:
    """The lines of one procedure's entry."""
    start = text.index(f"- code: '{code}'")
    end = text.find("\n- code:", start + 1)
    return text[start:end]


def test_a_changed_draft_updates_its_plain_version(tmp_path: Path) -> None:
    text = _without_plain(["1.004837"])
    first = _drafts(tmp_path / "a", {"1.004837": {"code": "1.004837", **VALID}})
    merged, _ = merge_plain(text, first)
    second = _drafts(tmp_path / "b", {"1.004837": {"code": "1.004837", **VALID, "fee": "Khác."}})
    updated, report = merge_plain(merged, second)
    assert report.updated == ["1.004837"]
    assert "fee: Khác." in updated


def test_numbers_and_form_codes_not_in_the_record_are_flagged() -> None:
    procedure = CATALOGUE.procedure("1.004837")
    assert procedure is not None
    sources = procedure_texts(procedure)
    invented = Plain.model_validate(
        {**VALID, "documents": ["Tờ khai theo Mẫu số 77"], "deadline": "999 ngày làm việc."}
    )
    assert unsupported(invented, sources) == ["77", "999", "mẫusố77"]
    assert unsupported(Plain.model_validate(VALID), sources) == []


@pytest.mark.skipif(not FACTS.exists(), reason="shared reference facts not present")
def test_plain_versions_add_no_number_or_form_code() -> None:
    """Document names, numbers and form codes stay as in the record: a plain version may quote
    its record (and what the record's notes say about it), never anything else."""
    facts = read_facts(FACTS)
    common = {key: [*rules.rules, *rules.fees] for key, rules in CATALOGUE.common_rules.items()}
    checked = 0
    for procedure in CATALOGUE.procedures:
        if procedure.plain is None:
            continue
        checked += 1
        sources = procedure_texts(procedure, common.get(procedure.common_rules or "", []))
        notes = [str(facts.get(procedure.code, {}).get("extraction_notes") or "")]
        assert unsupported(procedure.plain, [*sources, *notes]) == [], procedure.code
    assert checked > 0


def test_procedures_without_a_record_have_no_plain_version() -> None:
    for procedure in CATALOGUE.procedures:
        if not procedure.documents.known:
            assert procedure.plain is None, procedure.code
