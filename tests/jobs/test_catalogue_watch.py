"""The catalogue watcher: each process follows the database's current version; with the file
watch on, a valid edit of the files becomes a new version, a broken one is refused with its
line and never replaces the good catalogue."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.catalogue.documents import PROCEDURES, DocumentPaths
from app.catalogue_files import CatalogueFiles
from app.catalogue_store import CatalogueStore, Origin
from app.jobs.catalogue_watch import CatalogueWatcher
from app.knowledge import Knowledge
from app.storage.database import Database
from tests.support.catalogue import copy_content, new_catalogue, store_unvalidated, with_alias
from tests.support.databases import database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.anyio


def break_handled_by(path: Path) -> int:
    """Corrupt the first `handled_by:`; returns its 1-based line number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("  handled_by:"))
    lines[index] = "  handled_by: somewhere_else\n"
    path.write_text("".join(lines), encoding="utf-8")
    return index + 1


def rename_ward(path: Path, name: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name: Phường Mẫu\n", f"name: {name}\n", 1), encoding="utf-8")


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
    catalogue = new_catalogue(db, files)
    assert catalogue.start(watch_files=True).decision == "seeded"
    return catalogue


@pytest.fixture
def store(catalogue: CatalogueFiles) -> CatalogueStore:
    return catalogue.store


@pytest.fixture
def knowledge(store: CatalogueStore) -> Knowledge:
    return Knowledge(store, timedelta(minutes=30))


def watcher(
    catalogue: CatalogueFiles, knowledge: Knowledge, *, files: bool = True
) -> CatalogueWatcher:
    return CatalogueWatcher(catalogue, knowledge, interval=60, watch_files=files)


async def test_nothing_changed_nothing_reloaded(
    catalogue: CatalogueFiles, store: CatalogueStore, knowledge: Knowledge
) -> None:
    before = knowledge.current
    assert await watcher(catalogue, knowledge).check() is None
    assert knowledge.current is before and store.current_version() == 1


async def test_a_valid_edit_of_the_files_becomes_a_version_and_is_served(
    catalogue: CatalogueFiles, store: CatalogueStore, knowledge: Knowledge, files: DocumentPaths
) -> None:
    watch = watcher(catalogue, knowledge)
    rename_ward(files.procedures, "Phường Đã Sửa")
    assert await watch.check() is True
    assert knowledge.current.content.catalogue.ward.name == "Phường Đã Sửa"
    assert knowledge.version == 2
    info = store.info(2)
    assert info is not None and info.origin == Origin.file and info.author == "file"
    assert info.changed == (PROCEDURES,) and (info.lines_added, info.lines_removed) == (1, 1)
    # Seen once: the same files are not imported again.
    files.procedures.touch()
    assert await watch.check() is None and store.current_version() == 2


async def test_a_broken_edit_keeps_the_good_catalogue_and_names_the_line(
    catalogue: CatalogueFiles,
    store: CatalogueStore,
    knowledge: Knowledge,
    files: DocumentPaths,
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = watcher(catalogue, knowledge)
    good = knowledge.current
    line = break_handled_by(files.procedures)
    with caplog.at_level(logging.ERROR):
        assert await watch.check() is False
    assert knowledge.current is good  # still serving
    assert store.current_version() == 1  # nothing stored
    assert any(f"procedures.yaml:{line}:" in str(p) for p in knowledge.problems)
    assert f"procedures.yaml:{line}:" in caplog.text
    # Fixing the file is noticed too, and clears the problems.
    shutil.copy(ROOT / "procedures.yaml", files.procedures)
    assert await watch.check() is None  # back to what version 1 holds: nothing to import
    assert knowledge.problems == ()
    rename_ward(files.procedures, "Phường Sửa Lại")
    assert await watch.check() is True
    assert knowledge.current is not good and knowledge.version == 2


async def test_a_version_saved_by_another_process_is_followed(
    db: Database,
    catalogue: CatalogueFiles,
    store: CatalogueStore,
    knowledge: Knowledge,
    tmp_path: Path,
) -> None:
    other = new_catalogue(db, copy_content(tmp_path / "other"), location="other-host")
    text = other.store.documents(1)[PROCEDURES]
    saved = other.store.edit(
        PROCEDURES,
        lambda t: with_alias(t, "giấy chào đời"),
        base=1,
        author="lan",
        reason="alias",
    )
    assert saved is not None and saved.version == 2
    assert await watcher(catalogue, knowledge, files=False).check() is True
    assert knowledge.version == 2
    procedure = knowledge.current.content.catalogue.procedure("1.001193")
    assert procedure is not None and "giấy chào đời" in procedure.aliases
    assert store.documents(1)[PROCEDURES] == text  # every version kept


async def test_a_version_that_does_not_load_is_refused_and_the_last_good_one_serves(
    db: Database,
    catalogue: CatalogueFiles,
    store: CatalogueStore,
    knowledge: Knowledge,
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = watcher(catalogue, knowledge, files=False)
    documents = store.documents(1)
    broken = documents[PROCEDURES].replace("  handled_by: one_stop", "  handled_by: mayor", 1)
    store_unvalidated(db, {**documents, PROCEDURES: broken})
    with caplog.at_level(logging.ERROR):
        assert await watch.check() is False
    assert knowledge.version == 1
    assert knowledge.refused is not None and knowledge.refused.version == 2
    assert any("procedures.yaml:" in str(p) and "handled_by" in str(p) for p in knowledge.problems)
    assert "catalogue version 2 refused" in caplog.text
    assert await watch.check() is False  # reported once, not parsed again every round
    # Rolling back makes a good version current: it serves, the problem is gone.
    rolled = store.rollback(1, base=2, author="lan")
    assert rolled is not None and rolled.version == 3 and rolled.restored_from == 1
    assert await watch.check() is True
    assert knowledge.version == 3 and knowledge.refused is None


async def test_without_the_file_watch_the_files_are_left_alone(
    catalogue: CatalogueFiles, store: CatalogueStore, knowledge: Knowledge, files: DocumentPaths
) -> None:
    rename_ward(files.procedures, "Phường Không Theo Dõi")
    assert await watcher(catalogue, knowledge, files=False).check() is None
    assert store.current_version() == 1


async def test_the_background_task_polls(
    catalogue: CatalogueFiles, store: CatalogueStore, knowledge: Knowledge, files: DocumentPaths
) -> None:
    watch = CatalogueWatcher(catalogue, knowledge, interval=0.05, watch_files=True)
    watch.start()
    try:
        rename_ward(files.procedures, "Phường Theo Dõi")
        for _ in range(200):
            if knowledge.current.content.catalogue.ward.name == "Phường Theo Dõi":
                break
            await asyncio.sleep(0.05)
        assert knowledge.current.content.catalogue.ward.name == "Phường Theo Dõi"
    finally:
        await watch.stop()


async def test_an_edit_of_the_files_after_someone_elses_version_says_so(
    db: Database,
    catalogue: CatalogueFiles,
    store: CatalogueStore,
    knowledge: Knowledge,
    files: DocumentPaths,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Development: the edited files become the current version; the log names the console's
    version they supersede (it stays in the history, for a rollback)."""
    watch = watcher(catalogue, knowledge)
    console = new_catalogue(db, files, location="console-process")
    console.store.edit(
        PROCEDURES, lambda t: with_alias(t, "giấy chào đời"), base=1, author="lan", reason="x"
    )
    rename_ward(files.procedures, "Phường Sửa Tệp")
    with caplog.at_level(logging.INFO):
        assert await watch.check() is True
    assert knowledge.version == 3
    assert "imported them as version 3, after version 2 (console by lan)" in caplog.text
    assert "giấy chào đời" in store.documents(2)[PROCEDURES]


async def test_stop_waits_for_a_round_running_in_its_thread(
    catalogue: CatalogueFiles, knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A thread still reading when stop() returns would hand its connection back after the
    # database is closed (shutdown), leaving it open for the garbage collector to find.
    started, release = threading.Event(), threading.Event()
    finished: list[bool] = []

    def slow_refresh() -> bool:
        started.set()
        release.wait(10)
        finished.append(True)
        return False

    monkeypatch.setattr(knowledge, "refresh", slow_refresh)
    watch = CatalogueWatcher(catalogue, knowledge, interval=60, watch_files=False)
    watch.sleep_first = False
    watch.start()
    await asyncio.to_thread(started.wait, 10)
    stopping = asyncio.create_task(watch.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()  # still waiting for the thread
    release.set()
    await stopping
    assert finished == [True]
