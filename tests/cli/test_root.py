"""The operator's commands, run as an operator runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.storage.database import Database
from app.storage.questions import record_unanswered

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ZALO_APP_ID", "ZALO_ACCESS_TOKEN", "WARDBOT_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("WARDBOT_PROCEDURES", str(ROOT / "procedures.yaml"))
    monkeypatch.setenv("WARDBOT_INTENTS", str(ROOT / "intents"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo
    return tmp_path


def test_validate_the_real_catalogue() -> None:
    result = runner.invoke(cli, ["validate"])
    assert result.exit_code == 0, result.output
    assert "80 procedures" in result.output


def test_validate_reports_the_line_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", broken)
    lines = broken.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  handled_by:"))
    lines[index] = "  handled_by: mayor"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["validate", str(broken)])
    assert result.exit_code == 1
    assert f"procedures.yaml:{index + 1}" in result.output
    assert "handled_by" in result.output


def test_ask_prints_the_reply_and_buttons() -> None:
    result = runner.invoke(cli, ["ask", "lm ks cho con can j vay ad"])
    assert result.exit_code == 0, result.output
    assert "khai sinh" in result.output.lower()
    assert "[" in result.output and "→ https://dichvucong.gov.vn/" in result.output


def test_match_jsonl_contract() -> None:
    lines = "xin giay xac nhan doc than\ngiá vàng hôm nay\nchào bạn\ntt\n"
    result = runner.invoke(cli, ["match", "--jsonl"], input=lines)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["kind"] for r in rows] == ["procedure", "none", "intent", "clarify"]
    assert rows[0]["id"] == "1.004873"
    assert rows[1]["id"] is None
    assert rows[2]["id"] == "greeting"
    assert rows[3]["id"] is None and len(rows[3]["alternatives"]) >= 2
    for row in rows:
        assert set(row) == {"text", "kind", "id", "score", "alternatives"}
        assert isinstance(row["score"], int | float)
        for alternative in row["alternatives"]:
            assert set(alternative) == {"kind", "id", "score"}


def test_eval_of_a_labelled_file(tmp_path: Path) -> None:
    labelled = tmp_path / "q.tsv"
    labelled.write_text(
        "# expected\ttext\n1.000894\tđk kết hôn\nnone\tgiá xăng hôm nay\n1.000656\tđk kết hôn\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["eval", str(labelled)])
    assert result.exit_code == 0
    assert "accuracy 50.0%" in result.output
    strict = runner.invoke(cli, ["eval", str(labelled), "--min-accuracy", "0.9"])
    assert strict.exit_code == 1


def test_eval_of_the_catalogue_examples() -> None:
    result = runner.invoke(cli, ["eval"])
    assert result.exit_code == 0, result.output
    assert "accuracy 100.0%" in result.output


def test_unanswered_groups_what_residents_asked(environment: Path) -> None:
    db = Database(f"sqlite:///{environment / 'cli.db'}")
    db.create_schema()
    for text in ("làm sổ hồng ở đâu", "lam so hong o dau", "giá vàng hôm nay"):
        record_unanswered(
            db,
            oa_id="oa",
            user_id="u",
            text=text,
            kind="none",
            candidates=[{"kind": "procedure", "id": "1.013978", "score": 50.0}],
        )
    db.close()
    result = runner.invoke(cli, ["unanswered"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "làm sổ hồng ở đâu" in result.output
    assert "1.013978" in result.output
    first_row = next(line for line in result.output.splitlines() if "sổ hồng" in line)
    assert "2" in first_row.split("│")[1]


def test_unanswered_previews_what_an_alias_would_answer(environment: Path) -> None:
    db = Database(f"sqlite:///{environment / 'cli.db'}")
    db.create_schema()
    for text in ("làm giấy xanh lá ở đâu", "lam giay xanh la o dau", "giá vàng hôm nay"):
        record_unanswered(db, oa_id="oa", user_id="u", text=text, kind="none", candidates=[])
    db.close()
    procedures = environment / "procedures.yaml"
    saved = procedures.read_text(encoding="utf-8") if procedures.exists() else None
    result = runner.invoke(
        cli, ["unanswered", "--try-alias", "1.013978=giấy xanh lá"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 groups (2 questions) would be served better")
    row = next(line for line in result.output.splitlines() if "giấy xanh lá" in line)
    assert "2/2" in row and "1.013978" in row
    assert "giá vàng" not in result.output
    if saved is not None:
        assert procedures.read_text(encoding="utf-8") == saved  # a preview saves nothing
    bad = runner.invoke(cli, ["unanswered", "--try-alias", "no-equals-sign"])
    assert bad.exit_code == 2


def test_unanswered_previews_against_the_catalogue_served(environment: Path) -> None:
    """The database's current version is what residents get, not the files (only its seed):
    an alias an admin already added in the console answers those questions already."""
    from app.catalogue.documents import PROCEDURES, DocumentPaths
    from app.catalogue_store import CatalogueStore, Origin
    from tests.support.catalogue import with_alias

    db = Database(f"sqlite:///{environment / 'cli.db'}")
    db.create_schema()
    for text in ("làm giấy xanh lá ở đâu", "lam giay xanh la o dau"):
        record_unanswered(db, oa_id="oa", user_id="u", text=text, kind="none", candidates=[])
    store = CatalogueStore(db)
    documents = DocumentPaths(ROOT / "procedures.yaml", ROOT / "intents").read()
    store.save(documents, base=None, author="seed", reason="seed", origin=Origin.seed)
    store.edit(
        PROCEDURES,
        lambda text: with_alias(text, "giấy xanh lá", "1.013978"),
        base=1,
        author="lan",
        reason="console",
    )
    db.close()
    result = runner.invoke(
        cli, ["unanswered", "--try-alias", "1.013978=giấy xanh lá"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 groups (0 questions) would be served better")
