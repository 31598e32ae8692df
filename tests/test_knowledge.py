"""Knowledge: the snapshot a process serves, from the catalogue source's current version."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.catalogue.documents import PROCEDURES
from app.catalogue_files import CatalogueFiles
from app.catalogue_store import CatalogueStore
from app.errors import CatalogueError
from app.knowledge import Knowledge
from app.storage.database import Database
from tests.support.catalogue import copy_content, new_catalogue, store_unvalidated
from tests.support.databases import database_url

TTL = timedelta(minutes=30)


@pytest.fixture
def catalogue(tmp_path: Path) -> Iterator[CatalogueFiles]:
    db = Database(database_url(tmp_path))
    db.create_schema()
    yield new_catalogue(db, copy_content(tmp_path / "content"))
    db.close()


@pytest.fixture
def store(catalogue: CatalogueFiles) -> CatalogueStore:
    return catalogue.store


def broken(store: CatalogueStore) -> dict[str, str]:
    documents = store.documents(1)
    text = documents[PROCEDURES].replace("  handled_by: one_stop", "  handled_by: mayor", 1)
    return {**documents, PROCEDURES: text}


def test_no_version_no_knowledge(store: CatalogueStore) -> None:
    with pytest.raises(CatalogueError, match="holds no catalogue version"):
        Knowledge(store, TTL)


def test_a_current_version_that_does_not_load_at_start_serves_the_one_before(
    catalogue: CatalogueFiles, store: CatalogueStore, caplog: pytest.LogCaptureFixture
) -> None:
    """E.g. a new release validates more strictly than the one that saved the version."""
    catalogue.start(watch_files=False)
    store_unvalidated(store.db, broken(store))
    with caplog.at_level(logging.ERROR):
        knowledge = Knowledge(store, TTL)
    assert knowledge.version == 1
    assert knowledge.refused is not None and knowledge.refused.version == 2
    assert "serving version 1, the newest that does" in caplog.text
    assert knowledge.refresh() is False  # already reported


def test_nothing_that_loads_refuses_to_start(store: CatalogueStore) -> None:
    store_unvalidated(store.db, {PROCEDURES: "ward: {}\n"})
    with pytest.raises(CatalogueError, match="document missing"):
        Knowledge(store, TTL)


def test_reload_loads_the_current_version_again(
    catalogue: CatalogueFiles, store: CatalogueStore
) -> None:
    catalogue.start(watch_files=False)
    knowledge = Knowledge(store, TTL)
    first = knowledge.current
    assert knowledge.refresh() is None
    again = knowledge.reload()
    assert again is knowledge.current and again is not first and again.version == 1
