"""Catalogue test helpers: a private copy of the content files, a store on a fresh database,
and a version stored without validation (as a newer release might have written it)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from app.catalogue.documents import DocumentPaths, documents_hash, text_hash
from app.catalogue.editor import PhraseKind, text_with_phrase
from app.catalogue_files import CatalogueFiles
from app.catalogue_store import CatalogueStore
from app.storage.catalogue import NewVersion, insert_version, latest_version
from app.storage.database import Database

ROOT = Path(__file__).resolve().parents[2]
ALIAS_CODE = "1.001193"
"""Đăng ký khai sinh: the procedure the tests give new aliases."""


def copy_content(folder: Path, *, with_wards: bool = False) -> DocumentPaths:
    """procedures.yaml and intents/ (and with `with_wards` the sample wards/) copied under
    `folder`, to edit freely."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "procedures.yaml", folder / "procedures.yaml")
    shutil.copytree(ROOT / "intents", folder / "intents", dirs_exist_ok=True)
    if with_wards:
        shutil.copytree(ROOT / "wards", folder / "wards", dirs_exist_ok=True)
    return DocumentPaths.under(folder, with_wards=with_wards)


def with_alias(text: str, alias: str, code: str = ALIAS_CODE) -> str:
    """procedures.yaml's text with one more alias for `code`, as the console adds it."""
    new_text = text_with_phrase(text, code, alias, PhraseKind.alias)
    assert new_text is not None, "the alias is already there"
    return new_text


def store_unvalidated(db: Database, documents: Mapping[str, str], reason: str = "raw") -> int:
    """Store `documents` as the next version without validating them."""
    base = latest_version(db)
    row = insert_version(
        db,
        base,
        NewVersion(
            documents=documents,
            text_hashes={name: text_hash(text) for name, text in documents.items()},
            content_hash=documents_hash(documents),
            author="test",
            origin="import",
            reason=reason,
        ),
    )
    return row.version


def new_catalogue(
    db: Database, paths: DocumentPaths, location: str | None = None
) -> CatalogueFiles:
    """The versions in `db` and the files at `paths`, as one process (one host) has them."""
    return CatalogueFiles(
        CatalogueStore(db), paths, location=location or f"test:{paths.procedures}"
    )
