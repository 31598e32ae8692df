"""The start-up rules: which version a process serves when the files and the database's
current version differ, never overwriting either silently, always saying why."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.catalogue.documents import PROCEDURES, DocumentPaths
from app.catalogue_files import CatalogueFiles, StartReport
from app.catalogue_store import Origin
from app.errors import CatalogueError
from app.storage.catalogue import file_sync
from app.storage.database import Database
from tests.jobs.test_catalogue_watch import break_handled_by, rename_ward
from tests.support.catalogue import copy_content, new_catalogue, with_alias
from tests.support.databases import database_url


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(database_url(tmp_path))
    database.create_schema()
    yield database
    database.close()


@pytest.fixture
def files(tmp_path: Path) -> DocumentPaths:
    return copy_content(tmp_path / "content")


@pytest.fixture
def catalogue(db: Database, files: DocumentPaths) -> CatalogueFiles:
    return new_catalogue(db, files)


def console_edit(catalogue: CatalogueFiles, alias: str, author: str = "lan") -> int:
    store = catalogue.store
    base = store.current_version()
    assert base is not None
    saved = store.edit(
        PROCEDURES, lambda text: with_alias(text, alias), base=base, author=author, reason=alias
    )
    assert saved is not None
    return saved.version


def start(catalogue: CatalogueFiles, caplog: pytest.LogCaptureFixture, watch: bool) -> StartReport:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.catalogue_files"):
        return catalogue.start(watch_files=watch)


def test_an_empty_database_is_seeded_from_the_files(
    db: Database, catalogue: CatalogueFiles, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    report = start(catalogue, caplog, watch=False)
    assert (report.version, report.decision) == (1, "seeded")
    info = catalogue.store.info(1)
    assert info is not None and info.origin == Origin.seed and info.author == "seed"
    assert catalogue.store.documents(1) == files.read()
    assert "the database held no catalogue" in caplog.text
    assert start(catalogue, caplog, watch=False).decision == "same"
    assert "the files hold the same" in caplog.text


def test_an_empty_database_and_invalid_files_refuse_to_start(
    catalogue: CatalogueFiles, files: DocumentPaths
) -> None:
    line = break_handled_by(files.procedures)
    with pytest.raises(CatalogueError) as refused:
        catalogue.start(watch_files=True)
    assert any(f"{files.procedures}:{line}:" in str(p) for p in refused.value.problems)
    assert catalogue.store.current_version() is None


def test_the_database_moved_on_and_the_files_did_not_the_database_serves(
    catalogue: CatalogueFiles, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue.start(watch_files=True)
    on_disk = files.read()
    console_edit(catalogue, "tên trên bảng điều khiển")
    why = {
        True: "the files have not changed since they were last imported",
        False: "the file watch is off (production)",
    }
    for watch in (True, False):
        report = start(catalogue, caplog, watch)
        assert (report.version, report.decision) == (2, "kept")
        assert "serving version 2 (console by lan" in caplog.text
        assert why[watch] in caplog.text
        assert files.read() == on_disk  # the files are left alone too
    assert catalogue.store.current_version() == 2


def test_files_edited_since_they_were_synced_are_imported_when_watched(
    catalogue: CatalogueFiles, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue.start(watch_files=True)
    console_edit(catalogue, "tên trên bảng điều khiển")
    rename_ward(files.procedures, "Phường Sửa Tệp")
    # Production (no file watch): the edit is not imported, and the log says why.
    report = start(catalogue, caplog, watch=False)
    assert report.decision == "kept" and catalogue.store.current_version() == 2
    # Development: imported as a new version after the console's, which the log names.
    report = start(catalogue, caplog, watch=True)
    assert (report.version, report.decision) == (3, "imported")
    assert "imported them as version 3, after version 2 (console by lan" in caplog.text
    info = catalogue.store.info(3)
    assert info is not None and info.origin == Origin.file and info.reason == "file changed"
    assert catalogue.store.documents(3) == files.read()
    assert start(catalogue, caplog, watch=True).decision == "same"


def test_edited_files_that_do_not_validate_are_not_imported(
    catalogue: CatalogueFiles, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue.start(watch_files=True)
    line = break_handled_by(files.procedures)
    report = start(catalogue, caplog, watch=True)
    assert (report.version, report.decision) == (1, "kept")
    assert any(f"{files.procedures}:{line}:" in str(p) for p in report.file_problems)
    assert f"{files.procedures}:{line}:" in caplog.text and catalogue.store.current_version() == 1


def test_files_never_imported_from_here_are_noticed_from_then_on(
    db: Database, catalogue: CatalogueFiles, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue.start(watch_files=True)
    console_edit(catalogue, "tên mới")
    elsewhere = copy_content(tmp_path / "another-checkout")
    other = new_catalogue(db, elsewhere, location="another-host:/srv/procedures.yaml")
    report = start(other, caplog, watch=True)
    assert report.decision == "kept" and "never imported from here" in report.message
    synced = file_sync(db, "another-host:/srv/procedures.yaml")
    assert synced is not None and synced.version is None
    rename_ward(elsewhere.procedures, "Phường Khác")
    assert start(other, caplog, watch=True).decision == "imported"


def test_unreadable_files_leave_the_database_serving(
    catalogue: CatalogueFiles, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    catalogue.start(watch_files=True)
    files.procedures.unlink()
    report = start(catalogue, caplog, watch=True)
    assert (report.version, report.decision) == (1, "kept")
    assert "file not found" in report.message


def test_processes_starting_together_seed_once(db: Database, files: DocumentPaths) -> None:
    stores = [new_catalogue(db, files, location=f"host-{i}") for i in range(3)]
    barrier = threading.Barrier(len(stores))
    reports: list[StartReport | BaseException | None] = [None] * len(stores)

    def run(index: int) -> None:
        barrier.wait()
        try:
            reports[index] = stores[index].start(watch_files=True)
        except BaseException as exc:  # reported below
            reports[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(r, StartReport) and r.version == 1 for r in reports), reports
    assert sorted(r.decision for r in reports if isinstance(r, StartReport)).count("seeded") == 1
    assert stores[0].store.current_version() == 1
