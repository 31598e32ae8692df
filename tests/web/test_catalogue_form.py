"""The fact form over HTTP: an admin edits what residents read, saved as a new catalogue
version that keeps procedures.yaml's comments and order (the file on disk is left alone), the bot
answers with it at once; invalid input is refused in Vietnamese, a stale form as a conflict."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.catalogue import Catalogue, load_catalogue, load_documents
from app.catalogue.documents import PROCEDURES
from app.catalogue.models import FeeKind
from app.catalogue_store import CatalogueStore
from app.staff import Role
from tests.conftest import ROOT, RunningApp, make_settings, start_app
from tests.support.catalogue import with_alias
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import text_event
from tests.web.console_support import csrf_in, log_in, make_staff

pytestmark = pytest.mark.anyio

CODE = "1.004837"  # đăng ký giám hộ: a record, a plain version with two situations


@pytest.fixture
async def editable(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    procedures = tmp_path / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", procedures)
    settings = make_settings(
        tmp_path, fake_zalo, procedures_path=procedures, catalogue_poll_seconds=0
    )
    async for running in start_app(settings):
        yield running


async def ask(running: RunningApp, fake: FakeZalo, text: str) -> str:
    before = len(fake.sent_messages)
    assert (await running.webhook.post(text_event("resident-form", text))).status_code == 200
    await running.settle()
    return "\n".join(m.text for m in fake.sent_messages[before:])


def store_of(running: RunningApp) -> CatalogueStore:
    store = running.services.catalogue
    assert store is not None
    return store


def current_text(running: RunningApp) -> str:
    """procedures.yaml as the database's current catalogue version holds it."""
    store = store_of(running)
    version = store.current_version()
    assert version is not None
    return store.documents(version)[PROCEDURES]


def current_catalogue(running: RunningApp) -> Catalogue:
    store = store_of(running)
    version = store.current_version()
    assert version is not None
    return load_documents(store.documents(version)).catalogue


def form_of(html: str) -> dict[str, str]:
    """The form as the browser would submit it unchanged (text fields, hidden version and the
    selected kind)."""
    import re

    fields: dict[str, str] = {"csrf_token": csrf_in(html)}
    version = re.search(r'<input type="hidden" name="version" value="(\d+)" required>', html)
    assert version is not None
    fields["version"] = version.group(1)
    for name, value in re.findall(r'<input type="text"[^>]*name="([^"]+)" value="([^"]*)"', html):
        fields[name] = value
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        fields[name] = value.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    selected = re.search(r'<option value="([a-z]+)" selected>', html)
    assert selected is not None
    fields["fee_kind"] = selected.group(1)
    return fields


async def test_an_admin_edits_the_fee_and_the_province_figure(
    editable: RunningApp, fake_zalo: FakeZalo
) -> None:
    make_staff(editable.services.db, "admin", Role.admin)
    await log_in(editable.client, "admin")
    path = editable.services.settings.procedures_path
    on_disk = path.read_text(encoding="utf-8")
    before = current_text(editable)
    base = store_of(editable).current_version()
    page = await editable.client.get(f"/console/catalogue/{CODE}/edit")
    assert page.status_code == 200 and "Giám hộ đương nhiên" in page.text
    fields = form_of(page.text)
    fields.update(
        fee="Lệ phí do Hội đồng nhân dân tỉnh quy định.",
        fee_kind="province",
        local_amount="5.000 đồng/việc",
        local_basis="Nghị quyết số 09/2026/NQ-HĐND",
    )
    saved = await editable.client.post(f"/console/catalogue/{CODE}/edit", data=fields)
    assert saved.status_code == 303
    assert base is not None and store_of(editable).current_version() == base + 1
    assert saved.headers["location"].endswith(f"saved={base + 1}")
    info = store_of(editable).info(base + 1)
    assert info is not None and info.author == "admin" and info.origin == "console"
    after = current_text(editable)
    # Comments kept; the other procedures untouched; the file on disk left alone.
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == [
        line for line in before.splitlines() if line.lstrip().startswith("#")
    ]
    assert path.read_text(encoding="utf-8") == on_disk
    catalogue = current_catalogue(editable)
    proc = catalogue.procedure(CODE)
    assert proc is not None and proc.plain is not None
    assert proc.plain.fee_kind is FeeKind.province and len(proc.plain.cases) == 2
    assert proc.plain.contradictions  # the engineers' note the form does not show is kept
    assert catalogue.ward.local_fees[CODE].amount == "5.000 đồng/việc"
    others = [p for p in catalogue.procedures if p.code != CODE]
    old = load_catalogue(ROOT / "procedures.yaml")
    assert others == [p for p in old.procedures if p.code != CODE]
    # Served at once.
    answer = await ask(editable, fake_zalo, "đăng ký giám hộ hết bao nhiêu tiền")
    assert "5.000 đồng/việc" in answer and "Nghị quyết số 09/2026/NQ-HĐND" in answer
    listing = await editable.client.get(saved.headers["location"])
    assert f"Đã lưu thông tin thủ tục (phiên bản {base + 1})" in listing.text
    assert "Mức của tỉnh" in listing.text

    # Taking the figure out removes it from the ward profile (a form made from the new version).
    fields = form_of((await editable.client.get(f"/console/catalogue/{CODE}/edit")).text)
    assert fields["version"] == str(base + 1)
    fields.update(local_amount="", local_basis="")
    assert (
        await editable.client.post(f"/console/catalogue/{CODE}/edit", data=fields)
    ).status_code == 303
    assert CODE not in current_catalogue(editable).ward.local_fees


