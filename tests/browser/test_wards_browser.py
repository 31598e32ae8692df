"""Staff per ward in a real browser (issue 15's "done when"): ward A's staff cannot open ward
B's report, announcement or unanswered question, by link or by API, nor ward B's bookings,
dossiers or ratings, by link or by form post; a province admin sees both wards. Two wards (the
sample ward files, taking bookings) served by uvicorn with a fake Zalo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.staff import Role
from app.storage.bookings import get_booking
from tests.browser.conftest import Served, log_in, serve
from tests.conftest import make_settings
from tests.support.fake_zalo import FakeZalo
from tests.support.wards import (
    OA_B,
    SLUG_A,
    SLUG_B,
    WardObjects,
    WardServices,
    copy_wards,
    fill_two_wards,
    fill_ward_services,
)
from tests.support.webhook import APP_ID

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two_wards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, WardObjects]]:
    tmp = tmp_path_factory.mktemp("wards-browser")
    with FakeZalo(app_id=APP_ID) as fake:
        wards = copy_wards(tmp, booking=True)
        settings = make_settings(tmp, fake, wards_path=wards, catalogue_poll_seconds=0)
        with serve(settings, fake) as served:
            yield served, fill_two_wards(served.services.db)


@pytest.fixture(scope="module")
def ward_services(two_wards: tuple[Served, WardObjects]) -> WardServices:
    """A booking, dossier and rating in each ward (once for the module)."""
    return fill_ward_services(two_wards[0].services.db)


@pytest.fixture
def ward_page(browser: Any, two_wards: tuple[Served, WardObjects]) -> Iterator[Any]:
    served, _ = two_wards
    context = browser.new_context(base_url=served.base_url, locale="vi-VN")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def fetch_status(page: Any, path: str) -> int:
    """What the signed-in browser's own JavaScript gets from the staff API."""
    return int(page.evaluate("async (path) => (await fetch(path)).status", path))


def test_ward_a_staff_cannot_open_ward_b_objects_by_link_or_by_api(
    ward_page: Any, two_wards: tuple[Served, WardObjects]
) -> None:
    served, objects = two_wards
    page = ward_page
    log_in(page, served.add_staff("hoa-a", Role.admin, SLUG_A))
    assert "Phường Mẫu A" in page.locator("h1").inner_text()
    # What the pages list is ward A's only: no link to ward B's objects anywhere.
    for link, url, own, other in (
        ("Phản ánh", "**/console/reports", "đèn hỏng ở a", "đèn hỏng ở b"),
        ("Thông báo", "**/console/announcements", "thông báo a", "thông báo b"),
        ("Câu hỏi chưa trả lời", "**/console/unanswered", "câu hỏi lạ a", "câu hỏi lạ b"),
    ):
        page.get_by_role("banner").get_by_role("link", name=link, exact=True).click()
        page.wait_for_url(url)
        page.get_by_text(own).first.wait_for()
        assert other not in page.content()
    # By link: typing ward B's addresses answers 404 and shows none of ward B's data.
    for path, secret in (
        (f"/console/reports/{objects.report_b}", "đèn hỏng ở b"),
        (f"/console/announcements/{objects.announcement_b}", "thông báo b"),
        (f"/console/unanswered/{objects.question_b}", "câu hỏi lạ b"),
    ):
        response = page.goto(path)
        assert response.status == 404, path
        assert secret not in page.content()
    # Ward A's own open fine, the same way.
    for path in (
        f"/console/reports/{objects.report_a}",
        f"/console/announcements/{objects.announcement_a}",
        f"/console/unanswered/{objects.question_a}",
    ):
        assert page.goto(path).status == 200, path
    # By API, with the browser's session: 404 for ward B's, 200 for ward A's.
    page.goto("/console")
    for kind, own, other in (
        ("reports", objects.report_a, objects.report_b),
        ("announcements", objects.announcement_a, objects.announcement_b),
        ("unanswered", objects.question_a, objects.question_b),
    ):
        assert fetch_status(page, f"/api/{kind}/{other}") == 404, kind
        assert fetch_status(page, f"/api/{kind}/{own}") == 200, kind
    listed = page.request.get("/api/reports").json()["reports"]
    assert [r["id"] for r in listed] == [objects.report_a]


