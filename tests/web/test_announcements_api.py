"""The staff API: bearer token, creating announcements, their status, groups and CSV."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.announcements import delivery as jobs
from app.storage.groups import members_per_group, set_membership
from app.web import simulator
from app.zalo.sender import RecordingSender
from tests.conftest import API_TOKEN, RunningApp, make_settings, start_app

pytestmark = pytest.mark.anyio

TOKEN = API_TOKEN
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OA = simulator.SIMULATOR_OA_ID  # no Zalo credentials: the simulator's residents


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningApp]:
    async for running in start_app(make_settings(tmp_path, run_worker=False)):
        _members(running, {"a": "tdp-5", "b": "tdp-5", "c": "tdp-7"})
        yield running


def _members(app: RunningApp, members: dict[str, str]) -> None:
    for user_id, group_id in members.items():
        set_membership(app.services.db, OA, user_id, group_id, datetime.now(UTC))


async def _create(app: RunningApp, **body: Any) -> httpx.Response:
    return await app.client.post("/api/announcements", json=body, headers=AUTH)


def test_the_worker_and_the_simulator_agree_on_the_oa_id() -> None:
    assert jobs.SIMULATOR_OA_ID == simulator.SIMULATOR_OA_ID


ROUTES = [
    ("POST", "/api/announcements"),
    ("GET", "/api/announcements/1"),
    ("GET", "/api/groups"),
    ("GET", "/api/groups/members.csv"),
    ("POST", "/api/groups/members.csv"),
]


async def test_every_route_needs_the_bearer_token(app: RunningApp) -> None:
    for method, path in ROUTES:
        missing = await app.client.request(method, path)
        wrong = await app.client.request(method, path, headers={"Authorization": "Bearer nope"})
        assert (missing.status_code, wrong.status_code) == (401, 401), path
        assert missing.headers["www-authenticate"] == "Bearer"


async def test_no_configured_token_never_opens_the_api(tmp_path: Path) -> None:
    """Without WARDBOT_API_TOKEN only a console session gets in (app.web.console.auth)."""
    async for app in start_app(make_settings(tmp_path, run_worker=False, api_token="")):
        for headers in ({}, AUTH, {"Authorization": "Bearer "}):
            response = await app.client.get("/api/groups", headers=headers)
            assert response.status_code == 401, headers


async def test_create_then_status(app: RunningApp) -> None:
    response = await _create(
        app,
        text="Lịch tiêm chủng tháng 12 cho trẻ em.",
        groups=["tổ 5", "TDP 7"],
        link_url="https://phuong.gov.vn/tiem-chung",
        link_title="Xem lịch",
        scheduled_at="2026-12-01T07:30:00",
    )
    assert response.status_code == 201
    created = response.json()
    assert {k: created[k] for k in ("total", "pending", "sent", "deferred", "failed")} == {
        "total": 3,
        "pending": 3,
        "sent": 0,
        "deferred": 0,
        "failed": 0,
    }
    assert created["target"] == {"all": False, "groups": ["tdp-5", "tdp-7"]}
    assert created["scheduled_at"] == "2026-12-01T00:30:00+00:00"  # 07:30 in Hà Nội
    status = await app.client.get(f"/api/announcements/{created['id']}", headers=AUTH)
    assert status.status_code == 200 and status.json() == created
    missing = await app.client.get("/api/announcements/999", headers=AUTH)
    assert missing.status_code == 404


async def test_all_followers(app: RunningApp) -> None:
    response = await _create(app, text="Thông báo chung.", all=True, urgent=True)
    assert response.status_code == 201
    assert response.json()["total"] == 3 and response.json()["urgent"] is True


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"text": "x", "groups": ["tổ 99"]}, 'Không có tổ dân phố "tổ 99"'),
    ({"text": "x"}, "Chưa chọn người nhận"),
    ({"text": "x", "groups": ["tổ 5"], "all": True}, "không chọn cả hai"),
    ({"text": "x" * 2001, "all": True}, "tối đa 2000 ký tự"),
    ({"text": "   ", "all": True}, "đang trống"),
    ({"text": "x", "all": True, "link_url": "phuong.gov.vn"}, "https://"),
]


async def test_refuses_what_cannot_be_sent(app: RunningApp) -> None:
    for body, message in REFUSED:
        response = await _create(app, **body)
        assert response.status_code == 422, body
        assert message in response.json()["detail"]
    assert (await app.client.get("/api/announcements/1", headers=AUTH)).status_code == 404


async def test_groups_lists_members(app: RunningApp) -> None:
    response = await app.client.get("/api/groups", headers=AUTH)
    data = response.json()
    by_id = {g["id"]: g for g in data["groups"]}
    assert len(by_id) == 12 and data["members"] == 3
    assert by_id["tdp-5"] == {
        "id": "tdp-5",
        "name": "Tổ dân phố số 5",
        "aliases": ["tổ 5", "TDP 5", "tổ dân phố 5"],
        "zalo_tag": "TDP 5",
        "members": 2,
    }


async def test_csv_export_and_import(app: RunningApp) -> None:
    exported = await app.client.get("/api/groups/members.csv", headers=AUTH)
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text == (
        "user_id,group\na,Tổ dân phố số 5\nb,Tổ dân phố số 5\nc,Tổ dân phố số 7\n"
    )
    body = "\ufeffuser_id;group\nc;TDP 5\nd;tổ 12\n".encode()
    imported = await app.client.post("/api/groups/members.csv", content=body, headers=AUTH)
    assert imported.json() == {"status": "imported", "added": 1, "changed": 1, "unchanged": 0}
    assert members_per_group(app.services.db, OA) == {"tdp-5": 3, "tdp-12": 1}

    bad = "user_id,group\ne,tổ 5\n,tổ 5\nf,tổ 99\ne,tổ 6\n".encode()
    refused = await app.client.post("/api/groups/members.csv", content=bad, headers=AUTH)
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        "Dòng 3: thiếu user_id.",
        'Dòng 4: không có tổ dân phố "tổ 99". Các tổ: '
        + ", ".join(f"Tổ dân phố số {i}" for i in range(1, 13))
        + ".",
        "Dòng 5: user_id e đã có ở dòng 2.",
    ]
    assert members_per_group(app.services.db, OA) == {"tdp-5": 3, "tdp-12": 1}  # nothing half-done


async def test_the_worker_runs_inside_the_service(tmp_path: Path) -> None:
    async for app in start_app(make_settings(tmp_path, send_rate=500.0)):
        _members(app, {f"u{i}": "tdp-3" for i in range(20)})
        created = (
            await _create(app, text="Phun thuốc diệt muỗi sáng mai.", groups=["tổ 3"], urgent=True)
        ).json()
        for _ in range(500):
            status = await app.client.get(f"/api/announcements/{created['id']}", headers=AUTH)
            if status.json()["done"]:
                break
            await asyncio.sleep(0.01)
        assert status.json()["sent"] == 20
        assert app.services.announcer is not None
        sender = app.services.announcer.outbox.sender
        assert isinstance(sender, RecordingSender)  # simulator mode: recorded, not sent
        assert len(sender.sent) == 20
