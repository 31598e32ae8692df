"""The file watcher: a valid edit is served, a broken one never replaces the good catalogue."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from app.jobs.catalogue_watch import CatalogueWatcher
from app.knowledge import Knowledge

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.anyio


def break_handled_by(path: Path) -> int:
    """Corrupt the first `handled_by:`; returns its 1-based line number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("  handled_by:"))
    lines[index] = "  handled_by: somewhere_else\n"
    path.write_text("".join(lines), encoding="utf-8")
    return index + 1


@pytest.fixture
def knowledge(tmp_path: Path) -> Knowledge:
    procedures = tmp_path / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", procedures)
    return Knowledge(procedures, ROOT / "intents", timedelta(minutes=30))


async def test_unchanged_files_are_not_reloaded(knowledge: Knowledge) -> None:
    watcher = CatalogueWatcher(knowledge, interval=60)
    before = knowledge.current
    assert await watcher.check() is None
    assert knowledge.current is before


async def test_a_broken_edit_keeps_the_good_catalogue_and_names_the_line(
    knowledge: Knowledge, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = CatalogueWatcher(knowledge, interval=60)
    good = knowledge.current
    line = break_handled_by(knowledge.procedures)
    with caplog.at_level(logging.ERROR):
        assert await watcher.check() is False
    assert knowledge.current is good  # still serving
    assert any(f"procedures.yaml:{line}:" in str(p) for p in knowledge.problems)
    assert f"procedures.yaml:{line}:" in caplog.text
    # Fixing the file is noticed too, and clears the problems.
    shutil.copy(ROOT / "procedures.yaml", knowledge.procedures)
    assert await watcher.check() is True
    assert knowledge.current is not good and knowledge.problems == ()


async def test_a_valid_edit_is_served(knowledge: Knowledge) -> None:
    watcher = CatalogueWatcher(knowledge, interval=60)
    text = knowledge.procedures.read_text(encoding="utf-8")
    knowledge.procedures.write_text(
        text.replace("name: Phường Mẫu\n", "name: Phường Đã Sửa\n", 1), encoding="utf-8"
    )
    assert await watcher.check() is True
    assert knowledge.current.content.catalogue.ward.name == "Phường Đã Sửa"


async def test_the_background_task_polls(knowledge: Knowledge) -> None:
    import asyncio

    watcher = CatalogueWatcher(knowledge, interval=0.05)
    watcher.start()
    try:
        text = knowledge.procedures.read_text(encoding="utf-8")
        knowledge.procedures.write_text(
            text.replace("name: Phường Mẫu\n", "name: Phường Theo Dõi\n", 1), encoding="utf-8"
        )
        for _ in range(200):
            if knowledge.current.content.catalogue.ward.name == "Phường Theo Dõi":
                break
            await asyncio.sleep(0.05)
        assert knowledge.current.content.catalogue.ward.name == "Phường Theo Dõi"
    finally:
        await watcher.stop()
