"""/console/dossiers in a real browser (Chromium via Playwright) against uvicorn + fake Zalo:
a resident follows a dossier by chat, staff record its status, the resident is told."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.announcements.delivery import DeliveryPolicy
from app.staff import Role
from app.storage.dossiers import follows_of
from tests.browser.conftest import Served, log_in
from tests.support.webhook import OA_ID

pytestmark = pytest.mark.browser

CODE = "H26.12-251201-0042"


def test_staff_record_a_status_and_the_follower_is_told(page: Any, served: Served) -> None:
    # Notices respect the night's quiet hours; this test must not depend on the time of day.
    assert served.services.announcer is not None
    served.services.announcer.policy = DeliveryPolicy(quiet_hours=None)
    served.resident_says("theo-doi-1", f"theo dõi hồ sơ {CODE}")
    served.wait_for(lambda sent: [m for m in sent if m.user_id == "theo-doi-1"])

    log_in(page, served.add_staff("motcua", Role.staff))
    page.get_by_role("link", name="Hồ sơ", exact=True).click()
    page.wait_for_url("**/console/dossiers")
    # A code in the wrong format is refused, saying why, and what was typed stays.
    page.get_by_label("Mã hồ sơ").fill("12345")
    page.get_by_label("Tình trạng").select_option("needs_papers")
    page.get_by_label("Giấy tờ cần bổ sung").fill("Bản sao Giấy chứng sinh")
    page.get_by_role("button", name="Cập nhật tình trạng").click()
    assert "không đúng định dạng" in page.locator("#error").inner_text()
    assert page.get_by_label("Giấy tờ cần bổ sung").input_value() == "Bản sao Giấy chứng sinh"

    page.get_by_label("Mã hồ sơ").fill(CODE)
    page.get_by_role("button", name="Cập nhật tình trạng").click()
    page.locator("#message", has_text="1 người theo dõi sẽ được báo").wait_for()
    assert "cần bổ sung giấy tờ" in page.locator("#dossier-status").inner_text()
    assert "theo-doi-1" in page.locator("#followers").inner_text()
    notice = served.wait_for(
        lambda sent: [m for m in sent if m.user_id == "theo-doi-1" and "bổ sung" in m.text]
    )
    assert (
        notice[0].text == f"Hồ sơ {CODE} của anh/chị cần bổ sung giấy tờ: Bản sao Giấy chứng sinh."
    )

    # The list links each code to its followers, and shows that the notice went out (once
    # its delivery is settled: just after Zalo accepted it).
    deadline = time.monotonic() + 10
    while follows_of(served.services.db, OA_ID, CODE)[0].notice_status != "sent":
        assert time.monotonic() < deadline, "the notice's delivery never settled"
        time.sleep(0.05)
    page.goto("/console/dossiers")
    page.get_by_role("link", name=CODE).click()
    page.locator("#followers", has_text="Đã gửi").wait_for()
