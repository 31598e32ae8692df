"""Simulator mode: no Zalo credentials, the bot still answers through the real inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage.events import get_event
from app.storage.outbox import messages_to
from app.storage.tables import DeliveryOutcome, EventStatus
from app.web.simulator import SIMULATOR_OA_ID
from tests.conftest import ROOT, RunningApp, make_settings, start_app
from tests.support.wards import OA_A, copy_wards

pytestmark = pytest.mark.anyio


@pytest.fixture
async def simulator(tmp_path: Path) -> AsyncIterator[RunningApp]:
    settings = make_settings(tmp_path, zalo_app_id="", zalo_access_token="")
    assert settings.simulator
    async for running_app in start_app(settings):
        yield running_app


async def test_page_is_served(simulator: RunningApp) -> None:
    response = await simulator.client.get("/")
    assert response.status_code == 200
    assert "Phường Mẫu" in response.text
    assert "/simulator/messages" in response.text


async def test_message_goes_through_the_inbox(simulator: RunningApp) -> None:
    response = await simulator.client.post(
        "/simulator/messages", json={"user_id": "sim-a", "text": "xin giay xac nhan doc than"}
    )
    assert response.status_code == 200
    [reply] = response.json()["replies"]
    assert "1.004873" in reply["text"]
    assert reply["outcome"] == "simulated"
    assert any(b["kind"] == "url" for b in reply["buttons"])
    stored = messages_to(simulator.services.db, "sim-a")
    assert [m.outcome for m in stored] == [DeliveryOutcome.simulated]
    assert stored[0].inbound_event_id is not None
    event = get_event(simulator.services.db, stored[0].inbound_event_id)
    assert event is not None and event.status == EventStatus.done


async def test_conversation_state_is_kept(simulator: RunningApp) -> None:
    await simulator.client.post("/simulator/messages", json={"user_id": "s", "text": "kết hôn"})
    response = await simulator.client.post(
        "/simulator/messages", json={"user_id": "s", "text": "mất mấy ngày"}
    )
    # The follow-up is about the procedure discussed: marriage registration's deadline.
    assert "thời hạn giải quyết thủ tục Đăng ký kết hôn" in response.json()["replies"][0]["text"]


async def test_follow_gets_the_welcome(simulator: RunningApp) -> None:
    response = await simulator.client.post("/simulator/follow", params={"user_id": "s2"})
    assert "thủ tục" in response.json()["replies"][0]["text"]


async def test_empty_message_is_a_422(simulator: RunningApp) -> None:
    response = await simulator.client.post("/simulator/messages", json={"text": ""})
    assert response.status_code == 422


async def test_simulator_is_off_when_zalo_is_configured(running: RunningApp) -> None:
    response = await running.client.post("/simulator/messages", json={"text": "khai sinh"})
    assert response.status_code == 404
    page = await running.client.get("/")
    assert "/simulator/messages" not in page.text


async def test_the_ward_name_is_text_not_markup(tmp_path: Path) -> None:
    procedures = tmp_path / "procedures.yaml"
    original = (ROOT / "procedures.yaml").read_text(encoding="utf-8")
    procedures.write_text(
        original.replace(
            "  name: Phường Mẫu\n", '  name: "Phường <script>alert(1)</script> & Co"\n', 1
        ),
        encoding="utf-8",
    )
    settings = make_settings(
        tmp_path, zalo_app_id="", zalo_access_token="", procedures_path=procedures
    )
    async for running_app in start_app(settings):
        page = (await running_app.client.get("/")).text
        assert "<script>alert(1)</script>" not in page
        assert "Phường &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


# --- with ward files (WARDBOT_WARDS): the resident writes to the chosen ward's OA -------------


@pytest.fixture
async def ward_simulator(tmp_path: Path) -> AsyncIterator[RunningApp]:
    settings = make_settings(
        tmp_path, zalo_app_id="", zalo_access_token="", wards_path=copy_wards(tmp_path)
    )
    assert settings.simulator
    async for running_app in start_app(settings):
        yield running_app


async def ask(app: RunningApp, text: str, ward: str | None = None) -> str:
    body = {"user_id": f"sim-{ward}", "text": text}
    response = await app.client.post(
        "/simulator/messages", json=body if ward is None else {**body, "ward": ward}
    )
    assert response.status_code == 200
    return "\n".join(r["text"] for r in response.json()["replies"])


async def test_with_ward_files_the_first_ward_answers_by_default(
    ward_simulator: RunningApp,
) -> None:
    page = (await ward_simulator.client.get("/")).text
    assert '<b id="ward-name">Phường Mẫu A</b>' in page
    assert '<option value="phuong-mau-a">Phường Mẫu A</option>' in page
    assert '<option value="xa-mau-b">Xã Mẫu B</option>' in page
    answer = await ask(ward_simulator, "số điện thoại hộ tịch")
    assert "0200 111 0001" in answer and "Phường Mẫu A" in answer
    stored = messages_to(ward_simulator.services.db, "sim-None")
    assert stored and stored[0].inbound_event_id is not None
    event = get_event(ward_simulator.services.db, stored[0].inbound_event_id)
    assert event is not None and event.oa_id == OA_A  # as ward A's own OA


async def test_with_ward_files_the_chosen_ward_answers(ward_simulator: RunningApp) -> None:
    hours = await ask(ward_simulator, "phường làm việc mấy giờ", ward="xa-mau-b")
    assert "Xã Mẫu B" in hours and "07:00–11:00" in hours and "Phường Mẫu A" not in hours
    phones = await ask(ward_simulator, "số điện thoại hộ tịch", ward="xa-mau-b")
    assert "0200 222 0001" in phones
    welcome = await ward_simulator.client.post(
        "/simulator/follow", params={"user_id": "f-b", "ward": "xa-mau-b"}
    )
    assert "Xã Mẫu B" in welcome.json()["replies"][0]["text"]
    unknown = await ward_simulator.client.post(
        "/simulator/messages", json={"text": "xin chào", "ward": "nowhere"}
    )
    assert unknown.status_code == 404


async def test_one_ward_has_no_ward_picker(simulator: RunningApp) -> None:
    page = (await simulator.client.get("/")).text
    assert 'id="ward"' not in page and "{{wards}}" not in page
    await ask(simulator, "số điện thoại hộ tịch")
    (stored,) = messages_to(simulator.services.db, "sim-None")
    assert stored.inbound_event_id is not None
    event = get_event(simulator.services.db, stored.inbound_event_id)
    assert event is not None and event.oa_id == SIMULATOR_OA_ID
