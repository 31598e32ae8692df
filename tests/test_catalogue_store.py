"""The catalogue store: every save validated and version-checked, texts stored once."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.catalogue.documents import (
    INTENTS,
    LEXICON,
    PROCEDURES,
    REQUIRED_DOCUMENTS,
    DocumentPaths,
)
from app.catalogue_store import CatalogueStore, Origin
from app.errors import CatalogueConflict, CatalogueError
from app.storage.database import Database
from app.storage.tables import CatalogueText
from tests.support.catalogue import copy_content, store_unvalidated, with_alias
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
    """Version 1 holds the files."""
    store = CatalogueStore(db)
    store.save(files.read(), base=None, author="seed", reason="seed", origin=Origin.seed)
    return store


def console_edit(store: CatalogueStore, alias: str, author: str = "lan") -> int:
    base = store.current_version()
    assert base is not None
    saved = store.edit(
        PROCEDURES, lambda text: with_alias(text, alias), base=base, author=author, reason=alias
    )
    assert saved is not None
    return saved.version


def test_a_save_from_a_version_that_moved_on_is_refused(store: CatalogueStore) -> None:
    assert console_edit(store, "tên một") == 2
    with pytest.raises(CatalogueConflict) as refused:
        store.edit(PROCEDURES, lambda t: with_alias(t, "tên hai"), base=1, author="hoa", reason="")
    assert (refused.value.base, refused.value.current) == (1, 2)
    assert store.current_version() == 2
    assert "tên hai" not in store.documents(2)[PROCEDURES]


def test_an_invalid_bundle_stores_nothing(store: CatalogueStore) -> None:
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

    seeded = len(REQUIRED_DOCUMENTS)
    assert texts() == seeded
    console_edit(store, "tên mới")
    assert texts() == seeded + 1  # only the new procedures.yaml
    rolled = store.rollback(1, base=2, author="lan")
    assert rolled is not None and rolled.restored_from == 1 and rolled.lines_removed == 1
    assert texts() == seeded + 1  # the old texts are reused
    assert store.save(store.documents(3), base=3, author="x", reason="", origin=Origin.cli) is None
    assert store.current_version() == 3


def test_racing_saves_of_one_base_store_one_and_refuse_the_others(
    db: Database, store: CatalogueStore
) -> None:
    """Four admins save on top of the same version at the same moment (own connections)."""
    seeded = store
    stores = [CatalogueStore(db) for _ in range(4)]
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


MARKED_NAME = "  name: Thủ tục đăng ký giám hộ (suy từ KS)\n"
"""A research note planted in a name residents read (app.catalogue.lint)."""


def test_a_version_with_a_research_marker_is_refused_with_its_line(
    db: Database, store: CatalogueStore
) -> None:
    """Stored texts get the same research-marker lint as files: a save (console edit, import,
    rollback) of a bundle with a marker stores nothing, and a version stored without validation
    (an older release) does not load."""
    documents = store.documents(1)
    text = documents[PROCEDURES]
    planted = text.replace("  name: Thủ tục đăng ký giám hộ\n", MARKED_NAME, 1)
    assert planted != text
    line = planted.splitlines().index(MARKED_NAME.rstrip("\n")) + 1
    with pytest.raises(CatalogueError) as refused:
        store.edit(PROCEDURES, lambda _: planted, base=1, author="lan", reason="marker")
    assert [str(p).split(": ")[0] for p in refused.value.problems] == [f"procedures.yaml:{line}"]
    assert "suy từ" in str(refused.value.problems[0])
    with pytest.raises(CatalogueError, match="suy từ"):
        store.import_documents({PROCEDURES: planted}, author="lan", reason="marker")
    intents = documents[INTENTS]
    answer = re.search(r"\n    answer: [|>]-?\n", intents)
    assert answer is not None
    marked_intents = intents[: answer.end()] + "      Theo nguồn [S3].\n" + intents[answer.end() :]
    with pytest.raises(CatalogueError) as refused:
        store.import_documents({INTENTS: marked_intents}, author="lan", reason="marker")
    assert any(
        p.path == INTENTS and p.line and "answer" in p.location for p in refused.value.problems
    )
    assert store.current_version() == 1

    unchecked = store_unvalidated(db, {**documents, PROCEDURES: planted})
    with pytest.raises(CatalogueError, match="suy từ"):
        store.content(unchecked)
