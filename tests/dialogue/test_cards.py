"""Procedure replies, rendered from the real procedures.yaml (and from it without its plain
versions, as the bot answers until a plain version is written).

The rules under test: every fact shown comes from the procedure itself; a fact the catalogue
lacks is said to be missing, with the portal link and the right phone line; a first answer fits
in one Zalo message, documents before notes; no research note reaches a resident.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.booking.calendar import counter_for
from app.catalogue import Catalogue, load_catalogue
from app.catalogue.facts import deadline_summary, fee_summary
from app.catalogue.lint import markers
from app.catalogue.models import Documents, FeeKind, HandledBy, LocalFee
from app.dialogue import cards
from app.dialogue.cards import (
    ASPECTS,
    case_reply,
    procedure_detail,
    procedure_details,
    procedure_summary,
)
from app.dialogue.documents import case_label
from app.dialogue.pieces import display_name
from app.dialogue.reply import MESSAGE_LIMIT, ButtonKind, Reply
from app.dialogue.texts import plain
from app.zalo.split import TEXT_LIMIT

from .support import assert_well_formed, contact_of, document_texts, full_text, without_plain

ROOT = Path(__file__).resolve().parents[2]
ALL = load_catalogue(ROOT / "procedures.yaml").procedures
CODES = [p.code for p in ALL]
KNOWN_DOCS = [p.code for p in ALL if p.documents.known]
UNKNOWN_DOCS = [p.code for p in ALL if not p.documents.known]
POLICE = [p.code for p in ALL if p.handled_by is HandledBy.police]
MILITARY = [p.code for p in ALL if p.handled_by is HandledBy.military]
NO_DEADLINE = [p.code for p in ALL if deadline_summary(p) is None]
NO_CHANNELS = [p.code for p in ALL if p.channels is None]
WITH_CASES = [p.code for p in ALL if p.plain is not None and p.plain.cases]
RECORDS = [p.code for p in ALL if p.deadlines]


def first_lines(reply: Reply, count: int) -> str:
    return "\n".join(reply.text.splitlines()[:count])


def fits(reply: Reply) -> bool:
    return len(unicodedata.normalize("NFC", reply.text)) <= MESSAGE_LIMIT


def every_first_answer(catalogue: Catalogue) -> Iterator[tuple[str, Reply]]:
    """Every reply a resident can get without asking for the full view."""
    for proc in catalogue.procedures:
        yield f"{proc.code} summary", procedure_summary(proc, catalogue)
        for aspect in ASPECTS:
            yield f"{proc.code} {aspect}", procedure_detail(proc, aspect, catalogue)
        yield (
            f"{proc.code} documents+deadline",
            procedure_details(proc, ("documents", "deadline"), catalogue),
        )
        yield f"{proc.code} fee+where", procedure_details(proc, ("fee", "where"), catalogue)
        for index in range(len(proc.plain.cases) if proc.plain else 0):
            yield f"{proc.code} case {index}", case_reply(proc, index, catalogue)


@pytest.fixture(scope="module", params=["plain", "records"])
def each_catalogue(request: pytest.FixtureRequest, catalogue: Catalogue) -> Catalogue:
    return catalogue if request.param == "plain" else without_plain(catalogue)


# --- one message, no research notes ---------------------------------------------------------


def test_the_limit_is_zalos() -> None:
    assert MESSAGE_LIMIT == TEXT_LIMIT


def test_every_first_answer_fits_in_one_message(each_catalogue: Catalogue) -> None:
    too_long = [
        (what, len(reply.text))
        for what, reply in every_first_answer(each_catalogue)
        if not fits(reply)
    ]
    assert too_long == []


def test_no_research_note_in_any_reply(each_catalogue: Catalogue) -> None:
    found: list[tuple[str, list[str]]] = []
    for what, reply in every_first_answer(each_catalogue):
        shown = "\n".join([reply.text, *(b.title for b in reply.buttons)])
        if hits := markers(shown):
            found.append((what, hits))
    assert found == []


def test_every_first_answer_is_well_formed(each_catalogue: Catalogue) -> None:
    for _, reply in every_first_answer(each_catalogue):
        assert_well_formed(reply)
        for button in reply.buttons:
            assert len(button.title) <= 20, button.title


# --- what to bring --------------------------------------------------------------------------


@pytest.mark.parametrize("code", KNOWN_DOCS)
def test_documents_come_first_and_are_never_said_missing(
    each_catalogue: Catalogue, code: str
) -> None:
    proc = each_catalogue.procedure(code)
    assert proc is not None
    text = procedure_detail(proc, "documents", each_catalogue).text
    assert "chưa có thông tin chính thức về thành phần hồ sơ" not in text
    if proc.plain is not None:
        expected = [*proc.plain.documents] or [proc.plain.cases[0].label]
    else:
        expected = [*document_texts(proc.documents)]
    first = plain(expected[0])
    assert first in text or plain(case_label(expected[0])) in text
    if "\n\nLưu ý:\n" in text:
        assert text.index("\n\nLưu ý:\n") > text.index(first)


@pytest.mark.parametrize("code", KNOWN_DOCS)
def test_what_does_not_fit_is_one_tap_or_one_question_away(code: str, catalogue: Catalogue) -> None:
    """The first answer shows everything of the plain version it can, and says how to get the
    rest: the full view always, "còn lưu ý gì" when notes were left out."""
    records = without_plain(catalogue)
    for source in (catalogue, records):
        proc = source.procedure(code)
        assert proc is not None
        reply = procedure_detail(proc, "documents", source)
        assert any(b.payload == f"Xem đầy đủ: {proc.short_name}" for b in reply.buttons)
        notes = proc.plain.notes if proc.plain else proc.documents.notes
        shown = [n for n in notes if plain(n) in reply.text]
        if len(shown) < len(notes):
            assert "còn lưu ý gì" in reply.text, code
            notes_reply = procedure_detail(proc, "notes", source)
            assert plain(notes[len(shown)]) in notes_reply.text or "Còn" in notes_reply.text


@pytest.mark.parametrize("code", WITH_CASES)
def test_situations_are_asked_not_poured_out(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None and proc.plain is not None
    reply = procedure_detail(proc, "documents", catalogue)
    cases = proc.plain.cases
    for index, case in enumerate(cases, start=1):
        assert f"{index}. {plain(case.label)}" in reply.text
    # Only the situations' names: no situation's own documents in the question.
    own = [plain(d) for c in cases for d in c.documents if d not in proc.plain.documents]
    assert [d for d in own if d in reply.text] == []
    buttons = [b for b in reply.buttons if b.payload.startswith(f"{proc.short_name}: ")]
    assert [b.title for b in buttons] == [c.title for c in cases[: cards.MAX_CASE_BUTTONS]]
    assert any(b.title == "Xem đầy đủ" for b in reply.buttons)


@pytest.mark.parametrize("code", WITH_CASES)
def test_a_situation_lists_its_documents_and_the_common_ones(
    catalogue: Catalogue, code: str
) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None and proc.plain is not None
    for index, case in enumerate(proc.plain.cases):
        text = case_reply(proc, index, catalogue).text
        assert plain(case.label).rstrip(".") in first_lines(Reply(text), 1)
        for document in (*proc.plain.documents, *case.documents):
            assert plain(document) in text
        lines = set(text.splitlines())
        others = [d for c in proc.plain.cases if c is not case for d in c.documents]
        assert [d for d in others if d not in case.documents and f"• {plain(d)}" in lines] == []


def test_notes_follow_up(catalogue: Catalogue) -> None:
    with_notes = next(p for p in catalogue.procedures if p.plain and p.plain.notes)
    text = procedure_detail(with_notes, "notes", catalogue).text
    assert text.startswith("Dạ, lưu ý")
    assert with_notes.plain is not None
    for note in with_notes.plain.notes:
        assert plain(note) in text
    bare = with_notes.model_copy(update={"plain": None, "documents": Documents(status="unknown")})
    said = procedure_detail(bare, "notes", catalogue).text
    assert "không có thêm lưu ý" in said


@pytest.mark.parametrize("code", UNKNOWN_DOCS)
def test_unknown_documents_are_said_missing_and_nothing_is_invented(
    catalogue: Catalogue, code: str
) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    for text in (full_text(proc, catalogue), procedure_detail(proc, "documents", catalogue).text):
        assert "chưa có thông tin chính thức về thành phần hồ sơ" in text
        assert contact_of(proc, catalogue).phone in text
        assert proc.dvc.best_url in text
        assert "Giấy tờ cần nộp:" not in text and "Giấy tờ cần xuất trình:" not in text
        known = [p for p in catalogue.procedures if p.documents.known]
        leaked = [d for p in known for d in document_texts(p.documents) if d in text]
        assert leaked == []


@pytest.mark.parametrize("code", POLICE)
def test_police_summaries_send_residents_to_the_police_first(
    catalogue: Catalogue, code: str
) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    police = catalogue.ward.police
    text = procedure_summary(proc, catalogue).text
    first_paragraph = text.split("\n\n")[0]
    assert "do Công an cấp xã giải quyết" in first_paragraph
    assert "không nộp tại Trung tâm Phục vụ hành chính công" in first_paragraph
    assert police.name in first_paragraph and police.address in first_paragraph
    assert police.phone and police.phone in first_paragraph
    assert text.index(first_paragraph) < text.index("📋")
    assert "Cơ quan giải quyết" not in text
    # The one-stop's address would send the resident to the wrong office.
    assert catalogue.ward.address not in text


def test_one_stop_summaries_carry_no_redirect(catalogue: Catalogue) -> None:
    for proc in catalogue.procedures:
        if proc.handled_by is HandledBy.one_stop:
            text = procedure_summary(proc, catalogue).text
            assert "do Công an cấp xã giải quyết" not in text, proc.code
            assert "do Ban Chỉ huy quân sự" not in text, proc.code
            assert text.startswith("Dạ, em gửi anh/chị")


# --- deadline and fee -----------------------------------------------------------------------


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("code", CODES)
def test_every_detail_renders_with_the_full_view_offer(
    catalogue: Catalogue, code: str, aspect: str
) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    reply = procedure_detail(proc, aspect, catalogue)
    assert_well_formed(reply)
    if cards.offered_cases(proc, [aspect]):
        return  # tested above: the situations come first
    full, *book, portal, call = reply.buttons
    # Booking a visit, where the ward takes bookings for the procedure (app.booking).
    bookable = counter_for(catalogue.ward, proc) is not None
    assert [(b.title, b.payload) for b in book] == (
        [("Đặt lịch", f"Đặt lịch: {proc.short_name}")] if bookable else []
    )
    assert (full.title, full.kind, full.payload) == (
        "Xem đầy đủ",
        ButtonKind.query,
        f"Xem đầy đủ: {proc.short_name}",
    )
    assert (portal.kind, portal.payload) == (ButtonKind.url, proc.dvc.best_url)
    assert (call.kind, call.payload) == (ButtonKind.phone, contact_of(proc, catalogue).dial)


@pytest.mark.parametrize("code", [c for c in CODES if c not in NO_DEADLINE])
def test_the_deadline_leads_the_reply(each_catalogue: Catalogue, code: str) -> None:
    proc = each_catalogue.procedure(code)
    assert proc is not None
    deadline = deadline_summary(proc)
    assert deadline is not None
    reply = procedure_detail(proc, "deadline", each_catalogue)
    assert reply.text.startswith(f"Dạ, thời hạn giải quyết thủ tục {display_name(proc)}")
    assert plain(deadline).rstrip(" .") in first_lines(reply, 2)


@pytest.mark.parametrize("code", RECORDS)
def test_a_record_deadline_is_said_in_vietnamese_and_honestly(
    code: str, catalogue: Catalogue
) -> None:
    records = without_plain(catalogue)
    proc = records.procedure(code)
    assert proc is not None
    said = first_lines(procedure_detail(proc, "deadline", records), 2)
    for deadline in proc.deadlines:
        if deadline.unit.value == "không rõ đơn vị":
            assert "không ghi" in said
        else:
            assert f"{deadline.time} {deadline.unit.value}" in said


@pytest.mark.parametrize("code", NO_DEADLINE)
def test_unknown_deadline_says_so_with_link_and_phone(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    reply = procedure_detail(proc, "deadline", catalogue)
    assert "chưa có thông tin chính thức về thời hạn giải quyết" in first_lines(reply, 1)
    assert contact_of(proc, catalogue).phone in reply.text
    assert proc.dvc.best_url in reply.text
    assert "ngày làm việc" not in reply.text


@pytest.mark.parametrize("code", [p.code for p in ALL if fee_summary(p) is not None])
def test_the_fee_leads_the_reply(each_catalogue: Catalogue, code: str) -> None:
    proc = each_catalogue.procedure(code)
    assert proc is not None
    fee = fee_summary(proc)
    assert fee is not None
    reply = procedure_detail(proc, "fee", each_catalogue)
    assert plain(fee).rstrip(" .") in first_lines(reply, 3)


def test_a_fee_the_province_sets_is_never_free(catalogue: Catalogue) -> None:
    records = without_plain(catalogue)
    checked = 0
    for source in (catalogue, records):
        for proc in source.procedures:
            if proc.fee_kind is not FeeKind.province:
                continue
            checked += 1
            lead = first_lines(procedure_detail(proc, "fee", source), 3).lower()
            assert "tỉnh" in lead, proc.code
            if proc.plain is None and proc.fee is None:
                assert "miễn" not in lead and "không thu" not in lead and "0 đồng" not in lead
    assert checked > 20


def test_a_local_fee_is_shown_where_the_province_sets_it(catalogue: Catalogue) -> None:
    proc = next(p for p in catalogue.procedures if p.fee_kind is FeeKind.province)
    local = LocalFee(amount="12.000 đồng/việc", basis="Nghị quyết số 01/2026/NQ-HĐND")
    ward = catalogue.ward.model_copy(update={"local_fees": {proc.code: local}})
    with_fee = catalogue.model_copy(update={"ward": ward})
    for reply in (
        procedure_detail(proc, "fee", with_fee),
        procedure_summary(proc, with_fee),
        Reply(full_text(proc, with_fee)),
    ):
        assert f"Mức thu tại {ward.province}: 12.000 đồng/việc" in reply.text
        assert "Nghị quyết số 01/2026/NQ-HĐND" in reply.text
    assert "12.000 đồng/việc" not in procedure_detail(proc, "fee", catalogue).text
    # A fee the record fixes nationally is never overridden by a provincial figure.
    fixed = next(p for p in catalogue.procedures if p.fee_kind is FeeKind.fixed)
    ward = catalogue.ward.model_copy(update={"local_fees": {fixed.code: local}})
    assert (
        "12.000"
        not in procedure_detail(fixed, "fee", catalogue.model_copy(update={"ward": ward})).text
    )


# --- where, online, steps -------------------------------------------------------------------


def test_where_for_the_one_stop_gives_the_address_and_hours(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001193")
    assert proc is not None
    reply = procedure_detail(proc, "where", catalogue)
    assert catalogue.ward.address in first_lines(reply, 2)
    assert "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00" in reply.text
    assert "Trực tuyến (Cổng Dịch vụ công quốc gia hoặc VNeID)" in reply.text


@pytest.mark.parametrize("code", POLICE)
def test_where_for_the_police_leads_with_the_police(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    police = catalogue.ward.police
    reply = procedure_detail(proc, "where", catalogue)
    assert "do Công an cấp xã giải quyết" in first_lines(reply, 1)
    assert reply.text.count("do Công an cấp xã giải quyết") == 1
    assert police.address in first_lines(reply, 4)
    # The ward's office hours are not the police's: they are not shown as if they were.
    assert "Giờ tiếp nhận" not in reply.text
    assert catalogue.ward.address not in reply.text


@pytest.mark.parametrize("code", POLICE)
@pytest.mark.parametrize("aspect", ["deadline", "fee", "documents", "online", "steps"])
def test_police_details_mention_the_police_after_the_answer(
    catalogue: Catalogue, code: str, aspect: str
) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    paragraphs = procedure_detail(proc, aspect, catalogue).text.split("\n\n")
    assert "do Công an cấp xã giải quyết" not in paragraphs[0]
    assert paragraphs[1].startswith("Lưu ý: thủ tục này do Công an cấp xã giải quyết")
    assert catalogue.ward.police.name in paragraphs[1]


def test_online_answers(catalogue: Catalogue) -> None:
    def lead(code: str) -> str:
        proc = catalogue.procedure(code)
        assert proc is not None
        return first_lines(procedure_detail(proc, "online", catalogue), 1)

    assert "có thể nộp trực tuyến" in lead("1.001193")
    assert "chưa nhận hồ sơ trực tuyến" in lead("2.000815")
    assert "chưa có thông tin chính thức về việc nộp hồ sơ trực tuyến" in lead(NO_CHANNELS[0])


def test_online_answer_shows_only_online_channels(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001612")
    assert proc is not None and proc.channels and "bưu chính" in proc.channels
    text = procedure_detail(proc, "online", catalogue).text
    assert "Trực tuyến" in text
    assert "bưu chính" not in text and catalogue.ward.address not in text


def test_steps_are_built_from_known_facts(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001193")
    assert proc is not None and proc.result
    deadline = deadline_summary(proc)
    assert deadline
    text = procedure_detail(proc, "steps", catalogue).text
    for number in ("1. ", "2. ", "3. ", "4. "):
        assert f"\n{number}" in text
    assert plain(deadline).rstrip(" .") in text and plain(proc.result[0]) in text


def test_steps_with_unknown_facts_say_so(catalogue: Catalogue) -> None:
    proc = catalogue.procedure(UNKNOWN_DOCS[0])
    assert proc is not None
    text = procedure_detail(proc, "steps", catalogue).text
    assert "chưa có thông tin chính thức về danh sách giấy tờ" in text
    assert "chưa có thông tin chính thức về thời hạn" in text
    assert contact_of(proc, catalogue).phone in text and proc.dvc.best_url in text


def test_unknown_aspect_is_a_caller_bug(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001193")
    assert proc is not None
    with pytest.raises(ValueError, match="unknown aspect"):
        procedure_detail(proc, "price", catalogue)
    with pytest.raises(ValueError):
        procedure_details(proc, (), catalogue)


def test_two_aspects_in_one_reply(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.004194")
    assert proc is not None
    reply = procedure_details(proc, ("documents", "deadline"), catalogue)
    assert_well_formed(reply)
    text = reply.text
    assert "giấy tờ" in text and "thời hạn giải quyết" in text.lower()
    assert text.count("Dạ,") == 1
    assert text.count("do Công an cấp xã giải quyết") == 1
    assert text.count("Xem đầy đủ") == 1
    assert fits(reply)


def test_display_name_spells_out_a_cut_short_name(catalogue: Catalogue) -> None:
    real = catalogue.procedure("1.014027")
    whole = catalogue.procedure("1.001193")
    assert real is not None and whole is not None
    # A short name cut mid-phrase to fit a button, as an admin might write one.
    cut = real.model_copy(update={"short_name": "Thực hiện, điều chỉnh, thôi hưởng trợ"})
    assert display_name(cut) == "Thực hiện, điều chỉnh, thôi hưởng trợ cấp hưu trí xã hội"
    assert display_name(whole) == "Đăng ký khai sinh"
    # A short name that was chosen, not cut, stays: the official name adds only noise here.
    chosen = catalogue.procedure("1.013225")
    assert chosen is not None and chosen.name != chosen.short_name
    assert display_name(chosen) == chosen.short_name
    real_long = catalogue.procedure("2.000815")
    assert real_long is not None
    long_name = real_long.model_copy(update={"short_name": "Chứng thực bản sao từ bản chính giấy"})
    shown = display_name(long_name)
    assert shown.startswith(long_name.short_name) and shown.endswith("…") and len(shown) <= 100
