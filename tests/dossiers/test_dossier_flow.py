"""Following a dossier through the webhook with the fake Zalo: a code is answered with the
province's lookup link, a followed dossier's status change reaches the resident (now, or
with their next message outside Zalo's 7-day window), and the province's system is polled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.dossiers.status import DossierState, DossierStatus, InMemoryStatusProvider
from app.storage.announcements import DeliveryStatus
from app.storage.dossiers import follower_ids, follows_of, get_dossier
from tests.support.desk import CODE, LINK, RESIDENT, Desk, start_desk
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import OA_ID

pytestmark = pytest.mark.anyio


async def test_a_code_is_answered_with_the_lookup_link_and_where_it_is_printed(
    desk: Desk,
) -> None:
    (reply,) = await desk.says(f"tra cứu hồ sơ {CODE}")
    assert LINK in reply.text
    assert "Phiếu hẹn trả kết quả" in reply.text  # where the code is printed
    assert "chưa có thông tin" in reply.text
    buttons = {b["title"]: b for b in reply.buttons}
    assert buttons["Tra cứu trực tuyến"]["payload"]["url"] == LINK
    assert buttons["Theo dõi hồ sơ"]["payload"] == f"Theo dõi hồ sơ {CODE}"
    # Just the code, typed in lower case: the same dossier, never a procedure or a report.
    (bare,) = await desk.says(CODE.lower())
    assert LINK in bare.text and "Mã thủ tục" not in bare.text


async def test_asking_without_a_code_says_where_to_find_it(desk: Desk) -> None:
    text = await desk.text_of("tra cứu hồ sơ")
    assert "Phiếu hẹn trả kết quả" in text and CODE in text  # the ward's example code
    assert "khai sinh" in await desk.text_of("đăng ký khai sinh")  # the matcher still answers


async def test_follow_then_a_status_change_is_told_to_the_resident(desk: Desk) -> None:
    followed = await desk.text_of(f"Theo dõi hồ sơ {CODE}")
    assert "em sẽ báo anh/chị" in followed
    assert follower_ids(desk.app.services.db, OA_ID, CODE) == [RESIDENT]

    page = await desk.staff_sets(CODE, "needs_papers", missing="Bản sao Giấy chứng sinh")
    assert page.status_code == 200 and "1 người theo dõi sẽ được báo" in page.text
    await desk.worker.run_once()
    notice = desk.sent_to()[-1]
    assert notice.text == f"Hồ sơ {CODE} của anh/chị cần bổ sung giấy tờ: Bản sao Giấy chứng sinh."
    assert notice.buttons[0]["payload"]["url"] == LINK

    # Staff see who follows and that the notice went out; the lookup now knows the status.
    shown = await desk.app.client.get("/console/dossiers", params={"code": CODE})
    assert RESIDENT in shown.text and "Đã gửi" in shown.text
    lookup = await desk.text_of(CODE)
    assert "cần bổ sung giấy tờ" in lookup and "đang theo dõi" in lookup

    # The same status again tells nobody twice.
    before = len(desk.sent_to())
    again = await desk.staff_sets(CODE, "needs_papers", missing="Bản sao Giấy chứng sinh")
    assert "đã ở tình trạng này" in again.text
    await desk.worker.run_once()
    assert len(desk.sent_to()) == before

    # After "bỏ theo dõi", a change is no longer sent.
    assert "không báo" in await desk.text_of(f"bỏ theo dõi hồ sơ {CODE}")
    await desk.staff_sets(CODE, "processing")
    await desk.worker.run_once()
    assert all("đang được giải quyết" not in m.text for m in desk.sent_to())


async def test_outside_the_window_the_notice_waits_for_the_residents_next_message(
    desk: Desk,
) -> None:
    await desk.says(f"theo dõi hồ sơ {CODE}")
    desk.clock.advance(days=8)  # the resident has been quiet: Zalo's window is closed
    page = await desk.staff_sets(CODE, "result_ready", pickup_date="2026-12-05")
    assert "1 người theo dõi" in page.text
    await desk.worker.run_once()
    assert not any("đã có kết quả" in m.text for m in desk.sent_to())
    shown = await desk.app.client.get("/console/dossiers", params={"code": CODE})
    assert "Chờ cư dân nhắn tin (ngoài 7 ngày)" in shown.text

    desk.clock.advance(hours=1)
    replies = [m.text for m in await desk.says("giờ làm việc của phường")]
    assert len(replies) >= 2
    assert replies[-1] == (
        "Dạ, phường có 1 thông báo mới gửi anh/chị:\n\n"
        f"Hồ sơ {CODE} của anh/chị đã có kết quả, anh/chị đến nhận từ ngày 05/12/2026."
    )
    # Once: the next message brings nothing more.
    assert all("đã có kết quả" not in m.text for m in await desk.says("cảm ơn"))


async def test_a_code_not_in_the_provinces_format_is_refused_and_the_form_kept(
    desk: Desk,
) -> None:
    page = await desk.staff_sets("ABC-1", "processing", missing="giữ lại")
    assert page.status_code == 422
    assert "không đúng định dạng" in page.text and CODE in page.text
    assert 'value="ABC-1"' in page.text and 'value="giữ lại"' in page.text
    assert get_dossier(desk.app.services.db, OA_ID, "ABC-1") is None


@pytest.fixture
async def polled(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[Desk]:
    path = "app.dossiers.status:InMemoryStatusProvider"
    async for running in start_desk(tmp_path, fake_zalo, dossier_status_provider=path):
        yield running


async def test_the_provinces_system_is_polled_for_followed_dossiers(polled: Desk) -> None:
    provider = polled.dossiers.provider
    assert isinstance(provider, InMemoryStatusProvider)
    await polled.says(f"theo dõi hồ sơ {CODE}")
    assert await polled.dossiers.poll(polled.clock()) == 0  # the system does not know it yet
    provider.statuses[CODE] = DossierStatus(DossierState.processing)
    assert await polled.dossiers.poll(polled.clock()) == 1
    assert await polled.dossiers.poll(polled.clock()) == 0  # unchanged: nobody told twice
    await polled.worker.run_once()
    assert polled.sent_to()[-1].text == f"Hồ sơ {CODE} của anh/chị đang được giải quyết."
    row = get_dossier(polled.app.services.db, OA_ID, CODE)
    assert row is not None and row.updated_by == "provider"
    (follow,) = follows_of(polled.app.services.db, OA_ID, CODE)
    assert follow.notice_status == DeliveryStatus.sent


async def test_a_dossier_just_followed_is_read_from_the_system_at_once(polled: Desk) -> None:
    provider = polled.dossiers.provider
    assert isinstance(provider, InMemoryStatusProvider)
    provider.statuses[CODE] = DossierStatus(DossierState.received)
    (followed,) = await polled.says(f"theo dõi hồ sơ {CODE}")
    assert "em sẽ báo" in followed.text
    assert provider.asked == [CODE]
    await polled.worker.run_once()
    assert polled.sent_to()[-1].text == f"Hồ sơ {CODE} của anh/chị đã được tiếp nhận."
    assert "đã được tiếp nhận" in (await polled.says(CODE))[0].text
    await polled.says(f"theo dõi hồ sơ {CODE}")  # already following: not asked again
    assert provider.asked == [CODE]
