"""`wardbot bookings list --date YYYY-MM-DD [--json]`, run as an operator runs it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.storage.bookings import SeatRequest, book, cancel
from app.storage.database import Database
from tests.booking.conftest import WARD_TIME
from tests.conftest import ROOT

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("WARDBOT_PROCEDURES", str(ROOT / "procedures.yaml"))
    monkeypatch.setenv("WARDBOT_INTENTS", str(ROOT / "intents"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo
    database = Database(url)
    database.create_schema()
    return database


def visit(db: Database, user: str, hour: int, minute: int, counter: str = "ho-tich") -> None:
    start = datetime(2027, 3, 2, hour, minute, tzinfo=WARD_TIME)
    request = SeatRequest("oa-1", counter, start, start + timedelta(minutes=30), "2027-03-02", 3)
    now = datetime(2027, 3, 1, tzinfo=UTC)
    book(db, request, user_id=user, procedure_code="1.001193", now=now)


def test_list_a_day_as_text_and_json(db: Database) -> None:
    visit(db, "an", 9, 0)
    visit(db, "binh", 7, 30, counter="chung")
    cancel(db, 1, now=datetime(2027, 3, 1, tzinfo=UTC))
    text = runner.invoke(cli, ["bookings", "list", "--date", "2027-03-02"])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == "Lịch hẹn ngày 02/03/2027: 2"
    assert lines[1].startswith("LH-00002\t07:30–08:00\tQuầy 3 – Các thủ tục khác")
    assert lines[2].startswith("LH-00001\t09:00–09:30\tQuầy 1 – Hộ tịch")
    assert lines[2].endswith("Người dân đã hủy")

    as_json = runner.invoke(cli, ["bookings", "list", "--date", "2027-03-02", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["date"] == "2027-03-02"
    assert [(b["code"], b["time"], b["counter_id"], b["status"]) for b in data["bookings"]] == [
        ("LH-00002", "07:30–08:00", "chung", "booked"),
        ("LH-00001", "09:00–09:30", "ho-tich", "cancelled"),
    ]
    assert data["bookings"][0]["procedure_code"] == "1.001193"


def test_an_empty_day_and_a_bad_date(db: Database) -> None:
    empty = runner.invoke(cli, ["bookings", "list", "--date", "2027-03-03"])
    assert empty.exit_code == 0 and "Không có lịch hẹn" in empty.output
    bad = runner.invoke(cli, ["bookings", "list", "--date", "03/03/2027"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
