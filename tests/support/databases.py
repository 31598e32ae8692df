"""Test databases: a fresh SQLite file per test, or, when WARDBOT_TEST_DATABASE_URL names a
PostgreSQL server, a fresh database per test cloned from a migrated template (~50 ms)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app.storage.database import Database

ENV = "WARDBOT_TEST_DATABASE_URL"


class PostgresDatabases:
    """Creates databases named `wardbot_test_<run>_<n>` and drops them at the end of the run."""

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._run = uuid.uuid4().hex[:8]
        self._template: str | None = None
        self._created: list[str] = []

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        url = self._url
        return psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname=url.database or "postgres",
            autocommit=True,
        )

    def url_for(self, name: str) -> str:
        return self._url.set(database=name).render_as_string(hide_password=False)

    def create(self, *, migrated: bool = True) -> str:
        """A new empty database (migrated: cloned from the template) and its URL."""
        name = f"wardbot_test_{self._run}_{len(self._created)}"
        with self._admin() as admin:
            if migrated:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._migrated_template()}"')
            else:
                admin.execute(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return self.url_for(name)

    def _migrated_template(self) -> str:
        if self._template is None:
            name = f"wardbot_test_{self._run}_template"
            with self._admin() as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            self._created.append(name)
            db = Database(self.url_for(name))
            db.create_schema()
            db.close()  # a template must have no open connections
            self._template = name
        return self._template

    def drop_all(self) -> None:
        with self._admin() as admin:
            for name in reversed(self._created):
                try:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except psycopg.errors.InsufficientPrivilege:
                    # FORCE may not end an autovacuum worker (a superuser process) for a
                    # non-superuser role; a plain DROP waits for autovacuum to step aside.
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        self._created.clear()
        self._template = None


_postgres: PostgresDatabases | None = None


def postgres() -> PostgresDatabases | None:
    """The run's PostgreSQL test databases, or None when the tests run on SQLite."""
    global _postgres
    url = os.environ.get(ENV, "").strip()
    if not url:
        return None
    if _postgres is None:
        _postgres = PostgresDatabases(url)
    return _postgres


def database_url(tmp_path: Path) -> str:
    """A database of its own for one test."""
    pg = postgres()
    if pg is None:
        return f"sqlite:///{tmp_path / 'wardbot.db'}"
    return pg.create()


def drop_test_databases() -> None:
    if _postgres is not None:
        _postgres.drop_all()
