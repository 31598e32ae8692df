"""Staff per ward, over HTTP: a ward's staff see and act on their own ward only, on every
console page and staff API route (another ward's object is a 404, by link and by API); a
province admin sees every ward; the API token is the operator's, every ward too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.staff import Role, add_staff
from app.storage.reports import get_report
from app.storage.staff import staff_by_username
from tests.conftest import API_TOKEN, RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.wards import OA_B, WardObjects, copy_wards, fill_two_wards
from tests.web.console_support import PASSWORD, csrf_in, log_in

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@dataclass(frozen=True)
class TwoWards(WardObjects):
    running: RunningApp = field(kw_only=True)

    def account(self, username: str, role: Role, ward: str | None) -> str:
        add_staff(self.running.services.db, username, PASSWORD, role, ward)
        return username


@pytest.fixture
async def wards(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[TwoWards]:
    settings = make_settings(tmp_path, fake_zalo, wards_path=copy_wards(tmp_path))
    async for running in start_app(settings):
        yield TwoWards(**vars(fill_two_wards(running.services.db)), running=running)


# --- a ward's staff: their ward only ------------------------------------------------------------


async def test_ward_staff_cannot_open_another_wards_report_by_link_or_act_on_it(
    wards: TwoWards,
) -> None:
    client = wards.running.client
    csrf = await log_in(client, wards.account("lan", Role.staff, "phuong-mau-a"))
    listed = await client.get("/console/reports")
    assert "đèn hỏng ở a" in listed.text and "đèn hỏng ở b" not in listed.text
    assert (await client.get(f"/console/reports/{wards.report_a}")).status_code == 200
    assert (await client.get(f"/console/reports/{wards.report_b}")).status_code == 404
    assigned = await client.post(
        f"/console/reports/{wards.report_b}/assign", data={"assignee": "lan", "csrf_token": csrf}
    )
    replied = await client.post(
        f"/console/reports/{wards.report_b}/reply", data={"text": "xong", "csrf_token": csrf}
    )
    assert (assigned.status_code, replied.status_code) == (404, 404)
    untouched = get_report(wards.running.services.db, wards.report_b)
    assert untouched is not None and untouched.assignee is None
    # A province narrowing to another ward is not a way in either.
    assert (await client.get("/console/reports?ward=xa-mau-b")).status_code == 404


async def test_ward_staff_cannot_open_another_wards_announcement_or_announce_there(
    wards: TwoWards,
) -> None:
    client = wards.running.client
    csrf = await log_in(client, wards.account("lan", Role.staff, "phuong-mau-a"))
    page = await client.get("/console/announcements")
    assert "thông báo a" in page.text and "thông báo b" not in page.text
    assert "Tổ dân phố số 1" in page.text and "Thôn Đông" not in page.text
    assert (await client.get(f"/console/announcements/{wards.announcement_a}")).status_code == 200
    assert (await client.get(f"/console/announcements/{wards.announcement_b}")).status_code == 404
    refused = await client.post(
        "/console/announcements",
        data={"text": "tin", "groups": "thon-1", "ward": "xa-mau-b", "action": "send",
              "csrf_token": csrf},
    )  # fmt: skip
    assert refused.status_code == 404
    sent = await client.post(
        "/console/announcements",
        data={"text": "tin cho phường A", "everyone": "true", "action": "send",
              "csrf_token": csrf},
    )  # fmt: skip
    assert sent.status_code == 303
    new_id = int(sent.headers["location"].rsplit("/", 1)[1])
    status = (await client.get(f"/api/announcements/{new_id}")).json()
    assert status["total"] == 1  # ward A's one resident, not ward B's


async def test_ward_admin_cannot_open_another_wards_unanswered_question(wards: TwoWards) -> None:
    client = wards.running.client
    await log_in(client, wards.account("hoa", Role.admin, "phuong-mau-a"))
    page = await client.get("/console/unanswered")
    assert "câu hỏi lạ a" in page.text and "câu hỏi lạ b" not in page.text
    own = await client.get(f"/console/unanswered/{wards.question_a}")
    assert own.status_code == 200 and "câu hỏi lạ a" in own.text
    assert (await client.get(f"/console/unanswered/{wards.question_b}")).status_code == 404


async def test_ward_staff_get_404_from_the_api_for_another_wards_objects(wards: TwoWards) -> None:
    client = wards.running.client
    await log_in(client, wards.account("lan", Role.admin, "phuong-mau-a"))
    for path in (
        f"/api/reports/{wards.report_b}",
        f"/api/announcements/{wards.announcement_b}",
        f"/api/unanswered/{wards.question_b}",
        "/api/groups?ward=xa-mau-b",
        "/api/groups/members.csv?ward=xa-mau-b",
        "/api/reports?ward=xa-mau-b",
    ):
        assert (await client.get(path)).status_code == 404, path
    for path in (
        f"/api/reports/{wards.report_a}",
        f"/api/announcements/{wards.announcement_a}",
        f"/api/unanswered/{wards.question_a}",
    ):
        assert (await client.get(path)).status_code == 200, path
    reports = (await client.get("/api/reports")).json()["reports"]
    assert [r["id"] for r in reports] == [wards.report_a]
    assert reports[0]["ward"] == "phuong-mau-a"
    questions = (await client.get("/api/unanswered")).json()["questions"]
    assert [q["id"] for q in questions] == [wards.question_a]
    groups = (await client.get("/api/groups")).json()
    assert [g["id"] for g in groups["groups"]] == ["tdp-1", "tdp-2"]
    assert groups["members"] == 1
    members = await client.get("/api/groups/members.csv")
    assert "dan-a" in members.text and "dan-b" not in members.text


async def test_ward_staff_cannot_import_members_into_another_ward(wards: TwoWards) -> None:
    client = wards.running.client
    csrf = await log_in(client, wards.account("lan", Role.staff, "phuong-mau-a"))
    response = await client.post(
        "/api/groups/members.csv?ward=xa-mau-b",
        content=b"user_id,group\nmoi,thon-2\n",
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 404
    page = await client.get("/console/groups?ward=xa-mau-b")
    assert page.status_code == 404
    own = await client.get("/console/groups")
    assert "dan-a" in own.text and "dan-b" not in own.text


async def test_the_dashboard_counts_only_the_staff_members_ward(wards: TwoWards) -> None:
    client = wards.running.client
    await log_in(client, wards.account("lan", Role.staff, "phuong-mau-a"))
    page = (await client.get("/console")).text
    assert "Phường Mẫu A" in page and "Xã Mẫu B" not in page
    assert 'id="open-reports">1<' in page
    assert 'id="unanswered">1<' in page
    assert (await client.get("/console/wards")).status_code == 403


async def test_a_ward_admin_manages_only_their_wards_accounts(wards: TwoWards) -> None:
    client = wards.running.client
    wards.account("binh", Role.staff, "xa-mau-b")
    wards.account("tinh", Role.province, None)
    csrf = await log_in(client, wards.account("hoa", Role.admin, "phuong-mau-a"))
    page = await client.get("/console/staff")
    assert "hoa" in page.text and "binh" not in page.text and "tinh" not in page.text
    locked = await client.post("/console/staff/binh/active", data={"csrf_token": csrf})
    assert locked.status_code == 404
    account = staff_by_username(wards.running.services.db, "binh")
    assert account is not None and account.active
    # Nor take another ward's account over by "resetting" it, nor make a province admin.
    reset = await client.post(
        "/console/staff",
        data={"username": "binh", "password": "mat-khau-moi-dai", "csrf_token": csrf},
    )
    assert reset.status_code == 422
    account = staff_by_username(wards.running.services.db, "binh")
    assert account is not None and account.ward == "xa-mau-b"
    promoted = await client.post(
        "/console/staff",
        data={"username": "moi", "password": "mat-khau-moi-dai", "role": "province",
              "csrf_token": csrf},
    )  # fmt: skip
    assert promoted.status_code == 403
    made = await client.post(
        "/console/staff",
        data={"username": "moi", "password": "mat-khau-moi-dai", "csrf_token": csrf},
    )
    assert made.status_code == 200
    account = staff_by_username(wards.running.services.db, "moi")
    assert account is not None and account.ward == "phuong-mau-a"


async def test_an_account_without_a_ward_sees_nothing_when_there_are_several(
    wards: TwoWards,
) -> None:
    client = wards.running.client
    await log_in_anyway(wards, wards.account("cu", Role.staff, None))
    assert (await client.get("/console/reports")).status_code == 403
    assert (await client.get(f"/api/reports/{wards.report_a}")).status_code == 403


async def log_in_anyway(wards: TwoWards, username: str) -> None:
    """Log in without looking at the dashboard (which this account may not see)."""
    client = wards.running.client
    form = await client.get("/console/login")
    response = await client.post(
        "/console/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_in(form.text)},
    )
    assert response.status_code == 303


# --- the province admin and the operator's token: every ward ------------------------------------


async def test_a_province_admin_sees_both_wards(wards: TwoWards) -> None:
    client = wards.running.client
    await log_in(client, wards.account("tinh", Role.province, None))
    dashboard = (await client.get("/console")).text
    assert "Tổng quan toàn tỉnh" in dashboard
    assert 'data-ward="phuong-mau-a"' in dashboard and 'data-ward="xa-mau-b"' in dashboard
    assert 'id="total-open">2<' in dashboard
    assert 'id="total-unanswered">2<' in dashboard
    listed = (await client.get("/console/reports")).text
    assert "đèn hỏng ở a" in listed and "đèn hỏng ở b" in listed
    narrowed = (await client.get("/console/reports?ward=xa-mau-b")).text
    assert "đèn hỏng ở b" in narrowed and "đèn hỏng ở a" not in narrowed
    for path in (
        f"/console/reports/{wards.report_b}",
        f"/console/announcements/{wards.announcement_b}",
        f"/console/unanswered/{wards.question_b}",
        f"/api/reports/{wards.report_a}",
        f"/api/unanswered/{wards.question_b}",
        "/console/groups?ward=xa-mau-b",
    ):
        assert (await client.get(path)).status_code == 200, path
    ward_list = (await client.get("/console/wards")).text
    assert "Phường Mẫu A" in ward_list and "Xã Mẫu B" in ward_list and OA_B in ward_list
    # Acting needs a ward: groups differ between wards.
    assert (await client.get("/api/groups")).status_code == 422
    b_groups = (await client.get("/api/groups?ward=xa-mau-b")).json()
    assert [g["id"] for g in b_groups["groups"]] == ["thon-1", "thon-2"]


async def test_the_api_token_sees_every_ward_and_names_the_ward_to_announce_in(
    wards: TwoWards,
) -> None:
    client = wards.running.client
    reports = (await client.get("/api/reports", headers=AUTH)).json()["reports"]
    assert {r["ward"] for r in reports} == {"phuong-mau-a", "xa-mau-b"}
    created = await client.post(
        "/api/announcements",
        json={"text": "tin xã B", "groups": ["thon-1"], "ward": "xa-mau-b"},
        headers=AUTH,
    )
    assert created.status_code == 201 and created.json()["total"] == 1
    unnamed = await client.post(
        "/api/announcements", json={"text": "tin", "all": True}, headers=AUTH
    )
    assert unnamed.status_code == 422


async def test_a_province_admin_creates_accounts_in_any_ward(wards: TwoWards) -> None:
    client = wards.running.client
    csrf = await log_in(client, wards.account("tinh", Role.province, None))
    assert 'name="ward"' in (await client.get("/console/staff")).text
    made = await client.post(
        "/console/staff",
        data={"username": "binh", "password": "mat-khau-moi-dai", "role": "admin",
              "ward": "xa-mau-b", "csrf_token": csrf},
    )  # fmt: skip
    assert made.status_code == 200
    unplaced = await client.post(
        "/console/staff",
        data={"username": "dau", "password": "mat-khau-moi-dai", "role": "staff",
              "csrf_token": csrf},
    )  # fmt: skip
    assert unplaced.status_code == 422 and "Hãy chọn phường/xã" in unplaced.text
    db = wards.running.services.db
    binh, dau = staff_by_username(db, "binh"), staff_by_username(db, "dau")
    assert binh is not None and (binh.role, binh.ward) == ("admin", "xa-mau-b")
    assert dau is None
