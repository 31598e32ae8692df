"""`wardbot db upgrade` migrates the configured database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from app.cli import cli
from app.storage.database import Database
from tests.support.databases import postgres


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pg = postgres()
    url = pg.create(migrated=False) if pg else f"sqlite:///{tmp_path / 'ops.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    db = Database(url)
    try:
        assert {"inbound_events", "zalo_tokens", "alembic_version"} <= set(
            inspect(db.engine).get_table_names()
        )
    finally:
        db.close()
