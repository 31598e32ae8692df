"""The wards: ward files validated with line-numbered errors, and the directory built from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.catalogue import load_documents
from app.catalogue.documents import DocumentPaths
from app.errors import CatalogueError
from app.wards import DEFAULT_SLUG, wards_of

ROOT = Path(__file__).resolve().parents[2]
FILES = DocumentPaths(ROOT / "procedures.yaml", ROOT / "intents", ROOT / "wards")
SAMPLE_A = "wards/phuong-mau-a.yaml"
SAMPLE_B = "wards/xa-mau-b.yaml"


def _documents() -> dict[str, str]:
    return FILES.read()


def test_the_sample_folder_gives_two_wards_by_oa_and_slug() -> None:
    documents = _documents()
    assert {SAMPLE_A, SAMPLE_B} <= set(documents)
    wards = wards_of(load_documents(documents))
    assert [w.slug for w in wards.all()] == ["phuong-mau-a", "xa-mau-b"]
    a = wards.by_oa("1000000000000000001")
    assert a is not None and a.slug == "phuong-mau-a" and a.name == "Phường Mẫu A"
    assert a.catalogue.ward.contacts["general"].phone == "0200 111 0000"
    assert wards.by_slug("xa-mau-b") is not None
    assert wards.by_oa("1000000000000000003") is None  # no ward claims it: answer nothing
    assert wards.by_slug("nope") is None
    assert wards.only is None
    assert all(w.shares_procedures for w in wards)


def test_without_ward_files_the_ward_of_procedures_yaml_serves_its_oa() -> None:
    documents = {n: t for n, t in _documents().items() if not n.startswith("wards/")}
    content = load_documents(documents)
    unset = wards_of(content)
    only = unset.only
    assert only is not None and only.slug == DEFAULT_SLUG
    assert only.catalogue is content.catalogue
    assert unset.by_oa("any-oa") is only  # ZALO_OA_ID unset: whichever OA the events come from
    pinned = wards_of(content, single_oa_id="42")
    assert pinned.by_oa("42") is pinned.only
    assert pinned.by_oa("43") is None


def test_a_ward_hides_shared_procedures_and_adds_its_own() -> None:
    documents = _documents()
    shared = load_documents(documents).catalogue
    hidden = shared.procedures[0].code
    # The ward's own procedure: a copy of a shared one under a local code (JSON is YAML).
    own = shared.procedures[1].model_dump(mode="json", exclude_none=True)
    own["code"] = "LOCAL-001"
    documents[SAMPLE_B] = documents[SAMPLE_B].replace(
        "hide: []\nprocedures: []\n",
        f"hide: ['{hidden}']\nprocedures: [{json.dumps(own, ensure_ascii=False)}]\n",
    )
    wards = wards_of(load_documents(documents))
    b = wards.by_slug("xa-mau-b")
    a = wards.by_slug("phuong-mau-a")
    assert a is not None and b is not None
    assert not b.shares_procedures and a.shares_procedures
    assert b.catalogue.procedure(hidden) is None
    assert b.catalogue.procedure("LOCAL-001") is not None
    assert a.catalogue.procedure(hidden) is not None
    assert a.catalogue.procedure("LOCAL-001") is None


def test_ward_file_problems_name_the_file_and_line() -> None:
    documents = _documents()
    text_b = documents[SAMPLE_B]
    # Line 4 holds oa_id: claim ward A's OA; hide an unknown code; break a phone.
    text_b = text_b.replace('"1000000000000000002"', '"1000000000000000001"')
    text_b = text_b.replace("hide: []", "hide: ['9.999999']")
    documents[SAMPLE_B] = text_b
    with pytest.raises(CatalogueError) as refused:
        load_documents(documents, FILES.labels())
    shown = [str(p) for p in refused.value.problems]
    label = str(ROOT / SAMPLE_B)
    oa_line = text_b.splitlines().index('oa_id: "1000000000000000001"') + 1
    hide_line = text_b.splitlines().index("hide: ['9.999999']") + 1
    assert (
        f"{label}:{oa_line}: oa_id: OA 1000000000000000001 already belongs to ward phuong-mau-a"
        in shown
    ), shown
    assert any(s.startswith(f"{label}:{hide_line}: hide") and "9.999999" in s for s in shown), shown


def test_schema_problems_and_bad_names_are_refused() -> None:
    documents = _documents()
    documents[SAMPLE_A] = documents[SAMPLE_A].replace("  name: Phường Mẫu A\n", "")
    documents["wards/Bad Name.yaml"] = documents[SAMPLE_B]
    with pytest.raises(CatalogueError) as refused:
        load_documents(documents)
    shown = [str(p) for p in refused.value.problems]
    assert any(s.startswith(f"{SAMPLE_A}:") and "ward.name" in s for s in shown), shown
    assert any(s.startswith("wards/Bad Name.yaml") for s in shown), shown