async def test_invalid_input_is_refused_in_vietnamese_and_nothing_changes(
    editable: RunningApp,
) -> None:
    make_staff(editable.services.db, "admin", Role.admin)
    await log_in(editable.client, "admin")
    base = store_of(editable).current_version()
    fields = form_of((await editable.client.get(f"/console/catalogue/{CODE}/edit")).text)
    fields.update(case_title_0="Một tên nút dài hơn hai mươi ký tự", deadline="")
    refused = await editable.client.post(f"/console/catalogue/{CODE}/edit", data=fields)
    assert refused.status_code == 422
    assert "tối đa 20 ký tự" in refused.text and "không được để trống" in refused.text
    assert store_of(editable).current_version() == base
    # A provincial figure for a fee the record fixes nationally is refused too.
    fixed = current_catalogue(editable).procedure("2.001019")
    assert fixed is not None and fixed.fee_kind is FeeKind.fixed
    fields = form_of((await editable.client.get("/console/catalogue/2.001019/edit")).text)
    fields.update(local_amount="1 đồng")
    refused = await editable.client.post("/console/catalogue/2.001019/edit", data=fields)
    assert refused.status_code == 422 and "không hợp lệ" in refused.text
    assert store_of(editable).current_version() == base


async def test_staff_cannot_edit_facts(editable: RunningApp) -> None:
    make_staff(editable.services.db, "lan", Role.staff)
    csrf = await log_in(editable.client, "lan")
    assert (await editable.client.get(f"/console/catalogue/{CODE}/edit")).status_code == 403
    posted = await editable.client.post(
        f"/console/catalogue/{CODE}/edit", data={"csrf_token": csrf, "deadline": "x"}
    )
    assert posted.status_code == 403


async def test_the_catalogue_page_shows_completeness(editable: RunningApp) -> None:
    make_staff(editable.services.db, "admin", Role.admin)
    await log_in(editable.client, "admin")
    page = (await editable.client.get("/console/catalogue")).text
    assert 'id="completeness"' in page
    assert 'id="row-2.001283"' in page and "Chưa có" in page
    assert "Văn bản dễ hiểu" in page and f"/console/catalogue/{CODE}/edit" in page


async def test_a_form_made_from_an_older_version_is_refused_and_overwrites_nothing(
    editable: RunningApp,
) -> None:
    """The form replaces the procedure's facts: saved on top of a version another admin has
    moved on from, it would undo their edit, so it is refused until the page is reloaded."""
    make_staff(editable.services.db, "admin", Role.admin)
    await log_in(editable.client, "admin")
    store = store_of(editable)
    fields = form_of((await editable.client.get(f"/console/catalogue/{CODE}/edit")).text)
    base = int(fields["version"])
    # Meanwhile another admin adds a name for the same procedure.
    other = store.edit(
        PROCEDURES,
        lambda text: with_alias(text, "nhận nuôi giám hộ cháu mồ côi", CODE),
        base=base,
        author="hoa",
        reason="another admin",
    )
    assert other is not None
    fields.update(deadline="Trong ngày làm việc.")
    stale = await editable.client.post(f"/console/catalogue/{CODE}/edit", data=fields)
    assert stale.status_code == 409
    assert "Danh mục vừa được người khác cập nhật, vui lòng tải lại trang và thử lại" in stale.text
    assert store.current_version() == other.version
    assert "Trong ngày làm việc." not in current_text(editable)
    # The admin's text is still on the page, with the version it was made from.
    assert "Trong ngày làm việc." in stale.text and form_of(stale.text)["version"] == str(base)
    # This process serves the other admin's version now; a reloaded form saves on top of it.
    assert editable.services.knowledge.version == other.version
    fields = form_of((await editable.client.get(f"/console/catalogue/{CODE}/edit")).text)
    assert fields["version"] == str(other.version)
    fields.update(deadline="Trong ngày làm việc.")
    saved = await editable.client.post(f"/console/catalogue/{CODE}/edit", data=fields)
    assert saved.status_code == 303
    text = current_text(editable)
    assert "Trong ngày làm việc." in text and "  - nhận nuôi giám hộ cháu mồ côi\n" in text


async def test_a_form_without_a_version_it_was_made_from_is_refused(editable: RunningApp) -> None:
    make_staff(editable.services.db, "admin", Role.admin)
    await log_in(editable.client, "admin")
    base = store_of(editable).current_version()
    fields = form_of((await editable.client.get(f"/console/catalogue/{CODE}/edit")).text)
    for version in (None, "", "abc", "0", "-1", "99999999999999999999", "1" * 5000):
        if version is None:
            del fields["version"]
        else:
            fields["version"] = version
        refused = await editable.client.post(f"/console/catalogue/{CODE}/edit", data=fields)
        assert refused.status_code == 422 and "tải lại trang" in refused.text, version
    # A version that does not exist is answered like a stale one.
    fields["version"] = "999999"
    stale = await editable.client.post(f"/console/catalogue/{CODE}/edit", data=fields)
    assert stale.status_code == 409 and "tải lại trang" in stale.text
    assert store_of(editable).current_version() == base
