"""Console pages for announcements, residential groups and the simulator, over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.announcements.delivery import DeliveryPolicy, announcing_oa_id
from app.storage.followers import touch_interaction
from app.storage.groups import members_per_group, set_membership
from tests.conftest import RunningApp
from tests.support.fake_zalo import FakeZalo
from tests.web.console_support import log_in, make_staff

pytestmark = pytest.mark.anyio


def add_members(running: RunningApp, members: dict[str, str]) -> None:
    oa = announcing_oa_id(running.services.settings)
    for user_id, group in members.items():
        touch_interaction(running.services.db, oa, user_id, datetime.now(UTC))
        set_membership(running.services.db, oa, user_id, group, datetime.now(UTC))


async def test_compose_preview_send_and_watch_progress(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    # Non-urgent announcements wait out the night's quiet hours; the test must not depend on
    # the time of day it runs at.
    assert running.services.announcer is not None
    running.services.announcer.policy = DeliveryPolicy(quiet_hours=None)
    add_members(running, {"u1": "tdp-5", "u2": "tdp-5", "u3": "tdp-7"})
    make_staff(running.services.db)
    csrf = await log_in(running.client, "canbo")
    page = await running.client.get("/console/announcements")
    assert "Tổ dân phố số 5" in page.text and "(2 người)" in page.text
    form = {
        "csrf_token": csrf,
        "text": "Lịch tiêm chủng tháng 12.",
        "groups": ["tdp-5"],
        "link_url": "https://phuong.gov.vn/tiem-chung",
        "link_title": "Xem lịch",
    }
    preview = await running.client.post("/console/announcements", data=form)
    assert preview.status_code == 200
    assert 'id="preview">Lịch tiêm chủng tháng 12.<' in preview.text
    assert "[Xem lịch]" in preview.text
    empty = await running.client.post(
        "/console/announcements", data={**form, "groups": [], "action": "send"}
    )
    assert empty.status_code == 422 and "Chưa chọn người nhận" in empty.text

    sent = await running.client.post("/console/announcements", data={**form, "action": "send"})
    assert sent.status_code == 303
    location = sent.headers["location"]
    announcement_id = int(location.rsplit("/", 1)[1])
    for _ in range(200):
        status = (await running.client.get(f"/api/announcements/{announcement_id}")).json()
        if status["done"]:
            break
        await asyncio.sleep(0.05)
    assert (status["total"], status["sent"]) == (2, 2)
    assert {m.user_id for m in fake_zalo.sent_messages} >= {"u1", "u2"}
    progress = await running.client.get(location)
    assert 'id="sent">2<' in progress.text and "Đã gửi xong." in progress.text
    history = await running.client.get("/console/announcements")
    assert "Lịch tiêm chủng" in history.text and "2 / 2" in history.text


async def test_groups_page_import_and_export(running: RunningApp) -> None:
    make_staff(running.services.db)
    csrf = await log_in(running.client, "canbo")
    imported = await running.client.post(
        "/console/groups/import",
        data={"csrf_token": csrf},
        files={"file": ("members.csv", "user_id,group\nu9,tdp-3\nu8,tổ 4\n".encode())},
    )
    assert imported.status_code == 200, imported.text
    assert "thêm 2" in imported.text
    oa = announcing_oa_id(running.services.settings)
    assert members_per_group(running.services.db, oa) == {"tdp-3": 1, "tdp-4": 1}
    page = await running.client.get("/console/groups")
    assert "u9" in page.text and "Tổ dân phố số 3" in page.text
    bad = await running.client.post(
        "/console/groups/import",
        data={"csrf_token": csrf},
        files={"file": ("members.csv", b"user_id,group\nu7,to-khong-co\n")},
    )
    assert bad.status_code == 422
    export = await running.client.get("/api/groups/members.csv")
    assert export.status_code == 200 and "u9" in export.text


async def test_console_simulator_answers_with_the_live_catalogue(running: RunningApp) -> None:
    make_staff(running.services.db)
    csrf = await log_in(running.client, "canbo")
    assert (await running.client.get("/console/simulator")).status_code == 200
    refused = await running.client.post("/console/simulator", data={"text": "khai sinh"})
    assert refused.status_code == 403
    answer = await running.client.post(
        "/console/simulator", data={"text": "đăng ký khai sinh"}, headers={"X-CSRF-Token": csrf}
    )
    assert answer.status_code == 200
    assert "1.001193" in answer.json()["replies"][0]["text"]
