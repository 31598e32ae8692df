"""`wardbot staff add|list`, run as an operator runs them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.staff import authenticate
from app.storage.database import Database

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo
    return url


def test_add_reads_the_password_from_stdin_and_hashes_it(db_url: str) -> None:
    result = runner.invoke(
        cli, ["staff", "add", "Lan.Nguyen", "--role", "admin"], input="mot-mat-khau-dai\n"
    )
    assert result.exit_code == 0, result.output
    assert "lan.nguyen (admin)" in result.output
    db = Database(db_url)
    try:
        ok = authenticate(db, "lan.nguyen", "mot-mat-khau-dai", datetime.now(UTC))
        assert ok.user is not None and ok.user.is_admin
        from app.storage.staff import staff_by_username

        account = staff_by_username(db, "lan.nguyen")
        assert account is not None and account.password_hash.startswith("$argon2id$")
        assert "mot-mat-khau-dai" not in account.password_hash
    finally:
        db.close()
    listed = runner.invoke(cli, ["staff", "list"])
    assert "lan.nguyen\tadmin" in listed.output


def test_add_again_resets_password_and_role(db_url: str) -> None:
    runner.invoke(cli, ["staff", "add", "lan", "--role", "admin"], input="mat-khau-cu-123\n")
    result = runner.invoke(
        cli, ["staff", "add", "lan", "--role", "staff"], input="mat-khau-moi-456\n"
    )
    assert result.exit_code == 0, result.output
    db = Database(db_url)
    try:
        now = datetime.now(UTC)
        assert authenticate(db, "lan", "mat-khau-cu-123", now).user is None
        user = authenticate(db, "lan", "mat-khau-moi-456", now).user
        assert user is not None and not user.is_admin
    finally:
        db.close()


@pytest.mark.parametrize(
    ("args", "password"),
    [
        (["staff", "add", "lan", "--role", "admin"], "ngan\n"),
        (["staff", "add", "tên có dấu", "--role", "staff"], "mat-khau-du-dai\n"),
        (["staff", "add", "lan", "--role", "boss"], "mat-khau-du-dai\n"),
    ],
)
def test_bad_input_is_refused(db_url: str, args: list[str], password: str) -> None:
    result = runner.invoke(cli, args, input=password)
    assert result.exit_code == 2, result.output
