"""PostgreSQL connections idle past PING_AFTER_IDLE_SECONDS are pinged before use and replaced
when the server dropped them; recently used ones are not pinged (one round trip saved per
query function). PostgreSQL only: SQLite has no server to lose."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import event, text

from app.storage import database as database_module
from app.storage.database import Database
from tests.support.databases import postgres

pytestmark = pytest.mark.skipif(
    postgres() is None,
    reason="needs PostgreSQL: set WARDBOT_TEST_DATABASE_URL (`make unit-pg` does)",
)


@pytest.fixture
def db() -> Iterator[Database]:
    pg = postgres()
    assert pg is not None
    database = Database(pg.create())
    yield database
    database.close()


def _backend_pid(db: Database) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(db: Database, pid: int) -> None:
    url = db.engine.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password,
        dbname=url.database, autocommit=True,
    ) as admin:  # fmt: skip
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _statements(db: Database) -> list[str]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    return seen


def test_a_connection_dropped_while_idle_is_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _backend_pid(db)
    _terminate(db, pid)  # the server restarted, or dropped the idle connection
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(db) != pid  # no error: the ping found it dead, a new one served


def test_a_connection_used_moments_ago_is_not_pinged(db: Database) -> None:
    _backend_pid(db)
    statements = _statements(db)
    pings: list[int] = []
    original = db.engine.dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        pings.append(1)
        return original(dbapi_connection)

    db.engine.dialect.do_ping = counting  # type: ignore[method-assign]
    for _ in range(3):
        _backend_pid(db)
    assert pings == []
    assert statements == ["SELECT pg_backend_pid()"] * 3
