"""The portal's records are in procedures.yaml: every item, number and form code, nothing added,
and the import can be re-run without touching what people wrote."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.catalogue import load_catalogue
from app.catalogue.importer import (
    ImportRefused,
    form_codes,
    has_record,
    import_records,
    numbers,
    read_facts,
    yaml_rt,
)
from app.catalogue.models import Procedure

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures.yaml"
FACTS = ROOT.parent / "shared" / "reference" / "facts"

pytestmark = pytest.mark.skipif(not FACTS.exists(), reason="shared reference facts not present")

CHANNEL = {"DIRECT": "trực tiếp", "ONLINE": "trực tuyến", "POSTAL": "bưu chính"}
UNIT = {"WORKING_DAY": "ngày làm việc", "DAY": "ngày", "OTHER": "không rõ đơn vị"}
FEE_TYPE = {"FEE": "lệ phí", "SERVICE_FEE": "phí"}


def _records() -> dict[str, dict[str, Any]]:
    return (
        {code: r for code, r in read_facts(FACTS).items() if has_record(r)}
        if FACTS.exists()
        else {}
    )


RECORDS = _records()
CATALOGUE = load_catalogue(PROCEDURES)


def _procedure(code: str) -> Procedure:
    procedure = CATALOGUE.procedure(code)
    assert procedure is not None, code
    return procedure


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _record_strings(record: dict[str, Any]) -> list[str]:
    docs = record.get("documents") or {}
    texts = [str(i) for key in ("submit", "present", "forms", "notes") for i in docs.get(key) or []]
    for case in docs.get("cases") or []:
        texts += [case["name"], *case["items"]]
    texts += [str(d.get("note") or "") for d in record.get("deadline") or []]
    texts += [str(f.get("note") or "") for f in record.get("fees") or []]
    texts += [str(r) for r in record.get("requirements") or []]
    return texts


def test_every_record_with_a_procedure() -> None:
    assert len(RECORDS) == 59
    assert {p.code for p in CATALOGUE.procedures} >= set(RECORDS)


@pytest.mark.parametrize("code", sorted(RECORDS))
def test_documents_are_the_records_nothing_lost_nothing_added(code: str) -> None:
    record, procedure = RECORDS[code], _procedure(code)
    docs, ours = record.get("documents") or {}, procedure.documents
    assert procedure.name == _collapse(record["name"])
    assert ours.known
    for key in ("submit", "present", "forms", "notes"):
        assert list(getattr(ours, key)) == list(docs.get(key) or []), key
    theirs = [(_collapse(c["name"]), c["items"]) for c in docs.get("cases") or []]
    assert [(c.label, list(c.items)) for c in ours.cases] == theirs
    assert all(not (c.submit or c.present) for c in ours.cases)


@pytest.mark.parametrize("code", sorted(RECORDS))
def test_deadlines_fees_and_the_rest_per_channel(code: str) -> None:
    record, procedure = RECORDS[code], _procedure(code)
    assert [(d.channel.value, d.time, d.unit.value, d.note) for d in procedure.deadlines] == [
        (CHANNEL[d["method"]], d["time"], UNIT[d["unit"]], d.get("note") or None)
        for d in record["deadline"]
    ]
    assert procedure.fees is not None  # [] when the record lists no fee at all
    assert [(f.channel.value, f.type.value, f.value, f.note) for f in procedure.fees] == [
        (CHANNEL[f["method"]], FEE_TYPE[f["type"]], f.get("value"), f.get("note") or None)
        for f in record.get("fees") or []
    ]
    assert procedure.channels == tuple(CHANNEL[c] for c in record["channels"])
    assert list(procedure.result) == record["result"]
    assert list(procedure.conditions) == list(record.get("requirements") or [])
    assert list(procedure.legal_basis) == record["legal_basis"]
    agencies = {k: _collapse(v) for k, v in (record.get("agencies") or {}).items() if v}
    assert procedure.agencies == agencies
    assert procedure.dvc.detail_url and procedure.dvc.detail_url.endswith(record["formality_id"])
    assert procedure.source and record["formality_id"] in procedure.source
    # The older summary texts a record supersedes are gone.
    assert procedure.deadline is None and procedure.fee is None


@pytest.mark.parametrize("code", sorted(RECORDS))
def test_every_number_and_form_code_is_kept(code: str) -> None:
    record, procedure = RECORDS[code], _procedure(code)
    theirs = _record_strings(record)
    theirs += [str(d["time"]) for d in record["deadline"]]
    theirs += [str(f["value"]) for f in record.get("fees") or [] if f.get("value") is not None]
    ours = [*procedure.record_texts()]
    ours += [f"{d.time} {d.note or ''}" for d in procedure.deadlines]
    ours += [
        f"{f.value if f.value is not None else ''} {f.note or ''}" for f in procedure.fees or ()
    ]
    assert numbers(theirs) <= numbers(ours)
    # Nothing added: the record's name and result are in `ours` too.
    theirs += [record["name"], *record["result"]]
    assert numbers(ours) <= numbers(theirs)
    assert form_codes(theirs) == form_codes(ours)


def test_the_import_is_up_to_date_and_idempotent() -> None:
    text = PROCEDURES.read_text(encoding="utf-8")
    again, report = import_records(text, read_facts(FACTS))
    assert again == text
    assert not report.updated and len(report.unchanged) == 62
    assert len(report.no_record) == 3


def test_reimport_restores_a_record_and_keeps_what_people_wrote(tmp_path: Path) -> None:
    y = yaml_rt()
    data = y.load(PROCEDURES.read_text(encoding="utf-8"))
    entry = next(p for p in data["procedures"] if p["code"] == "1.004837")
    original = entry["documents"]["submit"][0]
    entry["documents"]["submit"][0] = "Một giấy tờ sửa tay"
    entry["aliases"].append("giám hộ cho cháu mồ côi")
    entry["plain"] = {
        "documents": ["Tờ khai đăng ký giám hộ theo mẫu"],
        "deadline": "Thời hạn viết tay.",
        "fee": "Anh/chị hỏi cán bộ.",
        "fee_kind": "unknown",
    }
    entry["short_name"] = "Giám hộ"
    path = tmp_path / "procedures.yaml"
    with path.open("w", encoding="utf-8") as handle:
        y.dump(data, handle)

    text, report = import_records(path.read_text(encoding="utf-8"), read_facts(FACTS))
    assert report.updated == ["1.004837"]
    path.write_text(text, encoding="utf-8")
    procedure = load_catalogue(path).procedure("1.004837")
    assert procedure is not None and procedure.plain is not None
    assert procedure.documents.submit[0] == original
    assert procedure.aliases[-1] == "giám hộ cho cháu mồ côi"
    assert procedure.plain.deadline == "Thời hạn viết tay."
    assert procedure.short_name == "Giám hộ"
    # Comments survive the round trip.
    assert "# SAMPLE DATA" in text


def test_facts_for_an_unknown_procedure_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "facts"
    folder.mkdir()
    shutil.copy(FACTS / "1.004837.yaml", folder / "9.999999.yaml")
    text = (folder / "9.999999.yaml").read_text(encoding="utf-8")
    (folder / "9.999999.yaml").write_text(text.replace("'1.004837'", "'9.999999'", 1))
    with pytest.raises(ImportRefused, match=r"9\.999999"):
        import_records(PROCEDURES.read_text(encoding="utf-8"), read_facts(folder))


def test_numbers_and_form_codes_are_read_as_written() -> None:
    assert numbers(["01 ngày", "10.000 đồng", "Thông tư số 281/2016/TT-BTC"]) == {
        1,
        10000,
        281,
        2016,
    }
    assert form_codes(["Tờ khai (mẫu CT01)", "theo Mẫu số 18", "mẫu số  02"]) == {
        "ct01",
        "mẫusố18",
        "mẫusố02",
    }


def test_the_facts_files_parse_as_plain_yaml() -> None:
    for path in FACTS.glob("*.yaml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["code"] == path.stem
