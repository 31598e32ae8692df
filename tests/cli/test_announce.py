"""`wardbot announce` and `wardbot groups` as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.announcements.delivery import SIMULATOR_OA_ID
from app.cli import cli
from app.storage.announcements import claim_delivery, due_delivery_ids, finish_delivery
from app.storage.database import Database
from app.storage.groups import set_membership
from app.storage.tables import DeliveryStatus

ROOT = Path(__file__).resolve().parents[2]
TEXT = "Thông báo: lịch thu gom rác thay đổi từ thứ Hai tuần sau."


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings come from the environment, as for an operator; no Zalo: simulator mode."""
    database = tmp_path / "wardbot.db"
    for name in ("ZALO_APP_ID", "ZALO_ACCESS_TOKEN", "ZALO_OA_ID", "WARDBOT_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("WARDBOT_PROCEDURES", str(ROOT / "procedures.yaml"))
    monkeypatch.setenv("WARDBOT_INTENTS", str(ROOT / "intents"))
    monkeypatch.chdir(tmp_path)  # no stray .env
    db = Database(f"sqlite:///{database}")
    db.create_schema()
    now = datetime.now(UTC)
    for user_id, group_id in {"a": "tdp-5", "b": "tdp-5", "c": "tdp-7", "d": "tdp-1"}.items():
        set_membership(db, SIMULATOR_OA_ID, user_id, group_id, now)
    db.close()
    (tmp_path / "notice.txt").write_text(TEXT, encoding="utf-8")
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_create_prints_only_the_id(env: Path) -> None:
    code, out, _ = _run(
        "announce",
        "create",
        "--group",
        "Tổ dân phố số 5",
        "-g",
        "TDP 7",
        "--group",
        "tổ 5",
        "--text-file",
        str(env / "notice.txt"),
        "--urgent",
    )
    assert (code, out) == (0, "1\n")
    code, out, _ = _run("announce", "create", "--all", "--text-file", str(env / "notice.txt"))
    assert (code, out) == (0, "2\n")


def test_status_json_has_the_counts(env: Path) -> None:
    _run(
        "announce",
        "create",
        "-g",
        "tổ 5",
        "-g",
        "tổ 7",
        "--text-file",
        str(env / "notice.txt"),
        "--at",
        "2026-12-01T07:30",
    )
    code, out, _ = _run("announce", "status", "1", "--json")
    assert code == 0
    data = json.loads(out)
    assert {k: data[k] for k in ("id", "total", "pending", "sent", "deferred", "failed")} == {
        "id": 1,
        "total": 3,
        "pending": 3,
        "sent": 0,
        "deferred": 0,
        "failed": 0,
    }
    assert data["scheduled_at"] == "2026-12-01T00:30:00+00:00"
    assert data["done"] is False and data["reasons"] == {}


def test_status_report_in_vietnamese_with_reasons(env: Path) -> None:
    _run("announce", "create", "-g", "tổ 5", "-g", "tổ 7", "--text-file", str(env / "notice.txt"))
    db = Database(f"sqlite:///{env / 'wardbot.db'}")
    now = datetime.now(UTC)
    for delivery_id, (status, reason) in zip(
        due_delivery_ids(db, now),
        [
            (DeliveryStatus.sent, None),
            (DeliveryStatus.deferred, "outside_window"),
            (DeliveryStatus.failed, "zalo:-213"),
        ],
        strict=True,
    ):
        work = claim_delivery(db, delivery_id, now, f"t{delivery_id}")
        assert work is not None
        finish_delivery(db, work, now, status, reason=reason)
    db.close()
    code, out, _ = _run("announce", "status", "1", "--no-follow")
    assert code == 0
    assert "(Tổ dân phố số 5, Tổ dân phố số 7): đã xong, 3 người nhận" in out
    assert "Đã gửi" in out and "Không gửi được" in out
    assert "chưa tương tác với OA trong 7 ngày: 1" in out
    assert "chưa quan tâm OA: 1" in out
    json_out = json.loads(_run("announce", "status", "1", "--json")[1])
    assert json_out["reasons"] == {"deferred": {"outside_window": 1}, "failed": {"zalo:-213": 1}}


def test_mistakes_are_explained_and_nothing_is_created(env: Path) -> None:
    notice = str(env / "notice.txt")
    code, out, err = _run("announce", "create", "-g", "tổ 42", "--text-file", notice)
    assert (code, out) == (2, "") and 'Không có tổ dân phố "tổ 42"' in err
    code, _, err = _run("announce", "create", "--text-file", notice)
    assert code == 2 and "Chưa chọn người nhận" in err
    code, _, err = _run("announce", "create", "--all", "--text-file", notice, "--at", "mai")
    assert code == 2 and "không hợp lệ" in err
    code, _, err = _run("announce", "create", "--all", "--text-file", str(env / "missing.txt"))
    assert code == 2 and "Không đọc được" in err
    code, _, err = _run("announce", "status", "1", "--json")
    assert code == 1 and "Không có thông báo số 1" in err


def test_groups_export_import_round_trip(env: Path) -> None:
    code, out, _ = _run("groups", "export", "-")
    assert code == 0
    assert out == (
        "user_id,group\nd,Tổ dân phố số 1\na,Tổ dân phố số 5\nb,Tổ dân phố số 5\n"
        "c,Tổ dân phố số 7\n"
    )
    (env / "in.csv").write_text("user_id,group\na,TDP 7\ne,tổ 2\n", encoding="utf-8")
    code, out, _ = _run("groups", "import", str(env / "in.csv"))
    assert code == 0 and "1 thêm mới, 1 chuyển tổ, 0 không đổi" in out
    code, _, _ = _run("groups", "export", str(env / "out.csv"))
    assert code == 0
    assert "a,Tổ dân phố số 7" in (env / "out.csv").read_text(encoding="utf-8")

    (env / "bad.csv").write_text("user_id,group\nf,tổ 99\n", encoding="utf-8")
    code, _, err = _run("groups", "import", str(env / "bad.csv"))
    assert code == 1 and "Dòng 2" in err and "tổ 99" in err


def test_groups_list(env: Path) -> None:
    code, out, _ = _run("groups", "list")
    assert code == 0 and "Tổ dân phố số 5" in out and "2" in out


def test_with_several_wards_create_targets_the_named_wards_groups(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARDBOT_WARDS", str(ROOT / "wards"))
    oa_b = "1000000000000000002"  # wards/xa-mau-b.yaml
    db = Database(f"sqlite:///{env / 'wardbot.db'}")
    set_membership(db, oa_b, "b-1", "thon-1", datetime.now(UTC))
    set_membership(db, "1000000000000000001", "a-1", "tdp-1", datetime.now(UTC))
    db.close()
    notice = str(env / "notice.txt")
    code, out, err = _run("announce", "create", "--all", "--text-file", notice)
    said = " ".join(err.split())  # the console wraps long lines
    assert (code, out) == (2, "") and "--ward" in said and "phuong-mau-a, xa-mau-b" in said
    code, _, err = _run("announce", "create", "--all", "--ward", "nowhere", "--text-file", notice)
    assert code == 2 and 'Không có phường/xã "nowhere"' in " ".join(err.split())
    # Ward B's groups, not procedures.yaml's: "tổ 5" is not one of them.
    code, _, err = _run(
        "announce", "create", "-g", "tổ 5", "--ward", "xa-mau-b", "--text-file", notice
    )
    assert code == 2 and 'Không có tổ dân phố "tổ 5"' in err
    code, out, _ = _run(
        "announce", "create", "-g", "Thôn Đông", "--ward", "xa-mau-b", "--text-file", notice
    )
    assert code == 0
    code, out, _ = _run("announce", "status", out.strip(), "--json")
    assert json.loads(out)["total"] == 1  # b-1 of ward B, nobody of ward A
