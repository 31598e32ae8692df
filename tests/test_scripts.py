"""The content scripts as the lead runs them: the import is up to date and idempotent, and the
notes on contradictory records cover every plain version that has one."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from app.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT.parent / "shared" / "reference" / "facts"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not FACTS.exists(), reason="shared reference facts not present")
def test_the_import_command_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    importer = _script("import_reference")
    procedures = tmp_path / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", procedures)
    intents = ["--intents", str(ROOT / "intents")]
    assert importer.main(["--facts", str(FACTS), "--check", *intents, str(procedures)]) == 0
    assert "up to date" in capsys.readouterr().out

    drafts = tmp_path / "drafts"
    drafts.mkdir()
    catalogue = load_catalogue(procedures)
    proc = catalogue.procedure("1.004837")
    assert proc is not None and proc.plain is not None
    draft = {"code": "1.004837", **proc.plain.model_dump(mode="json", exclude_none=True)}
    draft["fee"] = "Anh/chị hỏi cán bộ mức thu."
    (drafts / "1.004837.yaml").write_text(yaml.safe_dump(draft, allow_unicode=True))
    args = ["--facts", str(FACTS), "--plain", str(drafts), *intents, str(procedures)]
    assert importer.main([*args[:4], "--check", *args[4:]]) == 1  # outdated: one draft changed
    assert importer.main(args) == 0
    out = capsys.readouterr().out
    assert "1 updated" in out and "still without a plain version (0)" in out
    assert importer.main(args) == 0
    assert "up to date" in capsys.readouterr().out
    updated = load_catalogue(procedures).procedure("1.004837")
    assert updated is not None and updated.plain is not None
    assert updated.plain.fee == "Anh/chị hỏi cán bộ mức thu."


def test_the_contradictions_notes_cover_every_plain_note(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    assert _script("contradictions_report").main([str(ROOT / "procedures.yaml"), str(notes)]) == 0
    text = notes.read_text(encoding="utf-8")
    for proc in load_catalogue(ROOT / "procedures.yaml").procedures:
        if proc.plain is not None and proc.plain.contradictions:
            assert f"## {proc.code} " in text
    assert text == (ROOT / "docs" / "record-contradictions.md").read_text(encoding="utf-8")
