"""/readyz proves a write, within a short timeout: a database that reads but takes no writes
(locked, full, its SQLite file deleted under the process) is not ready."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlmodel import select

from app.storage.tables import Heartbeat
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.outbox import RefusingWrites

pytestmark = pytest.mark.anyio


@contextmanager
def write_locked(running: RunningApp) -> Iterator[None]:
    """Another connection holds the database's write lock (SQLite) or the heartbeat table's
    lock (PostgreSQL) for as long as the block runs."""
    url = running.services.db.engine.url
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        other = sqlite3.connect(url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as other:
        other.execute("LOCK TABLE heartbeats IN ACCESS EXCLUSIVE MODE")
        yield
        other.rollback()


async def test_ready_means_a_write_went_through(running: RunningApp) -> None:
    response = await running.client.get("/readyz")
    assert response.status_code == 200 and response.json()["status"] == "ready"
    with running.services.db.session() as session:
        assert session.exec(select(Heartbeat)).one().name == "readyz"


async def test_a_write_locked_database_is_not_ready_within_seconds(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    # The web process of a split deployment: no background job shares its event loop.
    async for running in start_app(make_settings(tmp_path, fake_zalo, run_worker=False)):
        await _locked_is_not_ready(running)


async def _locked_is_not_ready(running: RunningApp) -> None:
    with write_locked(running):
        started = time.monotonic()
        response = await running.client.get("/readyz")
        waited = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] is False and body["database_error"]
    assert waited < 4.5  # the probe's own timeout (2 s), not the lock's length
    assert (await running.client.get("/readyz")).status_code == 200


async def test_a_database_refusing_writes_is_not_ready(running: RunningApp) -> None:
    refusing = RefusingWrites(running.services.db)  # as with a full disk
    try:
        with refusing.refusing():
            response = await running.client.get("/readyz")
    finally:
        refusing.close()
    assert response.status_code == 503
    assert "disk is full" in response.json()["database_error"]


async def test_a_sqlite_file_deleted_under_the_process_is_not_ready(
    running: RunningApp,
) -> None:
    url = running.services.db.engine.url
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite only")
    assert url.database is not None
    assert (await running.client.get("/readyz")).status_code == 200
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(url.database + suffix)

    response = await running.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["database_error"] == "database file deleted or replaced"
