"""Schema migrations (Alembic, app/storage/migrations/): run at start and by `wardbot db upgrade`.

On PostgreSQL an advisory lock makes processes starting together take turns, so only the
first one migrates and the others find the schema current.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.command import upgrade as alembic_upgrade
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, text

from app.storage import tables

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x77617264  # "ward": pg_advisory_lock key for schema changes


def target_metadata() -> MetaData:
    """Every table of the service, as the code declares it (app.storage.tables)."""
    return tables.metadata


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url)
    return config


@cache
def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def run_on(context: Any, connection: Connection) -> None:
    """Called by env.py with Alembic's context module."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op (one query) when it already is."""
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            connection.commit()
        try:
            if current_revision(connection) != _head():
                connection.commit()
                config = alembic_config()
                config.attributes["connection"] = connection
                alembic_upgrade(config, "head")
            connection.commit()
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                connection.commit()


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate would change: empty when the migrations match the code's tables."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, target_metadata()))
