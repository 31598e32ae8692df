"""The tables register in one place: app.storage.tables alone declares every table the
migrations build, whatever else was (or was not) imported first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from app.storage.database import Database
from app.storage.migrate import upgrade
from tests.support.databases import postgres

ROOT = Path(__file__).resolve().parents[2]

_ONLY_THE_REGISTRY = """
import json, sys
import app.storage.tables as tables
print(json.dumps({
    "tables": sorted(tables.metadata.tables),
    # Sorting follows every foreign key: one naming a table not declared here fails.
    "sorted": [t.name for t in tables.metadata.sorted_tables],
    "modules": sorted(m for m in sys.modules if m == "app" or m.startswith("app.")),
}))
"""


def test_the_registry_alone_declares_every_migrated_table(tmp_path: Path) -> None:
    # A fresh interpreter: nothing but the registry has been imported.
    done = subprocess.run(
        [sys.executable, "-c", _ONLY_THE_REGISTRY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    assert found["modules"] == ["app", "app.storage", "app.storage.tables"]
    assert len(found["sorted"]) == len(found["tables"])

    pg = postgres()
    db = Database(pg.create(migrated=False) if pg else f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        upgrade(db.engine)
        migrated = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    finally:
        db.close()
    assert set(found["tables"]) == migrated
