"""/console/bookings in a real browser (Chromium via Playwright) against uvicorn + fake Zalo:
residents book by chat, staff see the day by slot and counter, mark a visit served, export
CSV, and cancel a slot; the resident left in it is told on Zalo."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest

from app.staff import Role
from tests.browser.conftest import Served, log_in
from tests.support.fake_zalo import FakeMessage

pytestmark = pytest.mark.browser


def reply_to(served: Served, user_id: str, after: int, contains: str) -> FakeMessage:
    found: list[FakeMessage] = served.wait_for(
        lambda sent: [m for m in sent[after:] if m.user_id == user_id and contains in m.text]
    )
    return found[0]


def say(served: Served, user_id: str, text: str, expect: str) -> FakeMessage:
    before = len(served.fake.sent_messages)
    served.resident_says(user_id, text)
    return reply_to(served, user_id, before, expect)


def book(served: Served, user_id: str, day_payload: str | None = None) -> tuple[str, str]:
    """Book the first time of the first day offered (or of `day_payload`): (code, day ISO)."""
    days = say(served, user_id, "đặt lịch khai sinh", "chọn ngày")
    day_payload = day_payload or str(days.buttons[0]["payload"])
    times = say(served, user_id, day_payload, "chọn giờ")
    say(served, user_id, str(times.buttons[0]["payload"]), "kiểm tra lại")
    done = say(served, user_id, "Xác nhận đặt lịch", "Mã lịch hẹn")
    code = done.text.split("Mã lịch hẹn: ", 1)[1].split("\n", 1)[0]
    day = datetime.strptime(day_payload.rsplit(" ", 1)[1], "%d/%m/%Y").date().isoformat()
    return code, day


def test_staff_mark_export_and_cancel_a_slot(page: Any, served: Served) -> None:
    first, day = book(served, "lich-1")
    day_button = f"Đặt lịch ngày {day[8:10]}/{day[5:7]}/{day[0:4]}"
    second, _ = book(served, "lich-2", day_button)

    log_in(page, served.add_staff("thu", Role.staff))
    page.get_by_role("link", name="Lịch hẹn", exact=True).click()
    page.wait_for_url("**/console/bookings")
    page.get_by_label("Từ ngày").fill(day)
    page.get_by_role("button", name="Xem", exact=True).click()
    slot = page.locator("section.slot", has=page.locator(f"[id='{first}']"))
    assert "Quầy 1 – Hộ tịch" in slot.locator("h3").inner_text()
    assert slot.locator(f"[id='{second}']").count() == 1  # same slot, same counter

    page.get_by_role("button", name=f"Đã phục vụ {first}").click()
    page.locator("#message", has_text="đã được phục vụ").wait_for()
    assert page.locator(f"[id='{first}'] .status").inner_text() == "Đã phục vụ"

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải CSV").click()
    path = download.value.path()
    with open(path, encoding="utf-8-sig") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    codes = {r[0]: r[7] for r in rows[1:]}
    assert codes[first] == "Đã phục vụ" and codes[second] == "Đã đặt"

    before = len(served.fake.sent_messages)
    slot = page.locator("section.slot", has=page.locator(f"[id='{second}']"))
    slot.locator("summary", has_text="Hủy khung giờ này").click()
    slot.get_by_label("Lý do (gửi cho người dân)").fill("cán bộ tiếp nhận nghỉ ốm")
    slot.get_by_role("button", name="Hủy khung giờ").click()
    page.locator("#message", has_text="1 lịch hẹn bị hủy, 1 người dân đã được báo").wait_for()
    assert page.locator(f"[id='{second}'] .status").inner_text() == "Phường đã hủy"
    told = reply_to(served, "lich-2", before, "cán bộ tiếp nhận nghỉ ốm")
    assert second in told.text and told.buttons
    # The resident served is not told anything.
    assert not [m for m in served.fake.sent_messages[before:] if m.user_id == "lich-1"]
