"""`wardbot bookings list --date YYYY-MM-DD [--ward SLUG] [--json]`, run as an operator runs it."""

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
from tests.support.wards import OA_A, OA_B, SLUG_A, SLUG_B, copy_wards

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


def visit(
    db: Database, user: str, hour: int, minute: int, counter: str = "ho-tich", oa_id: str = "oa-1"
) -> None:
    start = datetime(2027, 3, 2, hour, minute, tzinfo=WARD_TIME)
    request = SeatRequest(oa_id, counter, start, start + timedelta(minutes=30), "2027-03-02", 3)
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


@pytest.fixture
def two_wards(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The sample wards taking bookings; ward B names its counters its own way, so a row
    shows which ward's catalogue it was read with."""
    folder = copy_wards(tmp_path, booking=True)
    ward_b = folder / f"{SLUG_B}.yaml"
    text = ward_b.read_text(encoding="utf-8").replace("Quầy 1 – Hộ tịch", "Bàn 1 – Hộ tịch xã B")
    ward_b.write_text(text, encoding="utf-8")
    monkeypatch.setenv("WARDBOT_WARDS", str(folder))
    visit(db, "an", 9, 0, oa_id=OA_A)
    visit(db, "binh", 7, 30, counter="chung", oa_id=OA_A)
    visit(db, "chi", 8, 0, oa_id=OA_B)
    return db


def listed(*args: str) -> list[str]:
    result = runner.invoke(cli, ["bookings", "list", "--date", "2027-03-02", *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_one_wards_bookings_with_its_counters(two_wards: Database) -> None:
    lines = listed("--ward", SLUG_A)
    assert lines[0] == "Lịch hẹn ngày 02/03/2027 – Phường Mẫu A: 2"
    assert lines[1] == "LH-00002\t07:30–08:00\tQuầy 2 – Các thủ tục khác\tĐăng ký khai sinh\tĐã đặt"
    assert lines[2] == "LH-00001\t09:00–09:30\tQuầy 1 – Hộ tịch\tĐăng ký khai sinh\tĐã đặt"
    assert len(lines) == 3

    lines = listed("--ward", SLUG_B)
    assert lines == [
        "Lịch hẹn ngày 02/03/2027 – Xã Mẫu B: 1",
        "LH-00003\t08:00–08:30\tBàn 1 – Hộ tịch xã B\tĐăng ký khai sinh\tĐã đặt",
    ]


def test_every_wards_bookings_name_their_ward(two_wards: Database) -> None:
    lines = listed()
    assert lines == [
        "Lịch hẹn ngày 02/03/2027: 3",
        f"LH-00002\t07:30–08:00\tQuầy 2 – Các thủ tục khác\tĐăng ký khai sinh\tĐã đặt\t{SLUG_A}",
        f"LH-00003\t08:00–08:30\tBàn 1 – Hộ tịch xã B\tĐăng ký khai sinh\tĐã đặt\t{SLUG_B}",
        f"LH-00001\t09:00–09:30\tQuầy 1 – Hộ tịch\tĐăng ký khai sinh\tĐã đặt\t{SLUG_A}",
    ]


def test_wards_as_json(two_wards: Database) -> None:
    def bookings(*args: str) -> list[tuple[str, str, str | None]]:
        data = json.loads("\n".join(listed("--json", *args)))
        assert data["date"] == "2027-03-02"
        return [(b["code"], b["counter"], b["ward"]) for b in data["bookings"]]

    assert bookings() == [
        ("LH-00002", "Quầy 2 – Các thủ tục khác", SLUG_A),
        ("LH-00003", "Bàn 1 – Hộ tịch xã B", SLUG_B),
        ("LH-00001", "Quầy 1 – Hộ tịch", SLUG_A),
    ]
    assert bookings("--ward", SLUG_B) == [("LH-00003", "Bàn 1 – Hộ tịch xã B", SLUG_B)]
    assert bookings("--ward", SLUG_A) == [
        ("LH-00002", "Quầy 2 – Các thủ tục khác", SLUG_A),
        ("LH-00001", "Quầy 1 – Hộ tịch", SLUG_A),
    ]


def test_an_unknown_ward_is_refused(two_wards: Database) -> None:
    for args in (["--ward", "nowhere"], ["--ward", "nowhere", "--json"]):
        result = runner.invoke(cli, ["bookings", "list", "--date", "2027-03-02", *args])
        assert result.exit_code == 2
        assert 'Không có phường/xã "nowhere"' in result.stderr
        assert f"{SLUG_A}, {SLUG_B}" in result.stderr
        assert "LH-0000" not in result.output


def test_without_ward_files_the_rows_name_no_ward(db: Database) -> None:
    visit(db, "an", 9, 0)
    data = json.loads("\n".join(listed("--json")))
    assert [(b["code"], b["oa_id"], b["ward"]) for b in data["bookings"]] == [
        ("LH-00001", "oa-1", None)
    ]
    assert listed("--ward", "default")[1].endswith("Đã đặt")  # the one ward, by its slug
