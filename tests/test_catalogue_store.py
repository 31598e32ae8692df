"""The catalogue store: saves validated and version-checked, and the start-up rules that decide
between the database's current version and the files, never overwriting either silently."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.catalogue.documents import LEXICON, PROCEDURES, DocumentPaths
from app.catalogue_store import CatalogueStore, Origin, StartReport
from app.errors import CatalogueConflict, CatalogueError
from app.storage.catalogue import CatalogueText, file_sync
from app.storage.database import Database
from tests.jobs.test_catalogue_watch import break_handled_by, rename_ward
from tests.support.catalogue import copy_content, new_store, with_alias
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
def store(db: Database, files: DocumentPaths) -> CatalogueStore:
    return new_store(db, files)


def console_edit(store: CatalogueStore, alias: str, author: str = "lan") -> int:
    base = store.current_version()
    assert base is not None
    saved = store.edit(
        PROCEDURES, lambda text: with_alias(text, alias), base=base, author=author, reason=alias
    )
    assert saved is not None
    return saved.version


def start(store: CatalogueStore, caplog: pytest.LogCaptureFixture, watch: bool) -> StartReport:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.catalogue_store"):
        return store.start(watch_files=watch)


# Saving ---------------------------------------------------------------------------------------


def test_a_save_from_a_version_that_moved_on_is_refused(store: CatalogueStore) -> None:
    store.start(watch_files=False)
    assert console_edit(store, "tên một") == 2
    with pytest.raises(CatalogueConflict) as refused:
        store.edit(PROCEDURES, lambda t: with_alias(t, "tên hai"), base=1, author="hoa", reason="")
    assert (refused.value.base, refused.value.current) == (1, 2)
    assert store.current_version() == 2
    assert "tên hai" not in store.documents(2)[PROCEDURES]


def test_an_invalid_bundle_stores_nothing(store: CatalogueStore) -> None:
    store.start(watch_files=False)
    documents = store.documents(1)
    broken = {**documents, LEXICON: "abbreviations: [not, a, mapping]\n"}
    with pytest.raises(CatalogueError) as refused:
        store.save(broken, base=1, author="x", reason="y", origin=Origin.cli)
    assert any(str(p).startswith("intents/lexicon.yaml:1:") for p in refused.value.problems)
    with pytest.raises(CatalogueError, match="not a catalogue document name"):
        store.save(
            {**documents, "../etc.yaml": "a: 1"}, base=1, author="x", reason="y", origin=Origin.cli
        )
    assert store.current_version() == 1


def test_texts_are_stored_once_and_an_unchanged_save_stores_nothing(
    db: Database, store: CatalogueStore
) -> None:
    def texts() -> int:
        with Session(db.engine) as session:
            return int(session.exec(select(func.count()).select_from(CatalogueText)).one())

    store.start(watch_files=False)
    assert texts() == 3
    console_edit(store, "tên mới")
    assert texts() == 4  # only the new procedures.yaml
    rolled = store.rollback(1, base=2, author="lan")
    assert rolled is not None and rolled.restored_from == 1 and rolled.lines_removed == 1
    assert texts() == 4  # the old texts are reused
    assert store.save(store.documents(3), base=3, author="x", reason="", origin=Origin.cli) is None
    assert store.current_version() == 3


def test_racing_saves_of_one_base_store_one_and_refuse_the_others(
    db: Database, files: DocumentPaths
) -> None:
    """Four admins save on top of the same version at the same moment (own connections)."""
    seeded = new_store(db, files)
    seeded.start(watch_files=False)
    stores = [new_store(db, files) for _ in range(4)]
    documents = seeded.documents(1)
    barrier = threading.Barrier(len(stores))
    outcomes: list[object] = [None] * len(stores)

    def attempt(index: int) -> None:
        bundle = {**documents, PROCEDURES: with_alias(documents[PROCEDURES], f"tên {index}")}
        barrier.wait()
        try:
            outcomes[index] = stores[index].save(
                bundle, base=1, author=f"a{index}", reason="race", origin=Origin.console
            )
        except CatalogueConflict as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    saved = [o for o in outcomes if o is not None and not isinstance(o, CatalogueConflict)]
    refused = [o for o in outcomes if isinstance(o, CatalogueConflict)]
    assert len(saved) == 1 and len(refused) == len(stores) - 1, outcomes
    assert seeded.current_version() == 2
    assert [v.version for v in seeded.history()] == [2, 1]


# Start-up rules ---------------------------------------------------------------------------------


def test_an_empty_database_is_seeded_from_the_files(
    db: Database, store: CatalogueStore, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    report = start(store, caplog, watch=False)
    assert (report.version, report.decision) == (1, "seeded")
    assert report.content is not None  # validated once, handed to the process
    info = store.info(1)
    assert info is not None and info.origin == Origin.seed and info.author == "seed"
    assert store.documents(1) == files.read()
    assert "the database held no catalogue" in caplog.text
    assert start(store, caplog, watch=False).decision == "same"
    assert "the files hold the same" in caplog.text


def test_an_empty_database_and_invalid_files_refuse_to_start(
    store: CatalogueStore, files: DocumentPaths
) -> None:
    line = break_handled_by(files.procedures)
    with pytest.raises(CatalogueError) as refused:
        store.start(watch_files=True)
    assert any(f"{files.procedures}:{line}:" in str(p) for p in refused.value.problems)
    assert store.current_version() is None


def test_the_database_moved_on_and_the_files_did_not_the_database_serves(
    store: CatalogueStore, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    store.start(watch_files=True)
    on_disk = files.read()
    console_edit(store, "tên trên bảng điều khiển")
    why = {
        True: "the files have not changed since they were last imported",
        False: "the file watch is off (production)",
    }
    for watch in (True, False):
        report = start(store, caplog, watch)
        assert (report.version, report.decision) == (2, "kept")
        assert "serving version 2 (console by lan" in caplog.text
        assert why[watch] in caplog.text
        assert files.read() == on_disk  # the files are left alone too
    assert store.current_version() == 2


def test_files_edited_since_they_were_synced_are_imported_when_watched(
    store: CatalogueStore, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    store.start(watch_files=True)
    console_edit(store, "tên trên bảng điều khiển")
    rename_ward(files.procedures, "Phường Sửa Tệp")
    # Production (no file watch): the edit is not imported, and the log says why.
    report = start(store, caplog, watch=False)
    assert report.decision == "kept" and store.current_version() == 2
    # Development: imported as a new version after the console's, which the log names.
    report = start(store, caplog, watch=True)
    assert (report.version, report.decision) == (3, "imported")
    assert "imported them as version 3, after version 2 (console by lan" in caplog.text
    info = store.info(3)
    assert info is not None and info.origin == Origin.file and info.reason == "file changed"
    assert store.documents(3) == files.read()
    assert start(store, caplog, watch=True).decision == "same"


def test_edited_files_that_do_not_validate_are_not_imported(
    store: CatalogueStore, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    store.start(watch_files=True)
    line = break_handled_by(files.procedures)
    report = start(store, caplog, watch=True)
    assert (report.version, report.decision) == (1, "kept")
    assert any(f"{files.procedures}:{line}:" in str(p) for p in report.file_problems)
    assert f"{files.procedures}:{line}:" in caplog.text and store.current_version() == 1


def test_files_never_imported_from_here_are_noticed_from_then_on(
    db: Database, store: CatalogueStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store.start(watch_files=True)
    console_edit(store, "tên mới")
    elsewhere = copy_content(tmp_path / "another-checkout")
    other = new_store(db, elsewhere, location="another-host:/srv/procedures.yaml")
    report = start(other, caplog, watch=True)
    assert report.decision == "kept" and "never imported from here" in report.message
    synced = file_sync(db, "another-host:/srv/procedures.yaml")
    assert synced is not None and synced.version is None
    rename_ward(elsewhere.procedures, "Phường Khác")
    assert start(other, caplog, watch=True).decision == "imported"


def test_unreadable_files_leave_the_database_serving(
    store: CatalogueStore, files: DocumentPaths, caplog: pytest.LogCaptureFixture
) -> None:
    store.start(watch_files=True)
    files.procedures.unlink()
    report = start(store, caplog, watch=True)
    assert (report.version, report.decision) == (1, "kept")
    assert "file not found" in report.message


def test_processes_starting_together_seed_once(db: Database, files: DocumentPaths) -> None:
    stores = [new_store(db, files, location=f"host-{i}") for i in range(3)]
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
    assert stores[0].current_version() == 1
