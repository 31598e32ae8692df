"""The catalogue as named documents: loaded from texts with the same line-numbered errors as
from files, mapped to files, hashed."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalogue import load_content, load_documents
from app.catalogue.documents import (
    INTENTS,
    LEXICON,
    PROCEDURES,
    DocumentPaths,
    documents_hash,
    valid_name,
)
from app.errors import CatalogueError

ROOT = Path(__file__).resolve().parents[2]
FILES = DocumentPaths(ROOT / "procedures.yaml", ROOT / "intents")


def test_texts_load_exactly_as_the_files_do() -> None:
    assert load_documents(FILES.read()) == load_content(FILES.procedures, FILES.intents)


def test_problems_name_the_document_and_its_line() -> None:
    documents = FILES.read()
    lines = documents[PROCEDURES].splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("  handled_by:"))
    lines[index] = "  handled_by: mayor\n"
    broken = {**documents, PROCEDURES: "".join(lines), LEXICON: "stopwords: [a\n"}
    with pytest.raises(CatalogueError) as refused:
        load_documents(broken)
    shown = [str(p) for p in refused.value.problems]
    assert any(s.startswith(f"procedures.yaml:{index + 1}: procedures[") for s in shown), shown
    assert any(s.startswith("intents/lexicon.yaml:") and "YAML syntax" in s for s in shown)
    # With labels (files being imported) the file names are shown instead.
    with pytest.raises(CatalogueError) as labelled:
        load_documents(broken, FILES.labels())
    assert any(
        str(p).startswith(f"{FILES.procedures}:{index + 1}:") for p in labelled.value.problems
    )


def test_a_missing_document_is_a_problem() -> None:
    documents = FILES.read()
    del documents[INTENTS]
    with pytest.raises(CatalogueError, match=r"intents/intents\.yaml: document missing"):
        load_documents(documents)


def test_names_map_to_files_and_stay_inside() -> None:
    paths = DocumentPaths(Path("/srv/w/procedures.yaml"), Path("/etc/wardbot/intents"))
    assert paths.path_of(PROCEDURES) == Path("/srv/w/procedures.yaml")
    assert paths.path_of(LEXICON) == Path("/etc/wardbot/intents/lexicon.yaml")
    assert paths.path_of("wards/phuong-mau.yaml") == Path("/srv/w/wards/phuong-mau.yaml")
    for bad in (
        "../x.yaml",
        "/etc/passwd.yaml",
        "a/./b.yaml",
        "x.txt",
        "",
        "a\\b.yaml",
        "a,b.yaml",
    ):
        assert not valid_name(bad), bad
        with pytest.raises(ValueError):
            paths.path_of(bad)


def test_the_hash_tells_bundles_apart() -> None:
    documents = FILES.read()
    assert documents_hash(documents) == documents_hash(dict(reversed(documents.items())))
    assert documents_hash(documents) != documents_hash({**documents, LEXICON: ""})
    # Names and texts cannot run into each other.
    assert documents_hash({"a.yaml": "b"}) != documents_hash({"a.yamlb": ""})


def test_write_then_read_is_byte_for_byte(tmp_path: Path) -> None:
    target = DocumentPaths.under(tmp_path / "export")
    documents = FILES.read()
    written = target.write(documents)
    assert sorted(p.name for p in written) == [
        "intents.yaml",
        "lexicon.yaml",
        "phrasings.yaml",
        "procedures.yaml",
    ]
    assert target.read() == documents
    assert not [p for p in (tmp_path / "export").rglob("*.tmp")]


def test_a_valid_bundle_is_parsed_once_and_a_changed_one_afresh() -> None:
    documents = FILES.read()
    first = load_documents(documents)
    assert load_documents(dict(documents)) is first  # same texts: remembered
    renamed = documents[PROCEDURES].replace("name: Phường Mẫu\n", "name: Phường Khác\n", 1)
    changed = load_documents({**documents, PROCEDURES: renamed})
    assert changed.catalogue.ward.name == "Phường Khác"
    broken = {
        **documents,
        PROCEDURES: renamed.replace("  handled_by: one_stop", "  handled_by: x", 1),
    }
    for _ in range(2):  # a refused bundle is never remembered
        with pytest.raises(CatalogueError):
            load_documents(broken)
