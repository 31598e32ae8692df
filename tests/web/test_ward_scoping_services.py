"""Staff per ward on the service pages (bookings, dossiers, ratings), over HTTP: a ward's staff
see and act on their own ward's rows only (another ward's booking, slot, dossier or ward
filter is a 404, by link and by form post, and nothing of it changes); a province admin sees
every ward's, with a ward column and a ward filter, and the 1-5 ratings per ward on the
province dashboard."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.staff import Role, add_staff
from app.storage.bookings import get_booking
from app.storage.dossiers import get_dossier
from app.storage.tables import BookingStatus
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.wards import (
    OA_A,
    OA_B,
    SLUG_B,
    WardServices,
    copy_wards,
    fill_ward_services,
)
from tests.web.console_support import PASSWORD, log_in

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Province:
    running: RunningApp
    rows: WardServices

    @property
    def client(self) -> httpx.AsyncClient:
        return self.running.client

    async def sign_in(self, username: str, role: Role, ward: str | None) -> str:
        add_staff(self.running.services.db, username, PASSWORD, role, ward)
        return await log_in(self.client, username)

    def agenda(self, extra: str = "") -> str:
        return f"/console/bookings?date={self.rows.day.isoformat()}&days=1{extra}"

    def booking_status(self, booking_id: int) -> str:
        booking = get_booking(self.running.services.db, booking_id)
        assert booking is not None
        return booking.status

    def dossier_state(self, oa_id: str, code: str) -> str | None:
        dossier = get_dossier(self.running.services.db, oa_id, code)
        return dossier.state if dossier is not None else None


@pytest.fixture
async def province(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[Province]:
    settings = make_settings(tmp_path, fake_zalo, wards_path=copy_wards(tmp_path, booking=True))
    async for running in start_app(settings):
        yield Province(running, fill_ward_services(running.services.db))


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


# --- bookings ---------------------------------------------------------------------------------


async def test_ward_staff_see_and_mark_only_their_wards_bookings(province: Province) -> None:
    rows, client = province.rows, province.client
    csrf = await province.sign_in("lan", Role.staff, "phuong-mau-a")
    page = await client.get(province.agenda())
    assert page.status_code == 200
    assert rows.code_a in page.text and rows.code_b not in page.text
    assert 'id="ward-picker"' not in page.text and "09:00–09:30 · Quầy 1 – Hộ tịch" in page.text
    exported = csv_rows(await client.get(f"/console/bookings.csv?date={rows.day}&days=1"))
    assert [r[0] for r in exported[1:]] == [rows.code_a]
    # Another ward's list, booking or slot: 404, by link and by form post; nothing changes.
    assert (await client.get(province.agenda("&ward=xa-mau-b"))).status_code == 404
    assert (await client.get(f"/console/bookings.csv?ward={SLUG_B}")).status_code == 404
    form = {"csrf_token": csrf, "date": rows.day.isoformat(), "days": "1"}
    marked = await client.post(
        f"/console/bookings/{rows.booking_b}/mark", data={**form, "status": "served"}
    )
    cancelled = await client.post(
        "/console/bookings/cancel-slot",
        data={**form, "oa_id": OA_B, "counter_id": "ho-tich",
              "start": rows.slot_start.isoformat(), "reason": "cán bộ nghỉ ốm"},
    )  # fmt: skip
    assert (marked.status_code, cancelled.status_code) == (404, 404)
    assert province.booking_status(rows.booking_b) == BookingStatus.booked.value
    assert (await client.post("/console/bookings/99999/mark", data={**form, "status": "served"})
            ).status_code == 404  # fmt: skip
    # Their own, as before.
    own = await client.post(
        f"/console/bookings/{rows.booking_a}/mark", data={**form, "status": "no_show"}
    )
    assert own.status_code == 303
    assert province.booking_status(rows.booking_a) == BookingStatus.no_show.value


async def test_a_province_admin_sees_every_wards_bookings_by_ward(province: Province) -> None:
    rows, client = province.rows, province.client
    csrf = await province.sign_in("tinh", Role.province, None)
    page = (await client.get(province.agenda())).text
    assert rows.code_a in page and rows.code_b in page and 'id="ward-picker"' in page
    # The same counter and time in two wards are two slots, each named by its ward.
    assert "Phường Mẫu A · 09:00–09:30 · Quầy 1 – Hộ tịch" in page
    assert "Xã Mẫu B · 09:00–09:30 · Quầy 1 – Hộ tịch" in page
    assert page.count(f'name="oa_id" value="{OA_B}"') == 1
    narrowed = (await client.get(province.agenda(f"&ward={SLUG_B}"))).text
    assert rows.code_b in narrowed and rows.code_a not in narrowed
    exported = csv_rows(await client.get(f"/console/bookings.csv?date={rows.day}&days=1"))
    assert exported[0][0] == "Phường/xã"
    assert sorted((r[0], r[1]) for r in exported[1:]) == [
        ("Phường Mẫu A", rows.code_a),
        ("Xã Mẫu B", rows.code_b),
    ]
    marked = await client.post(
        f"/console/bookings/{rows.booking_b}/mark",
        data={"csrf_token": csrf, "status": "no_show", "date": rows.day.isoformat(),
              "days": "1", "ward": SLUG_B},
    )  # fmt: skip
    assert marked.status_code == 303 and f"ward={SLUG_B}" in marked.headers["location"]
    assert province.booking_status(rows.booking_b) == BookingStatus.no_show.value


# --- dossiers ---------------------------------------------------------------------------------


async def test_ward_staff_see_and_record_only_their_wards_dossiers(province: Province) -> None:
    rows, client = province.rows, province.client
    csrf = await province.sign_in("lan", Role.staff, "phuong-mau-a")
    page = await client.get("/console/dossiers")
    assert rows.dossier_a in page.text and rows.dossier_b not in page.text
    own = await client.get("/console/dossiers", params={"code": rows.dossier_a})
    assert own.status_code == 200 and "dan-a" in own.text
    # Another ward's code answers as an unknown one: 404, none of its followers shown.
    other = await client.get("/console/dossiers", params={"code": rows.dossier_b})
    assert other.status_code == 404 and "dan-b" not in other.text
    assert (await client.get(f"/console/dossiers?ward={SLUG_B}")).status_code == 404
    form = {"csrf_token": csrf, "code": rows.dossier_b, "state": "result_ready"}
    refused = await client.post("/console/dossiers", data={**form, "ward": SLUG_B})
    assert refused.status_code == 404
    # Without a ward, a code is recorded in the staff member's own ward, never in another.
    recorded = await client.post("/console/dossiers", data=form)
    assert recorded.status_code == 200
    assert province.dossier_state(OA_B, rows.dossier_b) == "processing"
    assert province.dossier_state(OA_A, rows.dossier_b) == "result_ready"


async def test_a_province_admin_sees_every_wards_dossiers_and_names_the_ward_to_record_in(
    province: Province,
) -> None:
    rows, client = province.rows, province.client
    csrf = await province.sign_in("tinh", Role.province, None)
    page = (await client.get("/console/dossiers")).text
    assert rows.dossier_a in page and rows.dossier_b in page
    assert f"/console/dossiers?code={rows.dossier_b}&ward={SLUG_B}" in page
    shown = await client.get("/console/dossiers", params={"code": rows.dossier_b})
    assert shown.status_code == 200 and "dan-b" in shown.text and "Xã Mẫu B" in shown.text
    narrowed = (await client.get(f"/console/dossiers?ward={SLUG_B}")).text
    assert rows.dossier_b in narrowed and rows.dossier_a not in narrowed
    form = {"csrf_token": csrf, "code": rows.dossier_b, "state": "result_ready"}
    unnamed = await client.post("/console/dossiers", data=form)
    assert unnamed.status_code == 422
    assert province.dossier_state(OA_B, rows.dossier_b) == "processing"
    named = await client.post("/console/dossiers", data={**form, "ward": SLUG_B})
    assert named.status_code == 200 and "Đã cập nhật hồ sơ" in named.text
    assert province.dossier_state(OA_B, rows.dossier_b) == "result_ready"
    assert province.dossier_state(OA_A, rows.dossier_b) is None


# --- ratings ----------------------------------------------------------------------------------


async def test_ward_staff_see_only_their_wards_ratings(province: Province) -> None:
    client = province.client
    await province.sign_in("lan", Role.staff, "phuong-mau-a")
    page = (await client.get("/console/ratings")).text
    assert 'id="rating-count">1<' in page and 'id="rating-average">5.00<' in page
    assert "góp ý a" in page and "góp ý b" not in page and 'id="by-ward"' not in page
    exported = csv_rows(await client.get("/console/ratings.csv"))
    assert exported[0][0] == "rated_at" and [r[-1] for r in exported[1:]] == ["góp ý a"]
    assert (await client.get(f"/console/ratings?ward={SLUG_B}")).status_code == 404
    assert (await client.get(f"/console/ratings.csv?ward={SLUG_B}")).status_code == 404


async def test_a_province_admin_sees_every_wards_ratings_per_ward(province: Province) -> None:
    client = province.client
    await province.sign_in("tinh", Role.province, None)
    page = (await client.get("/console/ratings")).text
    assert 'id="rating-count">2<' in page and 'id="rating-average">3.50<' in page
    assert "góp ý a" in page and "góp ý b" in page
    by_ward = page.split('id="by-ward"', 1)[1].split("</table>", 1)[0]
    assert "<td>Phường Mẫu A</td><td>1</td><td>5.00</td>" in by_ward
    assert "<td>Xã Mẫu B</td><td>1</td><td>2.00</td>" in by_ward
    narrowed = (await client.get(f"/console/ratings?ward={SLUG_B}")).text
    assert "góp ý b" in narrowed and "góp ý a" not in narrowed
    exported = csv_rows(await client.get("/console/ratings.csv"))
    assert exported[0][0] == "ward"
    assert sorted((r[0], r[-2]) for r in exported[1:]) == [("Phường Mẫu A", "5"), ("Xã Mẫu B", "2")]


async def test_the_province_dashboard_shows_each_wards_ratings(province: Province) -> None:
    client = province.client
    await province.sign_in("tinh", Role.province, None)
    page = (await client.get("/console")).text
    row_b = page.split('data-ward="xa-mau-b"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="ratings"><a href="/console/ratings?ward=xa-mau-b">1</a></td>' in row_b
    assert '<td class="rating-average">2.00</td>' in row_b
    row_a = page.split('data-ward="phuong-mau-a"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="rating-average">5.00</td>' in row_a
    assert 'id="total-ratings">2<' in page and 'id="total-rating-average">3.50<' in page


# --- the console's simulator: chat as a ward one sees -------------------------------------------


async def say(province: Province, csrf: str, text: str, ward: str | None = None) -> httpx.Response:
    data = {"text": text} if ward is None else {"text": text, "ward": ward}
    return await province.client.post(
        "/console/simulator", data=data, headers={"X-CSRF-Token": csrf}
    )


async def test_the_console_simulator_answers_as_the_staff_members_ward(
    province: Province,
) -> None:
    csrf = await province.sign_in("lan", Role.staff, SLUG_B)
    page = (await province.client.get("/console/simulator")).text
    assert "Xã Mẫu B" in page and 'id="ward-picker"' not in page
    answer = (await say(province, csrf, "số điện thoại hộ tịch")).json()["replies"][0]["text"]
    assert "0200 222 0001" in answer
    assert (await say(province, csrf, "xin chào", ward="phuong-mau-a")).status_code == 404
    assert (await province.client.get("/console/simulator?ward=phuong-mau-a")).status_code == 404


async def test_a_province_admin_picks_the_ward_to_chat_as(province: Province) -> None:
    csrf = await province.sign_in("tinh", Role.province, None)
    page = (await province.client.get("/console/simulator")).text
    assert "Phường Mẫu A" in page and 'href="/console/simulator?ward=xa-mau-b"' in page
    first = (await say(province, csrf, "số điện thoại hộ tịch")).json()["replies"][0]["text"]
    assert "0200 111 0001" in first  # the first ward by default
    chosen = await say(province, csrf, "phường làm việc mấy giờ", ward=SLUG_B)
    assert "Xã Mẫu B" in chosen.json()["replies"][0]["text"]
