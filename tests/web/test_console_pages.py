"""Console pages end to end over HTTP: catalogue status and reload, unanswered questions."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.staff import Role
from tests.conftest import API_TOKEN, ROOT, RunningApp, make_settings, start_app
from tests.jobs.test_catalogue_watch import break_handled_by
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import text_event
from tests.web.console_support import log_in, make_staff

pytestmark = pytest.mark.anyio

QUESTION = "xin giấy chào đời cho bé nhà em"


@pytest.fixture
async def editable(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    """The app serving its own copy of procedures.yaml, without the file watcher."""
    procedures = tmp_path / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", procedures)
    settings = make_settings(
        tmp_path, fake_zalo, procedures_path=procedures, catalogue_poll_seconds=0
    )
    async for running in start_app(settings):
        yield running


async def ask(running: RunningApp, fake: FakeZalo, text: str) -> str:
    before = len(fake.sent_messages)
    assert (await running.webhook.post(text_event("resident-9", text))).status_code == 200
    await running.settle()
    return "\n".join(m.text for m in fake.sent_messages[before:])


async def test_a_broken_file_is_refused_and_the_page_names_the_line(
    editable: RunningApp, fake_zalo: FakeZalo
) -> None:
    make_staff(editable.services.db, "admin", Role.admin)
    csrf = await log_in(editable.client, "admin")
    line = break_handled_by(editable.services.settings.procedures_path)
    # The reload imports the edited file (the file watch is on in development): refused.
    response = await editable.client.post("/console/catalogue/reload", data={"csrf_token": csrf})
    assert response.status_code == 422
    assert f"procedures.yaml:{line}:" in response.text
    assert "danh mục cũ vẫn đang phục vụ" in response.text
    assert editable.services.catalogue is not None
    assert editable.services.catalogue.current_version() == 1  # nothing stored
    # The bot still answers from the last good catalogue.
    assert "1.001193" in await ask(editable, fake_zalo, "đăng ký khai sinh")
    # The dashboard warns as well, until the file is fixed.
    assert f"procedures.yaml:{line}:" in (await editable.client.get("/console")).text
    # The bearer-token reload (`wardbot reload`) says the same.
    admin = await editable.client.post(
        "/admin/reload", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert admin.status_code == 422
    assert any(f"procedures.yaml:{line}:" in p for p in admin.json()["problems"])


async def test_catalogue_search_and_reply_preview(editable: RunningApp) -> None:
    make_staff(editable.services.db, "admin", Role.admin)
    await log_in(editable.client, "admin")
    page = await editable.client.get("/console/catalogue", params={"q": "khai sinh"})
    assert "Thủ tục đăng ký khai sinh" in page.text
    assert "Thủ tục đăng ký kết hôn" not in page.text
    preview = await editable.client.get("/console/catalogue", params={"code": "1.001193"})
    assert 'id="preview"' in preview.text and "Mã thủ tục: 1.001193" in preview.text


async def test_an_unanswered_question_added_as_alias_is_answered(
    editable: RunningApp, fake_zalo: FakeZalo
) -> None:
    first = await ask(editable, fake_zalo, QUESTION)
    assert "1.001193" not in first  # the bot did not know it
    make_staff(editable.services.db, "admin", Role.admin)
    csrf = await log_in(editable.client, "admin")
    page = await editable.client.get("/console/unanswered")
    assert QUESTION in page.text
    assert 'name="version" value="1"' in page.text
    procedures = editable.services.settings.procedures_path
    on_disk = procedures.read_text(encoding="utf-8")
    comments = [line for line in on_disk.splitlines() if line.lstrip().startswith("#")]
    response = await editable.client.post(
        "/console/unanswered/add",
        data={
            "csrf_token": csrf,
            "text": QUESTION,
            "code": "1.001193",
            "kind": "aliases",
            "version": "1",
        },
    )
    assert response.status_code == 200, response.text
    assert "Đã thêm" in response.text and "phiên bản 2" in response.text
    # A new version in the database, comments and order kept; the file is left alone.
    store = editable.services.catalogue
    assert store is not None and store.current_version() == 2
    text = store.documents(2)["procedures.yaml"]
    assert f"  - {QUESTION}\n" in text
    assert [line for line in text.splitlines() if line.lstrip().startswith("#")] == comments
    assert procedures.read_text(encoding="utf-8") == on_disk
    info = store.info(2)
    assert info is not None and info.author == "admin" and info.lines_added == 1
    assert "1.001193" in await ask(editable, fake_zalo, QUESTION)


async def test_preview_shows_what_an_alias_would_answer_and_saves_nothing(
    editable: RunningApp, fake_zalo: FakeZalo
) -> None:
    await ask(editable, fake_zalo, QUESTION)
    await ask(editable, fake_zalo, "giấy chào đời cho bé làm ở đâu")
    make_staff(editable.services.db, "admin", Role.admin)
    csrf = await log_in(editable.client, "admin")
    page = await editable.client.get("/console/unanswered")
    assert 'formaction="/console/unanswered/preview"' in page.text
    store = editable.services.catalogue
    assert store is not None and store.current_version() == 1
    procedures = editable.services.settings.procedures_path
    before = procedures.read_text(encoding="utf-8")
    response = await editable.client.post(
        "/console/unanswered/preview",
        data={
            "csrf_token": csrf,
            "text": "giấy chào đời",
            "code": "1.001193",
            "kind": "aliases",
            "version": "1",
        },
    )
    assert response.status_code == 200, response.text
    assert 'id="preview"' in response.text
    assert "Sẽ trả lời được 1 nhóm câu hỏi" in response.text
    assert "Lưu thay đổi này" in response.text
    assert store.current_version() == 1  # nothing saved
    assert procedures.read_text(encoding="utf-8") == before
    assert "1.001193" not in await ask(editable, fake_zalo, QUESTION)

    # The preview's save button carries the version previewed: saved on top of it.
    preview = response.text[response.text.index('id="preview"') :]
    save_form = re.search(
        r'<form method="post" action="/console/unanswered/add".*?</form>', preview, re.S
    )
    assert save_form is not None
    fields = dict(
        re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', save_form[0])
    )
    assert fields["version"] == "1" and fields["text"] == "giấy chào đời"
    saved = await editable.client.post("/console/unanswered/add", data=fields)
    assert saved.status_code == 200, saved.text
    assert store.current_version() == 2
    assert "1.001193" in await ask(editable, fake_zalo, QUESTION)


async def test_adding_to_an_unknown_procedure_is_refused(editable: RunningApp) -> None:
    make_staff(editable.services.db, "admin", Role.admin)
    csrf = await log_in(editable.client, "admin")
    response = await editable.client.post(
        "/console/unanswered/add",
        data={
            "csrf_token": csrf,
            "text": "câu hỏi",
            "code": "9.999999",
            "kind": "aliases",
            "version": "1",
        },
    )
    assert response.status_code == 422
    assert "Không có thủ tục mã 9.999999" in response.text
    assert editable.services.catalogue is not None
    assert editable.services.catalogue.current_version() == 1


async def test_dashboard_counts(running: RunningApp, fake_zalo: FakeZalo) -> None:
    await ask(running, fake_zalo, "đăng ký khai sinh")
    await ask(running, fake_zalo, QUESTION)
    make_staff(running.services.db)
    await log_in(running.client, "canbo")
    page = (await running.client.get("/console")).text
    assert 'id="messages-today">2<' in page
    assert 'id="unanswered">1<' in page
    assert "Tổ dân phố số 1" in page
    assert "Đăng ký khai sinh (1.001193): 1 lượt" in page


async def test_an_addition_naming_a_version_that_does_not_exist_is_refused(
    editable: RunningApp,
) -> None:
    make_staff(editable.services.db, "admin", Role.admin)
    csrf = await log_in(editable.client, "admin")
    fields = {"csrf_token": csrf, "text": "giấy chào đời", "code": "1.001193", "kind": "aliases"}
    stale = await editable.client.post("/console/unanswered/add", data={**fields, "version": "9"})
    assert stale.status_code == 409 and "tải lại trang" in stale.text
    for version in ("0", "99999999999999999999"):
        refused = await editable.client.post(
            "/console/unanswered/add", data={**fields, "version": version}
        )
        assert refused.status_code == 422, version
    assert editable.services.catalogue is not None
    assert editable.services.catalogue.current_version() == 1
