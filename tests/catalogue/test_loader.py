"""The real content validates, and broken content is refused with the line that is wrong."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.catalogue import load_catalogue, load_content
from app.catalogue.intents import REQUIRED_INTENTS
from app.errors import CatalogueError

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures.yaml"
INTENTS = ROOT / "intents"
REFERENCE = ROOT.parent / "shared" / "reference" / "procedures-reference.yaml"


def test_real_catalogue_and_intents_load() -> None:
    content = load_content(PROCEDURES, INTENTS)
    catalogue = content.catalogue
    assert len(catalogue.procedures) == 80
    assert {i.id for i in content.intents.intents} >= set(REQUIRED_INTENTS)
    assert len(catalogue.ward.residential_groups) == 12
    assert catalogue.ward.residential_groups[4].name == "Tổ dân phố số 5"


def test_every_procedure_has_a_portal_link_and_names() -> None:
    catalogue = load_catalogue(PROCEDURES)
    for procedure in catalogue.procedures:
        assert procedure.dvc.best_url.startswith("https://dichvucong.gov.vn/")
        assert procedure.aliases, procedure.code
        assert len(procedure.short_name) <= 40


FACTS = ROOT.parent / "shared" / "reference" / "facts"


def _facts_codes() -> set[str]:
    return {path.stem for path in FACTS.glob("*.yaml")} if FACTS.exists() else set()


def test_procedures_without_a_record_stay_unknown() -> None:
    """No record, no facts: documents, deadline and fee stay unknown, the link is a search."""
    import yaml

    catalogue = load_catalogue(PROCEDURES)
    no_record = [
        p.stem
        for p in FACTS.glob("*.yaml")
        if yaml.safe_load(p.read_text(encoding="utf-8")).get("status") == "no_record"
    ]
    assert no_record or not FACTS.exists()
    for code in no_record:
        procedure = catalogue.procedure(code)
        assert procedure is not None
        assert not procedure.documents.known and procedure.plain is None
        assert procedure.deadline is None and procedure.fee is None and not procedure.deadlines
        assert procedure.dvc.detail_url is None
        assert procedure.dvc.best_url == procedure.dvc.search_url


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared reference not present")
def test_older_facts_match_the_reference() -> None:
    """The procedures without a portal record file keep the reference's facts."""
    import yaml

    reference = {p["code"]: p for p in yaml.safe_load(REFERENCE.read_text())["procedures"]}
    catalogue = load_catalogue(PROCEDURES)
    assert {p.code for p in catalogue.procedures} == set(reference)
    older = [p for p in catalogue.procedures if p.code not in _facts_codes()]
    assert len(older) == 18
    for procedure in older:
        ref = reference[procedure.code]
        assert procedure.name == ref["name"]
        for fact in ("deadline", "fee"):
            ours = getattr(procedure, fact)
            if str(ref[fact]).startswith("unknown"):
                assert ours is None, (procedure.code, fact)
            else:
                assert ours, (procedure.code, fact)
        submit = ref["documents"].get("submit")
        if procedure.documents.known and submit and ref["documents"].get("status") == "known":
            assert list(procedure.documents.submit) == submit


# Words of the portal's records and of the editor's notes that residents must not see.
JARGON = re.compile(
    r"DVCQG|OTHER|(?i:index)|processingTime|isFullProcess|co_thu_phi|nguồn thứ cấp"
    r"|không có trong nguồn|chưa đọc|(?<!\w)S\d(?!\w)"
)
# Numbers that belong to jargon a rewording drops, so they need not reappear:
# DVCQG case codes ("2.000815.01", "1.001193.01/.02", ".01 = ..."), the raw time of unknown
# unit, and the count of a record's cases ("2 trường hợp").
DROPPED_NUMBERS = re.compile(
    r"\d\.\d{6}\.\d{2}(?:/\.\d{2})*"
    r"|(?<![\w.])\.\d{2}(?!\d)"
    r"|thời gian xử lý \d+"
    r"|thời hạn \d+ \(đơn vị 'OTHER'\)"
    r"|\d+ trường hợp(?= \d\.\d{6})"
)
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(text: str) -> set[str]:
    """The digit groups of a text ("15.000", "2026", "01" read as "1")."""
    return {n.lstrip("0") or "0" if n.isdigit() else n for n in NUMBER.findall(text)}


def test_reworded_older_facts_have_no_jargon_and_keep_every_number() -> None:
    catalogue = load_catalogue(PROCEDURES)
    reworded = 0
    for procedure in catalogue.procedures:
        for fact in ("deadline", "fee"):
            shown, source = getattr(procedure, fact), getattr(procedure, f"{fact}_source")
            assert not JARGON.search(shown or ""), (procedure.code, fact, shown)
            assert "Hà Nội" not in (shown or "") + (source or ""), (procedure.code, fact)
            if source is None:
                continue
            reworded += 1
            assert shown is not None, (procedure.code, fact, "a reworded fact cannot be unknown")
            assert shown != source, (procedure.code, fact, "source kept but nothing reworded")
            missing = _numbers(DROPPED_NUMBERS.sub(" ", source)) - _numbers(shown)
            assert not missing, (procedure.code, fact, sorted(missing))
    assert reworded > 0


