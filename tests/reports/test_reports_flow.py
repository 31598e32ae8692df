"""Reports end to end: a resident writes through the webhook, staff answer in the console, the
answer reaches the (fake) Zalo; lookup and rating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.staff import Role
from app.storage.followers import touch_interaction
from app.storage.reports import get_report, list_reports
from tests.conftest import RunningApp
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import APP_ID, OA_ID, text_event
from tests.web.console_support import csrf_in, log_in, make_staff

pytestmark = pytest.mark.anyio
RESIDENT = "resident-42"


def media_event(user_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "event_name": f"user_send_{kind}",
        "message": {
            "msg_id": f"media-{kind}-{user_id}",
            "attachments": [{"type": kind, "payload": payload}],
        },
        "timestamp": "1730000000000",
    }


async def send(running: RunningApp, fake: FakeZalo, payload: dict[str, Any]) -> str:
    before = len(fake.sent_messages)
    assert (await running.webhook.post(payload)).status_code == 200
    await running.settle()
    return "\n".join(m.text for m in fake.sent_messages[before:] if m.user_id == RESIDENT)


async def says(running: RunningApp, fake: FakeZalo, text: str) -> str:
    return await send(running, fake, text_event(RESIDENT, text))


async def test_report_answered_closed_looked_up_and_rated(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    filed = await says(running, fake_zalo, "phản ánh: đèn đường hỏng ở ngõ 5")
    assert "PA-0001" in filed
    report = get_report(running.services.db, 1)
    assert report is not None and report.what == "đèn đường hỏng" and report.location == "ngõ 5"
    assert "đã tiếp nhận" in await says(running, fake_zalo, "tra cứu PA-0001")

    make_staff(running.services.db)
    csrf = await log_in(running.client, "canbo")
    listing = await running.client.get("/console/reports")
    assert "PA-0001" in listing.text and "đèn đường hỏng" in listing.text
    assigned = await running.client.post(
        "/console/reports/1/assign", data={"csrf_token": csrf, "assignee": "canbo"}
    )
    assert assigned.status_code == 200 and "Đang xử lý" in assigned.text

    before = len(fake_zalo.sent_messages)
    answered = await running.client.post(
        "/console/reports/1/reply",
        data={"csrf_token": csrf, "text": "Tổ điện sẽ thay bóng trong hôm nay."},
    )
    assert "Đã gửi phản hồi" in answered.text
    sent = [m for m in fake_zalo.sent_messages[before:] if m.user_id == RESIDENT]
    assert len(sent) == 1 and "Tổ điện sẽ thay bóng" in sent[0].text and "PA-0001" in sent[0].text

    closed = await running.client.post(
        "/console/reports/1/reply",
        data={"csrf_token": csrf, "text": "Đã thay bóng đèn.", "close": "true"},
    )
    assert "Đã đóng" in closed.text
    rating_request = fake_zalo.sent_messages[-1]
    assert "hài lòng" in rating_request.text
    payloads = [b["payload"] for b in rating_request.buttons]
    assert "Hài lòng PA-0001" in payloads and "Chưa hài lòng PA-0001" in payloads

    assert "đã xử lý xong" in await says(running, fake_zalo, "tra cứu PA-0001")
    assert "cảm ơn" in await says(running, fake_zalo, "Hài lòng PA-0001")
    report = get_report(running.services.db, 1)
    assert report is not None and report.rating == "satisfied"
    dashboard = await running.client.get("/console")
    assert 'id="satisfied">1<' in dashboard.text and 'id="open-reports">0<' in dashboard.text


async def test_the_bot_asks_what_and_where_and_takes_photo_and_location(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    assert "mô tả" in await says(running, fake_zalo, "Phản ánh")
    assert "địa điểm" in await says(running, fake_zalo, "rác thải tồn đọng lâu ngày")
    photo = await send(
        running,
        fake_zalo,
        media_event(RESIDENT, "image", {"url": "https://photo.zalo.example/1.jpg"}),
    )
    assert "ảnh" in photo and "địa điểm" in photo
    filed = await send(
        running,
        fake_zalo,
        media_event(
            RESIDENT, "location", {"coordinates": {"latitude": "16.0544", "longitude": "108.2022"}}
        ),
    )
    assert "PA-0001" in filed
    (report,) = list_reports(running.services.db)
    assert report.what == "rác thải tồn đọng lâu ngày"
    assert (report.latitude, report.longitude) == (16.0544, 108.2022)
    assert report.image_url == "https://photo.zalo.example/1.jpg"


async def test_location_under_message_location_is_understood(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    await says(running, fake_zalo, "phản ánh: cây đổ")
    event = media_event(RESIDENT, "location", {})
    event["message"] = {"msg_id": "loc-2", "location": {"latitude": "21.0", "longitude": "105.8"}}
    assert "PA-0001" in await send(running, fake_zalo, event)


async def test_someone_elses_report_is_not_shown(running: RunningApp, fake_zalo: FakeZalo) -> None:
    await running.webhook.post(text_event("other", "phản ánh: ồn ào ở ngõ 9"))
    await running.settle()
    assert "không tìm thấy" in await says(running, fake_zalo, "tra cứu PA-0001")


async def test_a_reply_outside_the_window_waits_for_the_resident(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    await says(running, fake_zalo, "phản ánh: đèn đường hỏng ở ngõ 5")
    # The resident's last message was 8 days ago: Zalo would refuse a consultation message.
    touch_interaction(running.services.db, OA_ID, RESIDENT, datetime.now(UTC) - timedelta(days=8))
    make_staff(running.services.db, "admin", Role.admin)
    csrf = await log_in(running.client, "admin")
    before = len(fake_zalo.sent_messages)
    page = await running.client.post(
        "/console/reports/1/reply", data={"csrf_token": csrf, "text": "Đã ghi nhận."}
    )
    assert "chờ người dân nhắn lại" in page.text
    assert fake_zalo.sent_messages[before:] == []
    # The resident writes again: the answer follows the bot's own reply.
    answer = await says(running, fake_zalo, "giờ làm việc")
    assert "Đã ghi nhận." in answer
    page = await running.client.get("/console/reports/1")
    assert "đã gửi" in page.text


async def test_report_pages_need_csrf(running: RunningApp, fake_zalo: FakeZalo) -> None:
    await says(running, fake_zalo, "phản ánh: đèn đường hỏng ở ngõ 5")
    make_staff(running.services.db)
    csrf = await log_in(running.client, "canbo")
    page = await running.client.get("/console/reports/1")
    assert csrf_in(page.text) == csrf
    refused = await running.client.post("/console/reports/1/reply", data={"text": "x"})
    assert refused.status_code == 403


async def test_the_welcome_offers_the_report_button(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    from tests.support.webhook import follow_event

    welcome = await send(running, fake_zalo, follow_event(RESIDENT))
    assert "phản ánh" in welcome
    button = next(
        b for m in fake_zalo.sent_messages for b in m.buttons if b.get("title") == "Phản ánh"
    )
    assert "mô tả" in await says(running, fake_zalo, str(button["payload"]))


async def test_a_staff_answer_in_two_parts_is_finished_part_by_part(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    """Zalo goes down between the two parts of a long answer: the rest is held and goes out
    by itself once Zalo is back, alone; staff are not asked to send it again."""
    from app.outbox.held import HeldReplies
    from tests.support.fake_zalo import MESSAGE_CS_PATH, FakeMessage
    from tests.support.outbox import fast_retries

    fast_retries(running.services)
    await says(running, fake_zalo, "phản ánh: đèn đường hỏng ở ngõ 5")
    make_staff(running.services.db)
    csrf = await log_in(running.client, "canbo")
    answer = ("Tổ điện lực đã kiểm tra tuyến đèn ngõ 5 và sẽ thay bóng trong tuần. " * 30)[:2000]

    def down_after_the_first(message: FakeMessage) -> None:
        fake_zalo.fail_next_http(502, MESSAGE_CS_PATH, times=3)  # every try of the next one

    fake_zalo.on_accept = down_after_the_first
    before = len(fake_zalo.sent_messages)
    page = await running.client.post(
        "/console/reports/1/reply", data={"csrf_token": csrf, "text": answer}
    )
    fake_zalo.on_accept = None
    assert "tự động gửi khi kết nối" in page.text
    assert "chờ kết nối Zalo" in (await running.client.get("/console/reports/1")).text
    first = [m.text for m in fake_zalo.sent_messages[before:]]
    assert len(first) == 1 and first[0].startswith("Phường phản hồi phản ánh PA-0001")

    services = running.services
    held = HeldReplies(
        services.inbox.outbox,
        services.settings.own_oa_id,
        report_reply_delivered=services.inbox.reports.delivered_later  # type: ignore[union-attr]
        if services.inbox.reports
        else None,
    )
    assert (await held.resend()).sent == 1

    texts = [m.text for m in fake_zalo.sent_messages[before:]]
    assert len(texts) == 2 and texts[0] == first[0]  # no apology, no repeat
    assert " ".join(texts).endswith(answer.strip()[-100:])
    assert "đã gửi" in (await running.client.get("/console/reports/1")).text
    # The resident writes again: nothing of the answer is sent a second time.
    await says(running, fake_zalo, "cảm ơn")
    assert sum(answer[:40] in m.text for m in fake_zalo.sent_messages) == 1
