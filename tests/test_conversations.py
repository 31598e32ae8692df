"""Whole conversations through the webhook, with a fake Zalo: what a resident actually sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.catalogue import Procedure
from app.catalogue.facts import deadline_summary, fee_summary
from app.catalogue.models import FeeKind
from app.dialogue.texts import plain
from app.storage.conversations import load_conversation
from app.storage.questions import unanswered_since
from app.storage.tables import UnansweredQuestion
from tests.conftest import ROOT, RunningApp
from tests.support.fake_zalo import FakeMessage, FakeZalo
from tests.support.webhook import echo_event, text_event

pytestmark = pytest.mark.anyio

# A Tuesday 09:00 in Hà Nội: the office is open.
OPEN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
# A Sunday 15:00 in Hà Nội: closed.
CLOSED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class Resident:
    """One resident chatting with the OA; returns what the OA sent back for each message."""

    def __init__(self, running: RunningApp, fake: FakeZalo, user_id: str) -> None:
        self.running, self.fake, self.user_id = running, fake, user_id

    async def says(self, text: str) -> list[FakeMessage]:
        before = len(self.fake.sent_messages)
        response = await self.running.webhook.post(text_event(self.user_id, text))
        assert response.status_code == 200
        await self.running.settle()
        return [m for m in self.fake.sent_messages[before:] if m.user_id == self.user_id]

    async def says_text(self, text: str) -> str:
        return "\n".join(m.text for m in await self.says(text))


def at(running: RunningApp, when: datetime) -> None:
    running.services.inbox.clock = lambda: when


@pytest.fixture
def resident(running: RunningApp, fake_zalo: FakeZalo) -> Resident:
    at(running, OPEN)
    return Resident(running, fake_zalo, "resident-1")


def query_payloads(messages: list[FakeMessage]) -> list[str]:
    return [str(b["payload"]) for m in messages for b in m.buttons if b["type"] == "oa.query.show"]


async def test_clarify_then_press_a_button(resident: Resident) -> None:
    messages = await resident.says("tt")
    assert "ý anh/chị là" in messages[0].text.lower()
    options = query_payloads(messages)
    assert 2 <= len(options) <= 4
    assert "Đăng ký tạm trú" in options and "Đăng ký thường trú" in options
    answer = await resident.says_text("Đăng ký tạm trú")
    assert "1.004194" in answer
    assert "Công an" in answer


async def test_numbered_answer_to_a_clarification(resident: Resident, running: RunningApp) -> None:
    messages = await resident.says("tam tru hay thuong tru")
    options = query_payloads(messages)
    assert len(options) >= 2
    catalogue = running.services.knowledge.current.content.catalogue
    second = next(p for p in catalogue.procedures if p.short_name == options[1])
    answer = await resident.says_text("2")
    assert second.code in answer


async def test_clarification_is_stored_for_admins(resident: Resident, running: RunningApp) -> None:
    await resident.says("tt")
    [row] = unanswered_since(running.services.db)
    assert (row.text, row.kind) == ("tt", "clarify")
    assert "1.004194" in row.candidates


def procedure(running: RunningApp, code: str) -> Procedure:
    found = running.services.knowledge.current.content.catalogue.procedure(code)
    assert found is not None
    return found


def said(text: str | None) -> str:
    """The start of a fact as the bot writes it (abbreviations spelled out)."""
    assert text
    return plain(text).rstrip(" .")[:40]


async def test_detail_question_leads_with_the_detail(
    resident: Resident, running: RunningApp
) -> None:
    answer = await resident.says_text("khai sinh mất bao lâu")
    first_lines = "\n".join(answer.splitlines()[:2])
    assert said(deadline_summary(procedure(running, "1.001193"))) in first_lines


async def test_fee_question(resident: Resident, running: RunningApp) -> None:
    answer = await resident.says_text("phí chứng thực bản sao bao nhiêu")
    assert said(fee_summary(procedure(running, "2.000815"))) in "\n".join(answer.splitlines()[:3])


async def test_followup_refers_to_the_last_procedure(
    resident: Resident, running: RunningApp
) -> None:
    card = await resident.says_text("thủ tục đăng ký kết hôn")
    assert "1.000894" in card
    deadline = said(deadline_summary(procedure(running, "1.000894")))
    followup = await resident.says_text("mất mấy ngày?")
    assert deadline in followup
    fee = await resident.says_text("còn phí thì sao?")
    assert "kết hôn" in fee.lower()


async def test_followup_context_expires(resident: Resident, running: RunningApp) -> None:
    await resident.says_text("thủ tục đăng ký kết hôn")
    at(running, OPEN + timedelta(minutes=31))
    answer = await resident.says_text("mất mấy ngày?")
    assert said(deadline_summary(procedure(running, "1.000894"))) not in answer
    assert "1.000894" not in answer


async def test_handoff_gives_the_phone_and_opening(resident: Resident, running: RunningApp) -> None:
    answer = await resident.says_text("cho tôi gặp cán bộ")
    ward = running.services.knowledge.current.content.catalogue.ward
    assert ward.contacts["general"].phone in answer or "Gọi" in answer
    state = load_conversation(running.services.db, "388613280878808645", resident.user_id)
    assert state["waiting_for_staff"] is True


async def test_handoff_when_closed_says_when_it_opens(
    resident: Resident, running: RunningApp
) -> None:
    at(running, CLOSED)
    answer = await resident.says_text("nói chuyện với người thật")
    assert "07:30" in answer


async def test_staff_takeover_silences_the_bot_for_a_while(
    resident: Resident, running: RunningApp, fake_zalo: FakeZalo
) -> None:
    await resident.says_text("gặp cán bộ")
    await running.webhook.post(echo_event(resident.user_id, "Chào anh", admin_id="admin-1"))
    await running.settle()
    assert await resident.says("thủ tục khai tử") == []
    quiet = running.services.settings.staff_takeover_minutes
    at(running, OPEN + timedelta(minutes=quiet + 1))
    assert await resident.says_text("thủ tục khai tử")


async def test_out_of_scope_gets_a_polite_fallback_then_a_person(
    resident: Resident, running: RunningApp
) -> None:
    first = await resident.says_text("giá vàng hôm nay bao nhiêu")
    assert "1.00" not in first and "2.00" not in first  # no procedure presented
    second = await resident.says_text("asdfgh qwerty")
    ward = running.services.knowledge.current.content.catalogue.ward
    assert any(c.phone in second for c in ward.contacts.values())
    rows = unanswered_since(running.services.db)
    assert [r.text for r in rows][:2] == ["giá vàng hôm nay bao nhiêu", "asdfgh qwerty"]
    assert all(isinstance(r, UnansweredQuestion) for r in rows)


async def test_police_matters_are_redirected(resident: Resident) -> None:
    answer = await resident.says_text("đăng ký tạm trú cho người thuê nhà")
    assert "Công an" in answer


async def test_menu_then_category(resident: Resident) -> None:
    messages = await resident.says("menu")
    text = messages[0].text
    assert "Hộ tịch" in text and "Chứng thực" in text
    listing = await resident.says_text("Chứng thực")
    assert "bản sao" in listing.lower()


async def test_a_fields_phone_and_the_hours_on_a_given_day(resident: Resident) -> None:
    phone = await resident.says_text("số của chị bên hộ tịch")
    assert "0200 000 0001" in phone.splitlines()[0]
    saturday = await resident.says_text("thứ bảy có mở cửa không")
    assert saturday.startswith("Dạ, Thứ Bảy")
    assert "07:30–11:30" in saturday.splitlines()[0]
    holiday = await resident.says_text("30/4 có làm việc không")
    assert "nghỉ lễ" in holiday


# --- what to bring, how long, how much: the core promise, for every record ------------------


async def test_situations_by_button_by_number_then_notes_and_the_full_view(
    resident: Resident, running: RunningApp
) -> None:
    thuong_tru = procedure(running, "1.004222")
    assert thuong_tru.plain is not None and len(thuong_tru.plain.cases) >= 3
    first, second, third = thuong_tru.plain.cases[:3]
    messages = await resident.says("đăng ký thường trú cần giấy tờ gì")
    assert len(messages) == 1
    buttons = query_payloads(messages)
    assert f"{thuong_tru.short_name}: {first.title}" in buttons
    # A button: that situation's documents, and only those.
    answer = await resident.says_text(f"{thuong_tru.short_name}: {second.title}")
    assert plain(second.documents[0]) in answer
    assert plain(third.documents[0]) not in answer
    # The situations stay numbered: the resident may pick another by its number.
    answer = await resident.says_text("3")
    assert plain(third.documents[0]) in answer
    notes = await resident.says_text("còn lưu ý gì")
    assert plain(thuong_tru.plain.notes[0]) in notes
    full = await resident.says("Xem đầy đủ")
    text = "\n".join(m.text for m in full)
    assert len(text) > 2000 and 1 < len(full) <= 3  # the record's first page
    assert thuong_tru.documents.forms[0][:60] in text


async def read_every_page(resident: Resident, payload: str) -> list[list[FakeMessage]]:
    """Press a full view button, then "Xem tiếp" while it is offered: the messages of each tap."""
    taps = [await resident.says(payload)]
    while more := [p for p in query_payloads(taps[-1]) if p.startswith("Xem đầy đủ")]:
        assert len(taps) < 20, "Xem tiếp never ends"
        [payload] = more
        taps.append(await resident.says(payload))
    return taps


async def test_the_full_view_button_names_its_procedure(resident: Resident) -> None:
    messages = await resident.says("đăng ký giám hộ mất bao lâu")
    [payload] = [p for p in query_payloads(messages) if p.startswith("Xem đầy đủ")]
    taps = await read_every_page(resident, payload)
    assert len(taps) > 1
    full = "\n".join(m.text for tap in taps for m in tap)
    assert "1.004837" in taps[0][0].text and "\nCăn cứ pháp lý:\n" in full


async def test_a_long_record_comes_three_messages_a_tap(
    resident: Resident, running: RunningApp
) -> None:
    """The longest record (27 messages in one go before it was paged): each tap sends at most
    three, each but the last says what is left, and together they hold the whole record."""
    proc = procedure(running, "1.013225")
    taps = await read_every_page(resident, f"Xem đầy đủ: {proc.short_name}")
    assert len(taps) > 5
    assert all(1 <= len(tap) <= 3 for tap in taps)
    for number, tap in enumerate(taps[:-1], start=1):
        assert f"Đây là trang {number}/{len(taps)}. Còn: " in tap[-1].text
    full = " ".join(" ".join(m.text for tap in taps for m in tap).split())
    for line in [*proc.legal_basis, *proc.result, *proc.documents.forms]:
        assert " ".join(plain(line).split()) in full


def _record_codes() -> list[str]:
    import yaml

    facts = ROOT.parent / "shared" / "reference" / "facts"
    records = []
    for path in sorted(facts.glob("*.yaml")):
        if yaml.safe_load(path.read_text(encoding="utf-8")).get("status") != "no_record":
            records.append(path.stem)
    return records


RECORD_CODES = _record_codes()


@pytest.mark.skipif(not RECORD_CODES, reason="shared reference facts not present")
async def test_every_record_answers_what_how_long_how_much(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    """For each procedure with a record, through the webhook, by its name and by its official
    name: the documents (never "missing"), the record's deadline, and the fee (an amount, free,
    or set by the province)."""
    assert len(RECORD_CODES) == 59
    problems: list[str] = []
    at(running, OPEN)
    for code in RECORD_CODES:
        proc = procedure(running, code)
        # One resident per procedure: seven messages stay under the per-minute limit.
        resident = Resident(running, fake_zalo, f"resident-{code}")
        for name in (proc.short_name, proc.name):
            docs = await resident.says_text(f"{name} cần giấy tờ gì")
            if "chưa có thông tin chính thức về thành phần hồ sơ" in docs or code not in (
                await resident.says_text(f"Xem đầy đủ: {proc.short_name}")
            ):
                problems.append(f"{code} documents")
            expected = (
                [*proc.plain.documents, *(c.label for c in proc.plain.cases)] if proc.plain else []
            )
            if not any(plain(d)[:50] in docs for d in expected):
                problems.append(f"{code} documents not listed")
            deadline = await resident.says_text(f"{name} mất bao lâu")
            if said(deadline_summary(proc)) not in deadline:
                problems.append(f"{code} deadline")
            fee = await resident.says_text(f"{name} hết bao nhiêu tiền")
            lead = "\n".join(fee.splitlines()[:3])
            if said(fee_summary(proc)) not in lead:
                problems.append(f"{code} fee")
            if proc.fee_kind is FeeKind.province and "tỉnh" not in lead:
                problems.append(f"{code} fee: the province sets it")
    assert problems == []