def test_dropped_numbers_are_only_jargon() -> None:
    """The exemptions above do not swallow numbers residents need."""
    source = (
        "01 ngày làm việc (DVCQG: 2 trường hợp 1.001193.01/.02 đều 1 ngày); "
        "DVCQG: thời gian xử lý 3, đơn vị 'OTHER'; "
        "phương thức nộp ghi thời hạn 0 (đơn vị 'OTHER'); "
        "trường hợp .01 = 1 ngày; 15.000 đ/lần; từ 15/8/2026"
    )
    assert _numbers(DROPPED_NUMBERS.sub(" ", source)) == {"1", "15.000", "15", "8", "2026"}
    assert _numbers("400.000 đ/trường hợp; 10 USD; 2 trường hợp") == {"400.000", "10", "2"}


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "procedures.yaml"
    shutil.copy(PROCEDURES, target)
    return target


def test_schema_error_names_the_line_and_key(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  short_name:"))
    lines[index] = '  short_name: ""'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    problems = info.value.problems
    assert len(problems) == 1
    assert problems[0].line == index + 1
    assert "short_name" in problems[0].location
    assert "1.001193" in problems[0].location
    assert f"procedures.yaml:{index + 1}" in str(info.value)


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace("  category: ho_tich\n", "  category: nowhere\n", 1)
    text = text.replace("  short_name: ", "  short_nam: ", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    rendered = str(info.value)
    assert "short_nam" in rendered
    assert len(info.value.problems) >= 2


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = tmp_path / "procedures.yaml"
    path.write_text("ward:\n  name: [unclosed\nprocedures: []\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert info.value.problems[0].line is not None
    assert "YAML syntax" in info.value.problems[0].message


def test_a_duplicate_key_is_refused_with_its_line(tmp_path: Path) -> None:
    """The fast reading would keep the last value silently: it declines, and the round-trip
    reading refuses the file as before."""
    path = _copy(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace("  category: ho_tich\n", "  category: ho_tich\n  category: ho_tich\n", 1)
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("  category: ho_tich") + 2
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    [problem] = info.value.problems
    assert problem.line == line and "duplicate key" in problem.message


def test_documents_read_fast_give_the_same_content_and_the_same_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading everything round-trip (as before the fast reading) gives equal content, and a
    broken text the same line-numbered problems."""
    from app.catalogue import fastyaml, loader

    fast = load_content(PROCEDURES, INTENTS)
    broken = _copy(tmp_path)
    text = broken.read_text(encoding="utf-8")
    broken.write_text(text.replace("  short_name: ", "  short_nam: ", 1), encoding="utf-8")
    with pytest.raises(CatalogueError) as fast_problems:
        load_catalogue(broken)

    def declined(text: str, *, hand_on: bool = False) -> object:
        raise fastyaml.NotFast("test")

    monkeypatch.setattr(loader, "fast_load", declined)
    monkeypatch.setattr(loader, "_remembered", type(loader._remembered)())
    assert loader.load_content(PROCEDURES, INTENTS) == fast
    with pytest.raises(CatalogueError) as exact_problems:
        load_catalogue(broken)
    assert exact_problems.value.problems == fast_problems.value.problems
    assert all(p.line for p in exact_problems.value.problems)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="file not found"):
        load_catalogue(tmp_path / "nope.yaml")


def test_known_documents_cannot_be_empty(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    text = path.read_text(encoding="utf-8")
    text = text.replace("status: unknown", "status: known", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="all empty"):
        load_catalogue(path)


def test_missing_builtin_intent_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "intents"
    shutil.copytree(INTENTS, folder)
    intents = folder / "intents.yaml"
    intents.write_text(
        intents.read_text(encoding="utf-8").replace("id: office_hours", "id: opening"),
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="office_hours"):
        load_content(PROCEDURES, folder)


def test_an_unchanged_file_is_read_once_and_any_change_is_read_again(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    first = load_catalogue(path)
    assert load_catalogue(path) is first
    path.write_text(path.read_text(encoding="utf-8") + "# một ghi chú\n", encoding="utf-8")
    assert load_catalogue(path) is not first
    # A broken file is never remembered: fixing it is seen at once.
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  short_name: ", "  short_nam: ", 1), encoding="utf-8")
    with pytest.raises(CatalogueError):
        load_catalogue(path)
    with pytest.raises(CatalogueError):
        load_catalogue(path)
    path.write_text(text, encoding="utf-8")
    assert load_catalogue(path).procedures == first.procedures
