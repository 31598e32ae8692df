"""Two wards' OAs on one app (issue 15's end-to-end test): each OA's residents get their own
ward's answers sent with their own OA's token; an OA no ward claims gets 200 and nothing is
sent; an announcement reaches only its ward's followers; one OA's refresh leaves the other
OA's token alone. Runs on PostgreSQL when WARDBOT_TEST_DATABASE_URL is set, else SQLite."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.storage.announcements import announcement_status
from app.storage.events import list_events
from app.storage.tables import EventStatus
from app.storage.tokens import load_token
from tests.conftest import ROOT, RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import follow_event, text_event

pytestmark = pytest.mark.anyio

OA_A = "1110000000000000001"
OA_B = "2220000000000000002"
STRANGER_OA = "9990000000000000009"


@dataclass
class Province:
    app: RunningApp
    fake: FakeZalo
    env: dict[str, str]


def _wards_folder(tmp_path: Path) -> Path:
    """The sample ward files, on OA_A and OA_B."""
    folder = tmp_path / "wards"
    shutil.copytree(ROOT / "wards", folder)
    for name, oa in (("phuong-mau-a.yaml", OA_A), ("xa-mau-b.yaml", OA_B)):
        path = folder / name
        text = path.read_text(encoding="utf-8")
        text = text.replace('"1000000000000000001"', f'"{oa}"')
        text = text.replace('"1000000000000000002"', f'"{oa}"')
        path.write_text(text, encoding="utf-8")
    return folder


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """An operator's command, as in another process (its own event loop: a thread)."""
    result = CliRunner().invoke(cli, list(args), input=stdin, env=env)
    return result.exit_code, result.stdout, result.stderr


