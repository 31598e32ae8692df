"""`wardbot staff add|list`, run as an operator runs them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.staff import authenticate
from app.storage.database import Database
from app.storage.staff import staff_by_username
from tests.conftest import ROOT

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("WARDBOT_PROCEDURES", str(ROOT / "procedures.yaml"))
    monkeypatch.setenv("WARDBOT_INTENTS", str(ROOT / "intents"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo
    return url


@pytest.fixture
def two_wards(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WARDBOT_WARDS", str(ROOT / "wards"))
    return db_url


def stored_ward(db_url: str, username: str) -> tuple[str, str | None]:
    db = Database(db_url)
    try:
        account = staff_by_username(db, username)
        assert account is not None
        return account.role, account.ward
    finally:
        db.close()


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


def test_a_ward_account_names_its_ward_and_a_province_admin_none(two_wards: str) -> None:
    made = runner.invoke(
        cli,
        ["staff", "add", "lan", "--role", "staff", "--ward", "xa-mau-b"],
        input="mat-khau-du-dai\n",
    )
    assert made.exit_code == 0, made.output
    assert "lan (staff, ward xa-mau-b)" in made.output
    assert stored_ward(two_wards, "lan") == ("staff", "xa-mau-b")
    province = runner.invoke(
        cli, ["staff", "add", "tinh", "--role", "province"], input="mat-khau-du-dai\n"
    )
    assert province.exit_code == 0, province.output
    assert stored_ward(two_wards, "tinh") == ("province", None)
    listed = runner.invoke(cli, ["staff", "list"]).output
    assert "lan\tstaff\txa-mau-b" in listed and "tinh\tprovince\t-" in listed


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--role", "staff"], "hãy chọn một bằng --ward SLUG (phuong-mau-a, xa-mau-b)"),
        (["--role", "admin", "--ward", "nowhere"], 'Không có phường/xã "nowhere"'),
        (["--role", "province", "--ward", "xa-mau-b"], "belongs to no ward"),
    ],
)
def test_a_ward_that_does_not_fit_is_refused(two_wards: str, args: list[str], says: str) -> None:
    result = runner.invoke(cli, ["staff", "add", "lan", *args], input="mat-khau-du-dai\n")
    assert result.exit_code == 2
    assert says in result.output
    db = Database(two_wards)
    try:
        assert staff_by_username(db, "lan") is None  # nothing saved
    finally:
        db.close()


def test_one_ward_deployments_need_no_ward(db_url: str) -> None:
    result = runner.invoke(
        cli, ["staff", "add", "lan", "--role", "staff"], input="mat-khau-du-dai\n"
    )
    assert result.exit_code == 0, result.output
    assert stored_ward(db_url, "lan") == ("staff", None)
