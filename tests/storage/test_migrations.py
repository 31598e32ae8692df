"""The Alembic migrations build exactly the tables the code declares.

If this fails after a table or column changed, generate a migration:
    .venv/bin/alembic revision --autogenerate -m "what changed"
and review it (on SQLite, ALTERs run in batch mode).
"""

from __future__ import annotations

from pathlib import Path

from alembic.command import downgrade
from sqlalchemy import inspect

from app.storage.database import Database
from app.storage.migrate import alembic_config, current_revision, schema_differences, upgrade
from tests.support.databases import postgres


def _empty_database(tmp_path: Path) -> Database:
    pg = postgres()
    return Database(pg.create(migrated=False) if pg else f"sqlite:///{tmp_path / 'fresh.db'}")


def test_migrations_match_the_tables_in_code(tmp_path: Path) -> None:
    db = _empty_database(tmp_path)
    try:
        upgrade(db.engine)
        differences = schema_differences(db.engine)
        assert differences == [], (
            "the migrations and the SQLModel tables differ; add a migration "
            f"(alembic revision --autogenerate): {differences}"
        )
    finally:
        db.close()


def test_upgrade_is_idempotent_and_downgrade_undoes_it(tmp_path: Path) -> None:
    db = _empty_database(tmp_path)
    try:
        upgrade(db.engine)
        upgrade(db.engine)
        with db.engine.connect() as connection:
            assert current_revision(connection) is not None
        config = alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            downgrade(config, "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(db.engine)
        assert "zalo_tokens" in inspect(db.engine).get_table_names()
    finally:
        db.close()