async def _command(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> tuple[int, str, str]:
    return await asyncio.to_thread(_run, env, *args, stdin=stdin)


@pytest.fixture
async def province(
    tmp_path: Path, fake_zalo: FakeZalo, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Province]:
    pair_a, pair_b = fake_zalo.add_oa(OA_A), fake_zalo.add_oa(OA_B)
    settings = make_settings(tmp_path, fake_zalo, wards_path=_wards_folder(tmp_path))
    monkeypatch.chdir(tmp_path)  # the commands below read no stray .env
    env = {
        "DATABASE_URL": settings.database_url,
        "WARDBOT_PROCEDURES": str(settings.procedures_path),
        "WARDBOT_INTENTS": str(settings.intents_path),
        "WARDBOT_WARDS": str(settings.wards_path),
        "ZALO_APP_ID": settings.zalo_app_id,
        "ZALO_APP_SECRET": fake_zalo.app_secret,
        "ZALO_OA_ID": "",
        "ZALO_ACCESS_TOKEN": "",
        "ZALO_REFRESH_TOKEN": "",
    }
    # Each OA's pair, as an operator stores it: on stdin, never as arguments.
    for oa, pair in ((OA_A, pair_a), (OA_B, pair_b)):
        stdin = f"{pair.access_token}\n{pair.refresh_token}\n"
        code, out, err = await _command(env, "zalo", "tokens", "set", "--oa", oa, stdin=stdin)
        assert code == 0, err
        assert pair.access_token not in out + err
    async for running in start_app(settings):
        yield Province(running, fake_zalo, env)


async def _ask(app: RunningApp, oa: str, user_id: str, text: str) -> None:
    payload = {**text_event(user_id, text), "recipient": {"id": oa}}
    assert (await app.webhook.post(payload)).status_code == 200
    await app.settle()


async def _follow(app: RunningApp, oa: str, user_id: str) -> None:
    assert (await app.webhook.post({**follow_event(user_id), "oa_id": oa})).status_code == 200
    await app.settle()


def _sent(fake: FakeZalo, user_id: str) -> list[tuple[str | None, str]]:
    return [(m.oa_id, m.text) for m in fake.sent_messages if m.user_id == user_id]


async def test_each_oa_answers_as_its_own_ward_with_its_own_token(province: Province) -> None:
    app, fake = province.app, province.fake
    code, out, _ = await _command(province.env, "wards", "list")
    assert code == 0
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert rows[1:] == [
        ["phuong-mau-a", OA_A, "Phường Mẫu A", "ok"],
        ["xa-mau-b", OA_B, "Xã Mẫu B", "ok"],
    ]

    for oa, user in ((OA_A, "resident-a"), (OA_B, "resident-b")):
        await _ask(app, oa, user, "giờ làm việc")
        await _ask(app, oa, user, "số điện thoại")
    sent_a, sent_b = _sent(fake, "resident-a"), _sent(fake, "resident-b")
    assert {oa for oa, _ in sent_a} == {OA_A}  # sent with OA A's own token
    assert {oa for oa, _ in sent_b} == {OA_B}
    text_a, text_b = "\n".join(t for _, t in sent_a), "\n".join(t for _, t in sent_b)
    assert "Phường Mẫu A" in text_a and "Xã Mẫu B" not in text_a
    assert "Xã Mẫu B" in text_b and "Phường Mẫu A" not in text_b
    assert "13:30–17:00" in text_a and "Thứ Bảy: 07:30–11:30" in text_a  # A's hours
    assert "07:00–11:00, 13:30–16:30" in text_b  # B's hours
    assert "0200 111 0000" in text_a and "0200 222" not in text_a  # A's phones
    assert "0200 222 0000" in text_b and "0200 111" not in text_b


async def test_an_oa_no_ward_claims_gets_200_and_nothing_is_sent(province: Province) -> None:
    app, fake = province.app, province.fake
    await _ask(app, STRANGER_OA, "stranger", "giờ làm việc")
    await _follow(app, STRANGER_OA, "stranger")
    assert fake.sent_messages == []
    events = list_events(app.services.db, STRANGER_OA)
    assert len(events) == 2 and {e.status for e in events} == {EventStatus.ignored}


async def test_an_announcement_reaches_only_the_chosen_wards_followers(
    province: Province, tmp_path: Path
) -> None:
    app, fake, env = province.app, province.fake, province.env
    for oa, user in ((OA_A, "a1"), (OA_A, "a2"), (OA_B, "b1")):
        await _follow(app, oa, user)
    notice = tmp_path / "notice.txt"
    notice.write_text("Thông báo: lịch thu gom rác thay đổi từ thứ Hai.", encoding="utf-8")
    welcomes = len(fake.sent_messages)

    # Two wards: the ward must be named.
    code, _, err = await _command(env, "announce", "create", "--all", "--text-file", str(notice))
    assert code == 2
    assert "--ward" in err and "phuong-mau-a" in err and "xa-mau-b" in err

    code, out, err = await _command(
        env, "announce", "create", "--ward", "phuong-mau-a", "--all", "--urgent",
        "--text-file", str(notice),
    )  # fmt: skip
    assert code == 0, err
    announcement_id = int(out.strip())
    assert app.services.announcer is not None
    app.services.announcer.wake()
    for _ in range(400):  # the worker sends within its poll interval; bounded, not timed
        status = announcement_status(app.services.db, announcement_id)
        if status is not None and status.done:
            break
        await asyncio.sleep(0.025)
    assert status is not None and status.done and status.total == 2
    announced = [m for m in fake.sent_messages[welcomes:] if "thu gom rác" in m.text]
    assert sorted((m.user_id, m.oa_id) for m in announced) == [("a1", OA_A), ("a2", OA_A)]


async def test_one_oas_refresh_leaves_the_other_oas_token_alone(province: Province) -> None:
    app, fake = province.app, province.fake
    db = app.services.db
    before_b = load_token(db, OA_B)
    assert before_b is not None
    fake.revoke_access_token(OA_A)  # A's token expired: the next send refreshes A's pair

    await _ask(app, OA_A, "resident-a", "xin chào")
    await _ask(app, OA_B, "resident-b", "xin chào")

    assert fake.refreshes_by_oa == {OA_A: 1, OA_B: 0}
    token_a, token_b = load_token(db, OA_A), load_token(db, OA_B)
    assert token_a is not None and token_a.access_token == f"access-{OA_A}-1"
    assert token_b is not None and token_b.access_token == before_b.access_token
    assert token_b.refresh_token == before_b.refresh_token
    assert [oa for oa, _ in _sent(fake, "resident-a")] == [OA_A]
    assert [oa for oa, _ in _sent(fake, "resident-b")] == [OA_B]
    b_requests = [r for r in fake.requests if r.oa_id == OA_B]
    assert {r.headers["access_token"] for r in b_requests} == {before_b.access_token}


async def test_readyz_and_metrics_report_per_ward(province: Province) -> None:
    app, fake = province.app, province.fake
    await _ask(app, OA_B, "resident-b", "xin chào")
    fake.revoke_access_token(OA_A, refresh_too=True)  # A's admin must consent again
    await _ask(app, OA_A, "resident-a", "xin chào")
    await _ask(app, OA_B, "resident-b", "giờ làm việc")
    await _ask(app, STRANGER_OA, "stranger", "xin chào")

    # Only A is degraded: B still answers.
    assert [oa for oa, _ in _sent(fake, "resident-b")] == [OA_B, OA_B]
    assert _sent(fake, "resident-a") == []
    ready = (await app.client.get("/readyz")).json()
    assert ready["status"] == "degraded"
    oas = ready["zalo_oas"]
    assert oas["wards"] == 2 and oas["token_ok"] == 1
    assert [(f["ward"], f["oa_id"], f["error_code"]) for f in oas["token_failing"]] == [
        ("phuong-mau-a", OA_A, -118)
    ]
    assert oas["held_replies"] == 1

    metrics = (await app.client.get("/metrics")).text
    assert 'wardbot_ward_token_ok{ward="phuong-mau-a"} 0.0' in metrics
    assert 'wardbot_ward_token_ok{ward="xa-mau-b"} 1.0' in metrics
    assert 'wardbot_ward_messages_in_total{ward="xa-mau-b"} 2.0' in metrics
    assert 'wardbot_ward_messages_in_total{ward="other"} 1.0' in metrics  # the stranger's OA
    assert 'wardbot_ward_messages_out_total{outcome="sent",ward="xa-mau-b"} 2.0' in metrics
