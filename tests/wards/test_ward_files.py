"""Ward files travel with the catalogue's versions: seeded, imported, followed, rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.catalogue.documents import DocumentPaths
from app.knowledge import Knowledge
from app.storage.database import Database
from app.wards import wards_of
from tests.support.catalogue import copy_content, new_catalogue
from tests.support.databases import database_url


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(database_url(tmp_path))
    database.create_schema()
    yield database
    database.close()


def _slugs(db: Database, paths: DocumentPaths) -> list[str]:
    store = new_catalogue(db, paths).store
    version = store.current_version()
    assert version is not None
    return [w.slug for w in wards_of(store.content(version))]


def test_ward_files_seed_import_and_roll_back(db: Database, tmp_path: Path) -> None:
    paths = copy_content(tmp_path / "content", with_wards=True)
    catalogue = new_catalogue(db, paths)
    first = catalogue.start(watch_files=True)
    assert first.decision == "seeded"
    assert _slugs(db, paths) == ["phuong-mau-a", "xa-mau-b"]

    # A deleted ward file is gone from the next import (the folder is held completely)...
    assert paths.wards is not None
    (paths.wards / "xa-mau-b.yaml").unlink()
    imported = catalogue.check_files()
    assert imported is not None and imported.changed == ("wards/xa-mau-b.yaml",)
    assert _slugs(db, paths) == ["phuong-mau-a"]

    # ...and a rollback brings it back.
    store = catalogue.store
    store.rollback(first.version, base=store.current_version(), author="t")
    assert _slugs(db, paths) == ["phuong-mau-a", "xa-mau-b"]


def test_a_host_without_wards_keeps_the_stored_ward_files(db: Database, tmp_path: Path) -> None:
    with_wards = copy_content(tmp_path / "a", with_wards=True)
    new_catalogue(db, with_wards).start(watch_files=True)
    # Another host (no WARDBOT_WARDS) with the same procedures.yaml serves the same version.
    plain = copy_content(tmp_path / "b")
    report = new_catalogue(db, plain, location="other").start(watch_files=True)
    assert report.decision == "same"
    assert _slugs(db, plain) == ["phuong-mau-a", "xa-mau-b"]


def test_an_invalid_ward_file_is_not_imported(db: Database, tmp_path: Path) -> None:
    paths = copy_content(tmp_path / "content", with_wards=True)
    catalogue = new_catalogue(db, paths)
    catalogue.start(watch_files=True)
    assert paths.wards is not None
    broken = paths.wards / "phuong-mau-a.yaml"
    broken.write_text(broken.read_text(encoding="utf-8") + "hide: [nope]\n", encoding="utf-8")
    report = catalogue.start(watch_files=True)
    assert report.decision == "kept"
    assert any(str(broken) in str(p) for p in report.file_problems)


def test_a_running_process_follows_a_ward_file_change(db: Database, tmp_path: Path) -> None:
    paths = copy_content(tmp_path / "content", with_wards=True)
    catalogue = new_catalogue(db, paths)
    catalogue.start(watch_files=True)
    knowledge = Knowledge(catalogue.store, timedelta(minutes=30))
    assert knowledge.current.ward_of("1000000000000000002") is not None
    assert paths.wards is not None
    ward_b = paths.wards / "xa-mau-b.yaml"
    ward_b.write_text(
        ward_b.read_text(encoding="utf-8").replace("1000000000000000002", "1000000000000000009"),
        encoding="utf-8",
    )
    assert catalogue.check_files() is not None  # the file watch imports the change
    assert knowledge.refresh() is True
    assert knowledge.current.ward_of("1000000000000000002") is None
    moved = knowledge.current.ward_of("1000000000000000009")
    assert moved is not None and moved.slug == "xa-mau-b"


def test_wards_share_the_matcher_unless_they_hide_or_add(db: Database, tmp_path: Path) -> None:
    paths = copy_content(tmp_path / "content", with_wards=True)
    assert paths.wards is not None
    shared = new_catalogue(db, paths)
    shared.start(watch_files=True)
    knowledge = Knowledge(shared.store, timedelta(minutes=30))
    snapshot = knowledge.current
    hidden = snapshot.content.catalogue.procedures[0].code
    a, b = snapshot.wards.by_slug("phuong-mau-a"), snapshot.wards.by_slug("xa-mau-b")
    assert a is not None and b is not None
    dialogue_a = snapshot.dialogue_for(a)
    assert dialogue_a.matcher is snapshot.matcher  # no matcher built for a sharing ward
    assert snapshot.dialogue_for(a) is dialogue_a  # built once per version
    assert dialogue_a.catalogue.ward.name == "Phường Mẫu A"

    ward_b = paths.wards / "xa-mau-b.yaml"
    ward_b.write_text(
        ward_b.read_text(encoding="utf-8").replace("hide: []", f"hide: ['{hidden}']"),
        encoding="utf-8",
    )
    assert shared.check_files() is not None
    knowledge.refresh()
    snapshot = knowledge.current
    b = snapshot.wards.by_slug("xa-mau-b")
    assert b is not None
    dialogue_b = snapshot.dialogue_for(b)
    assert dialogue_b.matcher is not snapshot.matcher
    assert dialogue_b.catalogue.procedure(hidden) is None
    assert snapshot.content.catalogue.procedure(hidden) is not None
