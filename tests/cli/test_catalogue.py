"""`wardbot catalogue import | export | history | diff | rollback`, run as an operator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.catalogue.documents import PROCEDURES, DocumentPaths
from app.cli import cli
from app.storage.catalogue import documents_of, latest_version
from app.storage.database import Database
from tests.jobs.test_catalogue_watch import break_handled_by
from tests.support.catalogue import copy_content, with_alias
from tests.support.databases import database_url

runner = CliRunner()
ALIAS = "giấy chào đời của bé"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DocumentPaths:
    for name in ("ZALO_APP_ID", "ZALO_ACCESS_TOKEN", "WARDBOT_API_TOKEN", "WARDBOT_ENV"):
        monkeypatch.delenv(name, raising=False)
    content = copy_content(tmp_path / "checkout")
    monkeypatch.setenv("DATABASE_URL", database_url(tmp_path))
    monkeypatch.setenv("WARDBOT_PROCEDURES", str(content.procedures))
    monkeypatch.setenv("WARDBOT_INTENTS", str(content.intents))
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo
    return content


@pytest.fixture
def db(files: DocumentPaths) -> Database:
    import os

    database = Database(os.environ["DATABASE_URL"])
    database.create_schema()
    return database


def run(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(cli, ["catalogue", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_import_history_and_nothing_new(files: DocumentPaths, db: Database) -> None:
    assert "Stored version 1" in run("import", "-m", "first import", "--author", "lan")
    assert "Unchanged: version 1" in run("import")
    history = run("history")
    assert "lan" in history and "first import" in history
    assert documents_of(db, 1) == files.read()
    db.close()


def test_an_invalid_file_stores_nothing_and_names_the_line(
    files: DocumentPaths, db: Database
) -> None:
    run("import")
    line = break_handled_by(files.procedures)
    result = runner.invoke(cli, ["catalogue", "import"])
    assert result.exit_code == 1
    assert f"{files.procedures}:{line}:" in result.output
    assert "handled_by" in result.output and "Nothing was stored" in result.output
    assert latest_version(db) == 1
    db.close()


def test_an_import_with_a_research_marker_stores_nothing_and_names_the_line(
    files: DocumentPaths, db: Database
) -> None:
    run("import")
    text = files.procedures.read_text(encoding="utf-8")
    planted = text.replace(
        "  name: Thủ tục đăng ký giám hộ\n", "  name: Thủ tục đăng ký giám hộ (chưa đọc)\n", 1
    )
    assert planted != text
    files.procedures.write_text(planted, encoding="utf-8")
    line = planted.splitlines().index("  name: Thủ tục đăng ký giám hộ (chưa đọc)") + 1
    result = runner.invoke(cli, ["catalogue", "import"])
    assert result.exit_code == 1
    assert f"{files.procedures}:{line}:" in result.output and "chưa đọc" in result.output
    assert "Nothing was stored" in result.output
    assert latest_version(db) == 1
    db.close()


def test_import_one_file_export_round_trip_diff_and_rollback(
    files: DocumentPaths, db: Database, tmp_path: Path
) -> None:
    run("import")
    original = files.read()
    edited = tmp_path / "edited.yaml"
    edited.write_text(with_alias(original[PROCEDURES], ALIAS), encoding="utf-8")
    assert "Stored version 2: procedures.yaml (+1 -0 lines)" in run("import", str(edited))

    # Export writes the stored texts back byte for byte: comments and order kept.
    out = tmp_path / "exported"
    assert "Wrote version 2" in run("export", "--to", str(out))
    exported = DocumentPaths.under(out).read()
    assert exported == {**original, PROCEDURES: edited.read_text(encoding="utf-8")}
    assert run("export", "--to", "-") == edited.read_text(encoding="utf-8")
    single = tmp_path / "only.yaml"
    run("export", "--to", str(single), "--version", "1")
    assert single.read_text(encoding="utf-8") == original[PROCEDURES]

    diff = run("diff", "1", "2")
    assert f"+  - {ALIAS}" in diff and diff.count("\n+") == 2  # the header and the alias

    assert "Stored version 3 = version 1" in run("rollback", "1", "-m", "undo the alias")
    assert documents_of(db, 3) == original
    history = run("history")
    assert "rollback of 1" in history and "undo the alias" in history
    assert "already holds" in run("rollback", "1")
    db.close()


def test_export_never_overwrites_edits_no_version_holds(files: DocumentPaths, db: Database) -> None:
    run("import")
    files.procedures.write_text(
        with_alias(files.procedures.read_text(encoding="utf-8"), ALIAS), encoding="utf-8"
    )
    refused = runner.invoke(cli, ["catalogue", "export"])
    assert refused.exit_code == 1
    assert str(files.procedures) in refused.output and "--force" in refused.output
    assert ALIAS in files.procedures.read_text(encoding="utf-8")
    run("export", "--force")
    assert files.read() == documents_of(db, 1)
    db.close()


def test_import_from_standard_input(files: DocumentPaths, db: Database) -> None:
    run("import")
    text = with_alias(files.procedures.read_text(encoding="utf-8"), ALIAS)
    assert "Stored version 2" in run("import", "-", stdin=text)
    assert documents_of(db, 2)[PROCEDURES] == text
    broken = text.replace("  handled_by: one_stop", "  handled_by: mayor", 1)
    result = runner.invoke(cli, ["catalogue", "import", "-"], input=broken)
    assert result.exit_code == 1 and "<stdin>:" in result.output
    db.close()


def test_rollback_to_an_unknown_version(files: DocumentPaths) -> None:
    run("import")
    result = runner.invoke(cli, ["catalogue", "rollback", "7"])
    assert result.exit_code == 1 and "no catalogue version 7" in result.output