def test_a_province_admin_sees_both_wards(
    ward_page: Any, two_wards: tuple[Served, WardObjects]
) -> None:
    served, objects = two_wards
    page = ward_page
    log_in(page, served.add_staff("tinh", Role.province))
    assert page.locator("h1").inner_text() == "Tổng quan toàn tỉnh"
    table = page.locator("#province-wards")
    assert "Phường Mẫu A" in table.inner_text() and "Xã Mẫu B" in table.inner_text()
    assert page.locator("tr[data-ward='xa-mau-b'] .open-reports").inner_text() == "1"
    page.get_by_role("link", name="Phường/xã", exact=True).click()
    page.wait_for_url("**/console/wards")
    assert OA_B in page.locator("#wards").inner_text()
    page.get_by_role("banner").get_by_role("link", name="Phản ánh", exact=True).click()
    page.wait_for_url("**/console/reports")
    page.get_by_text("đèn hỏng ở a").wait_for()
    page.get_by_text("đèn hỏng ở b").wait_for()
    for path, text in (
        (f"/console/reports/{objects.report_b}", "đèn hỏng ở b"),
        (f"/console/announcements/{objects.announcement_b}", "thông báo b"),
        (f"/console/unanswered/{objects.question_b}", "câu hỏi lạ b"),
        (f"/console/reports/{objects.report_a}", "đèn hỏng ở a"),
    ):
        assert page.goto(path).status == 200, path
        assert text in page.content()
    page.goto("/console")
    for kind, other in (
        ("reports", objects.report_b),
        ("announcements", objects.announcement_b),
        ("unanswered", objects.question_b),
    ):
        assert fetch_status(page, f"/api/{kind}/{other}") == 200, kind


def test_ward_a_staff_cannot_see_or_act_on_ward_b_bookings_dossiers_or_ratings(
    ward_page: Any, two_wards: tuple[Served, WardObjects], ward_services: WardServices
) -> None:
    served, _ = two_wards
    rows, page = ward_services, ward_page
    log_in(page, served.add_staff("lan-a", Role.staff, SLUG_A))
    page.get_by_role("banner").get_by_role("link", name="Lịch hẹn", exact=True).click()
    page.wait_for_url("**/console/bookings")
    # The agenda of the day both wards have a visit: ward A's only, marked from the page.
    page.get_by_label("Từ ngày").fill(rows.day.isoformat())
    page.get_by_label("Số ngày").select_option("1")
    page.get_by_role("button", name="Xem").click()
    page.locator(f"tr#{rows.code_a}").wait_for()
    assert rows.code_b not in page.content()
    page.get_by_role("button", name=f"Vắng mặt {rows.code_a}").click()
    page.locator("#message").wait_for()
    assert page.locator(f"tr#{rows.code_a} .status").inner_text() == "Vắng mặt"
    for link, own, other in (
        ("Hồ sơ", rows.dossier_a, rows.dossier_b),
        ("Đánh giá", "góp ý a", "góp ý b"),
    ):
        page.get_by_role("banner").get_by_role("link", name=link, exact=True).click()
        page.get_by_text(own).first.wait_for()
        assert other not in page.content()
    # By link: ward B's lists and dossier answer 404 and show none of ward B's data.
    for path, secret in (
        (f"/console/bookings?date={rows.day.isoformat()}&days=1&ward={SLUG_B}", rows.code_b),
        (f"/console/dossiers?code={rows.dossier_b}", "dan-b"),
        (f"/console/ratings?ward={SLUG_B}", "góp ý b"),
    ):
        response = page.goto(path)
        assert response.status == 404, path
        assert secret not in page.content()
    # By form post, with the browser's session and its CSRF token: 404, nothing changes.
    page.goto("/console/bookings")
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    marked = page.request.post(
        f"/console/bookings/{rows.booking_b}/mark",
        form={"csrf_token": csrf, "status": "served", "date": rows.day.isoformat()},
        max_redirects=0,
    )
    assert marked.status == 404
    booking = get_booking(served.services.db, rows.booking_b)
    assert booking is not None and booking.status == "booked"
