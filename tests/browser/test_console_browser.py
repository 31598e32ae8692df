"""The staff console in a real browser (Chromium via Playwright) against uvicorn + fake Zalo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.announcements.delivery import DeliveryPolicy, announcing_oa_id
from app.catalogue.documents import PROCEDURES
from app.staff import Role
from app.storage.followers import touch_interaction
from app.storage.groups import set_membership
from tests.browser.conftest import Served, log_in
from tests.support.catalogue import with_alias

pytestmark = pytest.mark.browser

QUESTION = "xin giấy chào đời cho cháu bé"


def texts_to(user_id: str) -> Any:
    return lambda sent: [m.text for m in sent if m.user_id == user_id]


def test_log_in_and_out(page: Any, served: Served) -> None:
    log_in(page, served.add_staff("lan", Role.staff))
    assert page.locator("h1").inner_text().startswith("Tổng quan")
    page.get_by_role("button", name="Đăng xuất (lan)").click()
    page.wait_for_url("**/console/login")
    page.goto("/console")
    assert "/console/login" in page.url


def test_send_an_announcement_to_a_group_and_watch_it_finish(page: Any, served: Served) -> None:
    # Non-urgent announcements wait out the night's quiet hours; not this test's subject.
    assert served.services.announcer is not None
    served.services.announcer.policy = DeliveryPolicy(quiet_hours=None)
    oa = announcing_oa_id(served.services.settings)
    now = datetime.now(UTC)
    for user_id in ("to5-a", "to5-b", "to5-c"):
        touch_interaction(served.services.db, oa, user_id, now)
        set_membership(served.services.db, oa, user_id, "tdp-5", now)
    log_in(page, served.add_staff("hoa", Role.staff))
    page.get_by_role("link", name="Thông báo", exact=True).click()
    page.get_by_label("Nội dung thông báo").fill("Ngày mai cắt điện từ 8 giờ đến 11 giờ.")
    page.get_by_label("Tổ dân phố số 5").check()
    page.get_by_role("button", name="Xem trước").click()
    assert page.locator("#preview").inner_text() == "Ngày mai cắt điện từ 8 giờ đến 11 giờ."
    page.get_by_role("button", name="Gửi thông báo").click()
    page.wait_for_url("**/console/announcements/*")
    # The page follows the delivery live until every resident has it.
    page.locator("#state", has_text="Đã gửi xong.").wait_for()
    assert page.locator("#sent").inner_text() == "3"
    assert page.locator("#total").inner_text() == "3"
    for user_id in ("to5-a", "to5-b", "to5-c"):
        assert "Ngày mai cắt điện" in "\n".join(served.wait_for(texts_to(user_id)))


def test_answer_a_report_and_the_reply_reaches_zalo(page: Any, served: Served) -> None:
    served.resident_says("bao-cao-1", "phản ánh: đèn đường hỏng ở ngõ 5")
    filed = "\n".join(served.wait_for(texts_to("bao-cao-1")))
    code = filed.split("mã số ", 1)[1].split(".", 1)[0]
    log_in(page, served.add_staff("minh", Role.staff))
    page.get_by_role("link", name="Phản ánh", exact=True).click()
    page.get_by_role("link", name=code).click()
    page.get_by_label("Nội dung phản hồi").fill("Tổ điện lực sẽ thay bóng đèn chiều nay.")
    page.get_by_role("button", name="Gửi phản hồi").click()
    page.locator("#message", has_text="Đã gửi phản hồi").wait_for()
    replies = served.wait_for(
        lambda sent: [m.text for m in sent if m.user_id == "bao-cao-1" and "Tổ điện lực" in m.text]
    )
    assert code in replies[0]


def test_add_an_unanswered_question_as_alias_and_the_bot_answers_it(
    page: Any, served: Served
) -> None:
    served.resident_says("hoi-1", QUESTION)
    assert "1.001193" not in "\n".join(served.wait_for(texts_to("hoi-1")))
    log_in(page, served.add_staff("admin", Role.admin))
    page.get_by_role("link", name="Câu hỏi chưa trả lời", exact=True).click()
    card = page.locator(".card", has=page.locator(f"input[value='{QUESTION}']"))
    card.get_by_label("Thủ tục").select_option("1.001193")
    card.get_by_label("Thêm làm").select_option("aliases")
    card.get_by_role("button", name="Thêm").click()
    page.get_by_role("status").filter(has_text="Đã thêm").wait_for()
    before = len(served.fake.sent_messages)
    served.resident_says("hoi-2", QUESTION)
    answer = served.wait_for(lambda sent: [m.text for m in sent[before:] if m.user_id == "hoi-2"])
    assert "1.001193" in "\n".join(answer)


def test_an_admin_edits_a_procedures_facts_and_the_bot_answers_with_them(
    page: Any, served: Served
) -> None:
    """The fact form in a real browser: a refused save says why in Vietnamese; a valid one is
    saved as a new catalogue version and the bot answers with it at once."""
    province = served.services.knowledge.current.content.catalogue.ward.province
    store = served.services.catalogue
    assert store is not None
    base = store.current_version()
    assert base is not None
    log_in(page, served.add_staff("quantri", Role.admin))
    page.get_by_role("link", name="Danh mục thủ tục", exact=True).click()
    page.locator('[id="row-1.004837"]').get_by_role("link", name="Sửa").click()
    page.wait_for_url("**/console/catalogue/1.004837/edit")
    page.get_by_label("Loại lệ phí").select_option("province")
    page.get_by_label("Lệ phí", exact=True).fill("Lệ phí do Hội đồng nhân dân tỉnh quy định.")
    page.get_by_label(f"Mức thu tại {province}").fill("7.000 đồng/việc")
    page.get_by_label("Căn cứ (nghị quyết của HĐND tỉnh)").fill("Nghị quyết số 03/2026/NQ-HĐND")
    # A third situation with a button title but no documents is refused, saying why.
    page.get_by_label("Tên nút trường hợp 3").fill("Khác")
    page.get_by_role("button", name="Lưu và áp dụng").click()
    errors = page.locator("#errors")
    errors.wait_for()
    assert "không được để trống" in errors.inner_text()
    assert store.current_version() == base  # nothing stored
    # What was typed is still there; take the third situation out and save.
    assert page.get_by_label(f"Mức thu tại {province}").input_value() == "7.000 đồng/việc"
    page.get_by_label("Tên nút trường hợp 3").fill("")
    page.get_by_role("button", name="Lưu và áp dụng").click()
    page.locator("#message", has_text="Đã lưu thông tin thủ tục").wait_for()
    assert "Mức thu tại" in page.locator("#preview").inner_text()
    assert store.current_version() == base + 1
    assert "7.000 đồng/việc" in store.documents(base + 1)[PROCEDURES]
    before = len(served.fake.sent_messages)
    served.resident_says("phi-1", "đăng ký giám hộ hết bao nhiêu tiền")
    answer = served.wait_for(lambda sent: [m.text for m in sent[before:] if m.user_id == "phi-1"])
    assert "7.000 đồng/việc" in "\n".join(answer)


def test_catalogue_history_diff_and_rollback(page: Any, served: Served) -> None:
    alias = "làm giấy hồng cho bé"
    store, knowledge = served.services.catalogue, served.services.knowledge
    assert store is not None
    base = store.current_version()
    assert base is not None
    saved = store.edit(
        PROCEDURES,
        lambda text: with_alias(text, alias),
        base=base,
        author="hoa",
        reason="Thêm tên gọi khác “làm giấy hồng cho bé”",
    )
    assert saved is not None
    knowledge.refresh()
    served.resident_says("hong-1", alias)
    assert "1.001193" in "\n".join(served.wait_for(texts_to("hong-1")))

    log_in(page, served.add_staff("quantri", Role.admin))
    page.get_by_role("link", name="Danh mục thủ tục", exact=True).click()
    page.get_by_role("link", name="Lịch sử thay đổi").click()
    newest = page.locator(f"#version-{saved.version}")
    assert "hoa" in newest.inner_text() and "(hiện tại)" in newest.inner_text()
    newest.get_by_role("link", name="+1 −0 dòng").click()
    page.wait_for_url("**/console/catalogue/diff?to=*")
    assert f"+  - {alias}" in page.locator("pre.diff").first.inner_text()

    page.go_back()
    page.once("dialog", lambda dialog: dialog.accept())  # "Khôi phục phiên bản ...?"
    page.locator(f"#version-{base}").get_by_role("button", name="Khôi phục").click()
    page.locator("#message", has_text=f"Đã khôi phục phiên bản {base}").wait_for()
    restored = page.locator(f"#version-{saved.version + 1}")
    assert "(hiện tại)" in restored.inner_text() and f"phiên bản {base}" in restored.inner_text()
    before = len(served.fake.sent_messages)
    served.resident_says("hong-2", alias)
    answer = served.wait_for(lambda sent: [m.text for m in sent[before:] if m.user_id == "hong-2"])
    assert "1.001193" not in "\n".join(answer)
