"""Database.unit(): several query functions in one transaction, committed once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from app.storage.conversations import load_conversation, save_conversation
from app.storage.database import Database
from app.storage.followers import get_follower, mark_followed, touch_interaction
from tests.support.databases import database_url

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(database_url(tmp_path))
    database.create_schema()
    yield database
    database.close()


@pytest.fixture
def commits(db: Database) -> list[int]:
    counted: list[int] = []
    event.listen(db.engine, "commit", lambda _connection: counted.append(1))
    return counted


def test_writes_in_a_unit_are_committed_once(db: Database, commits: list[int]) -> None:
    with db.unit():
        touch_interaction(db, "oa", "u1", NOW)
        save_conversation(db, "oa", "u1", {"last": "khai sinh"})
        assert load_conversation(db, "oa", "u1") == {"last": "khai sinh"}  # sees its own writes
        mark_followed(db, "oa", "u2", NOW)
    assert len(commits) == 1
    assert load_conversation(db, "oa", "u1") == {"last": "khai sinh"}
    assert get_follower(db, "oa", "u2") is not None


def test_an_error_rolls_the_whole_unit_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.unit():
        save_conversation(db, "oa", "u1", {"last": "khai sinh"})
        mark_followed(db, "oa", "u2", NOW)
        raise RuntimeError("decision failed")
    assert load_conversation(db, "oa", "u1") == {}
    assert get_follower(db, "oa", "u2") is None


def test_a_nested_unit_joins_the_outer_one(db: Database, commits: list[int]) -> None:
    with db.unit():
        mark_followed(db, "oa", "u1", NOW)
        with db.unit():
            mark_followed(db, "oa", "u2", NOW)
        assert commits == []
    assert len(commits) == 1


def test_outside_a_unit_each_function_commits(db: Database, commits: list[int]) -> None:
    mark_followed(db, "oa", "u1", NOW)
    mark_followed(db, "oa", "u2", NOW)
    assert len(commits) == 2


@pytest.mark.anyio
async def test_a_unit_belongs_to_its_task(db: Database) -> None:
    inside = asyncio.Event()
    seen: list[bool] = []

    async def other_task() -> None:
        await inside.wait()
        seen.append(get_follower(db, "oa", "u1") is not None)  # its own session: not the unit's

    other = asyncio.create_task(other_task())
    with db.unit():
        mark_followed(db, "oa", "u1", NOW)
        inside.set()
        await asyncio.sleep(0)  # only here, to prove the point: units must not span awaits
        await asyncio.sleep(0)
    await other
    assert seen == [False]


@pytest.mark.anyio
async def test_a_task_started_in_a_unit_commits_its_own_writes_after_it(db: Database) -> None:
    allowed = asyncio.Event()

    async def later() -> None:
        await allowed.wait()  # runs after the unit has ended
        mark_followed(db, "oa", "late", NOW)

    with db.unit():
        mark_followed(db, "oa", "early", NOW)
        task = asyncio.create_task(later())  # copies the context naming the unit's session
    allowed.set()
    await asyncio.wait_for(task, timeout=10)
    assert get_follower(db, "oa", "early") is not None
    assert get_follower(db, "oa", "late") is not None
