"""The full view ("Xem đầy đủ"), rendered from the real procedures.yaml (and from it without its
plain versions): the whole record, in pages of at most three Zalo messages.

The rules under test: a tap sends at most MAX_PAGE_MESSAGES messages, as the Zalo client splits
them; all pages together hold everything the record says; an item is never cut between pages; a
page that is not the last says what is left and offers "Xem tiếp" for the next page; a record
that fits in one page is sent whole, in the order a resident needs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.catalogue import Catalogue, Procedure, load_catalogue
from app.catalogue.facts import deadline_details, deadline_summary, fee_details, fee_summary
from app.catalogue.lint import markers
from app.catalogue.models import Documents, HandledBy
from app.dialogue import texts
from app.dialogue.documents import case_label
from app.dialogue.fullview import MAX_PAGE_MESSAGES, full_view, page_payload, whole_record
from app.dialogue.pieces import channel_lines
from app.dialogue.reply import MAX_BUTTONS, ButtonKind, Reply
from app.dialogue.texts import capitalise, plain
from app.zalo.split import split_text

from .support import (
    assert_well_formed,
    contact_of,
    document_texts,
    full_text,
    without_plain,
)

ROOT = Path(__file__).resolve().parents[2]
ALL = load_catalogue(ROOT / "procedures.yaml").procedures
CODES = [p.code for p in ALL]
KNOWN_DOCS = [p.code for p in ALL if p.documents.known]
POLICE = [p.code for p in ALL if p.handled_by is HandledBy.police]
MILITARY = [p.code for p in ALL if p.handled_by is HandledBy.military]
NO_CHANNELS = [p.code for p in ALL if p.channels is None]
TWO_MESSAGES = ("1.001193", "1.013978")
"""Khai sinh and the first red book: one page of two messages (the outbox tests rely on it)."""
MORE = re.compile(
    r"Đây là trang (\d+)/(\d+)\. Còn: (.+)\.\nAnh/chị bấm “Xem tiếp” để xem trang (\d+) ạ\.$"
)


@pytest.fixture(scope="module", params=["plain", "records"])
def each_catalogue(request: pytest.FixtureRequest, catalogue: Catalogue) -> Catalogue:
    return catalogue if request.param == "plain" else without_plain(catalogue)


def flat(text: str) -> str:
    """Text with every run of whitespace as one space: a long item cut between two messages of
    a page reads the same."""
    return " ".join(text.split())


def record_facts(proc: Procedure, catalogue: Catalogue) -> list[str]:
    """Everything the catalogue says about a procedure, as the full view writes it."""
    items = document_texts(proc.documents) + [plain(n) for n in proc.documents.notes]
    items += [plain(c) for c in proc.conditions] + [plain(b) for b in proc.legal_basis]
    items += [plain(r) for r in proc.result] + [*deadline_details(proc), *fee_details(proc)]
    if proc.plain is not None and (len(full_view(proc, catalogue)) > 1 or not proc.documents.known):
        items += [plain(d) for d in proc.plain.documents]
        items += [plain(d) for c in proc.plain.cases for d in c.documents]
    found = [capitalise(item) for item in items]
    found += [plain(case_label(c.label)) for c in proc.documents.cases]
    found += [proc.code, plain(proc.name), proc.dvc.best_url, contact_of(proc, catalogue).phone]
    found += [plain(proc.steps)] if proc.steps else []
    summaries = (deadline_summary(proc), fee_summary(proc))
    found += [plain(s).removeprefix("Lệ phí ") for s in summaries if s]
    found += [line.removeprefix("• ") for line in channel_lines(proc, catalogue.ward)]
    return found


def long_ones(catalogue: Catalogue) -> list[Procedure]:
    return [p for p in catalogue.procedures if len(full_view(p, catalogue)) > 1]


# --- one tap, at most three messages -------------------------------------------------------


def test_every_page_is_at_most_three_messages(each_catalogue: Catalogue) -> None:
    assert MAX_PAGE_MESSAGES == 3
    too_long = [
        (proc.code, number, len(split_text(page.text)))
        for proc in each_catalogue.procedures
        for number, page in enumerate(full_view(proc, each_catalogue), start=1)
        if len(split_text(page.text)) > MAX_PAGE_MESSAGES
    ]
    assert too_long == []


def test_every_page_is_well_formed(each_catalogue: Catalogue) -> None:
    for proc in each_catalogue.procedures:
        for page in full_view(proc, each_catalogue):
            assert_well_formed(page)
            assert len(page.buttons) <= MAX_BUTTONS
            for button in page.buttons:
                assert len(button.title) <= texts.BUTTON_TITLE_LIMIT, button.title
            shown = "\n".join([page.text, *(b.title for b in page.buttons)])
            assert markers(shown) == [], proc.code
            assert "\x00" not in page.text


@pytest.mark.parametrize("code", TWO_MESSAGES)
def test_a_record_that_fits_one_page_is_sent_whole(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    [page] = full_view(proc, catalogue)
    assert len(split_text(page.text)) == 2
    assert "Còn:" not in page.text and "trang 1/" not in page.text
    assert [b.kind for b in page.buttons] == [ButtonKind.url, ButtonKind.phone]


def test_long_records_are_paged_and_short_ones_are_not(catalogue: Catalogue) -> None:
    pages = {p.code: len(full_view(p, catalogue)) for p in catalogue.procedures}
    assert pages["1.013225"] > 1 and pages["2.000575"] > 1
    for proc in catalogue.procedures:
        if pages[proc.code] == 1:
            continue
        # Paged only when the whole record does not fit in one page.
        whole = "\n\n".join("\n".join(s.lines) for s in whole_record(proc, catalogue))
        assert len(split_text(whole)) > MAX_PAGE_MESSAGES, proc.code


# --- nothing lost, nothing cut --------------------------------------------------------------


def test_all_pages_hold_the_whole_record(each_catalogue: Catalogue) -> None:
    missing: list[tuple[str, str]] = []
    for proc in each_catalogue.procedures:
        text = flat(full_text(proc, each_catalogue))
        missing += [
            (proc.code, f[:60]) for f in record_facts(proc, each_catalogue) if flat(f) not in text
        ]
    assert missing == []


def test_all_pages_hold_every_section_of_the_one_page_view(each_catalogue: Catalogue) -> None:
    """What the full view said before it was paged, section by section: each line is on some
    page (the paged view words only its opening line differently)."""
    missing: list[tuple[str, str]] = []
    for proc in long_ones(each_catalogue):
        text = flat(full_text(proc, each_catalogue))
        for section in whole_record(proc, each_catalogue):
            lines = [line for line in section.lines if not line.startswith("Dạ, em gửi")]
            missing += [(proc.code, line[:60]) for line in lines if flat(line) not in text]
    assert missing == []


def test_no_item_is_cut_between_pages(each_catalogue: Catalogue) -> None:
    cut: list[tuple[str, str]] = []
    for proc in long_ones(each_catalogue):
        pages = [flat(page.text) for page in full_view(proc, each_catalogue)]
        for fact in record_facts(proc, each_catalogue):
            if not any(flat(fact) in page for page in pages):
                cut.append((proc.code, fact[:60]))
    assert cut == []


# --- what is left, and "Xem tiếp" -----------------------------------------------------------


def test_each_page_says_what_is_left_and_offers_the_next(each_catalogue: Catalogue) -> None:
    for proc in long_ones(each_catalogue):
        pages = full_view(proc, each_catalogue)
        contact = contact_of(proc, each_catalogue)
        for number, page in enumerate(pages, start=1):
            url, phone = page.buttons[-2:]
            assert (url.kind, url.payload) == (ButtonKind.url, proc.dvc.best_url)
            assert (phone.kind, phone.payload) == (ButtonKind.phone, contact.dial)
            if number == len(pages):
                assert len(page.buttons) == 2 and "Còn:" not in page.text
                assert page.text.endswith(contact.phone)
                continue
            more = page.buttons[0]
            assert (more.title, more.kind) == ("Xem tiếp", ButtonKind.query)
            assert more.payload == page_payload(proc, number + 1)
            assert more.payload == f"Xem đầy đủ: {proc.short_name} (trang {number + 1})"
            said = MORE.search(page.text)
            assert said is not None, (proc.code, number, page.text[-300:])
            assert said.groups()[:2] == (str(number), str(len(pages)))
            assert said[4] == str(number + 1)
            # What is left first is what the next page opens with.
            first_left = said[3].split(", ")[0].split("–")[0]
            opening = pages[number].text.split("\n\n")[1]
            assert opening.startswith(first_left.removesuffix(" (tiếp)")), (proc.code, number)
            if first_left.endswith("(tiếp)"):
                assert opening.startswith(f"{first_left}:")


def test_later_pages_say_which_procedure_and_page(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("2.000575")
    assert proc is not None
    pages = full_view(proc, catalogue)
    total = len(pages)
    assert pages[0].text.startswith(
        f"Dạ, em gửi anh/chị toàn bộ thông tin thủ tục ạ (trang 1/{total}):"
    )
    for number, page in enumerate(pages[1:], start=2):
        first = page.text.split("\n\n")[0]
        assert first == (
            f"Dạ, em gửi tiếp thông tin thủ tục {proc.short_name} ạ (trang {number}/{total}):"
        )


def test_a_long_record_opens_with_what_residents_need_most(each_catalogue: Catalogue) -> None:
    for proc in long_ones(each_catalogue):
        first = full_view(proc, each_catalogue)[0].text
        order = ["📋", "Thời hạn giải quyết:", "Lệ phí:", "Cách nộp hồ sơ", "📄 Chi tiết"]
        if proc.plain is not None and proc.plain.documents:
            order.insert(1, plain(proc.plain.documents[0]))
        elif proc.plain is not None and proc.plain.cases:
            order.insert(1, plain(proc.plain.cases[0].label).rstrip(" .:"))
        positions = [first.index(part) for part in order]
        assert positions == sorted(positions), proc.code


# --- what each page says (the one-page view, and the first page of a long one) ---------------


@pytest.mark.parametrize("code", CODES)
def test_every_full_view_renders_with_code_link_and_phone(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    pages = full_view(proc, catalogue)
    assert f"Mã thủ tục: {code}" in pages[0].text
    assert proc.dvc.best_url in pages[-1].text
    contact = contact_of(proc, catalogue)
    assert contact.phone in pages[-1].text
    for page in pages:
        kinds = {b.kind: b for b in page.buttons}
        assert kinds[ButtonKind.url].payload == proc.dvc.best_url
        assert kinds[ButtonKind.phone].payload == contact.dial


@pytest.mark.parametrize("code", KNOWN_DOCS)
def test_the_full_view_holds_the_whole_record(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    text = flat(full_text(proc, catalogue))
    for deadline in proc.deadlines:
        assert f"{deadline.time} " in text or "không ghi thời hạn" in text
    assert "chưa có thông tin chính thức về thành phần hồ sơ" not in text


def test_khai_sinh_full_view_in_order(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001193")
    assert proc is not None
    [page] = full_view(proc, catalogue)
    text = page.text
    deadline, fee = deadline_summary(proc), fee_summary(proc)
    assert deadline and fee
    order = [
        plain(proc.name),
        "Giấy tờ cần nộp:",
        plain(proc.documents.submit[0]),
        "Giấy tờ cần xuất trình:",
        "Lưu ý:",
        "Thời hạn giải quyết:",
        plain(deadline)[:40],
        "Lệ phí:",
        "Cách nộp hồ sơ:",
        f"Trực tiếp tại {catalogue.ward.address}",
        "Qua dịch vụ bưu chính",
        "Kết quả:",
        "Căn cứ pháp lý:",
        proc.dvc.best_url,
        "Công chức Tư pháp - Hộ tịch: 0200 000 0001",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    # Sections are separated by blank lines so the Zalo client can split cleanly.
    assert "\n\nGiấy tờ cần xuất trình:" in text and "\n\nCách nộp hồ sơ:" in text


def test_an_emptied_procedure_shows_none_of_its_former_facts(catalogue: Catalogue) -> None:
    """Take a procedure with a record, forget its facts: nothing of the old values may appear."""
    full = catalogue.procedure("1.004837")
    assert full is not None and full.plain is not None
    emptied = full.model_copy(
        update={
            "plain": None,
            "documents": Documents(status="unknown"),
            "deadlines": (),
            "fees": None,
            "channels": None,
            "result": (),
            "steps": None,
            "legal_basis": (),
        }
    )
    text = full_text(emptied, catalogue)
    forgotten = [
        *document_texts(full.documents),
        *(plain(d) for d in full.plain.documents),
        plain(full.plain.deadline),
        plain(full.plain.fee),
        *(plain(r) for r in full.result),
        "Trực tuyến",
        "bưu chính",
    ]
    assert [f for f in forgotten if f in text] == []
    assert text.count("em chưa có thông tin chính thức") >= 4
    assert "Nơi tiếp nhận" in text and catalogue.ward.address in text


@pytest.mark.parametrize("code", POLICE)
def test_police_procedures_send_residents_to_the_police_first(
    catalogue: Catalogue, code: str
) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    police = catalogue.ward.police
    text = full_view(proc, catalogue)[0].text
    first_paragraph = text.split("\n\n")[0]
    assert "do Công an cấp xã giải quyết" in first_paragraph
    assert "không nộp tại Trung tâm Phục vụ hành chính công" in first_paragraph
    assert police.name in first_paragraph and police.address in first_paragraph
    assert police.phone and police.phone in first_paragraph
    assert text.index(first_paragraph) < text.index("📋")
    every_page = full_text(proc, catalogue)
    assert "Cơ quan giải quyết" not in every_page
    # The one-stop's address would send the resident to the wrong office.
    assert catalogue.ward.address not in every_page


@pytest.mark.parametrize("code", MILITARY)
def test_military_procedures_name_the_military_command(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    text = full_view(proc, catalogue)[0].text
    first_paragraph = text.split("\n\n")[0]
    assert "do Ban Chỉ huy quân sự cấp xã giải quyết" in first_paragraph
    assert catalogue.ward.contacts["quan_su"].phone in first_paragraph
    assert catalogue.ward.address not in full_text(proc, catalogue)


def test_one_stop_cards_carry_no_redirect(catalogue: Catalogue) -> None:
    for proc in catalogue.procedures:
        if proc.handled_by is HandledBy.one_stop:
            text = full_text(proc, catalogue)
            assert "do Công an cấp xã giải quyết" not in text, proc.code
            assert "do Ban Chỉ huy quân sự" not in text, proc.code
            assert text.startswith("Dạ, em gửi anh/chị")


def test_a_fact_does_not_repeat_its_label(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001022")
    assert proc is not None
    labelled = proc.model_copy(update={"plain": None, "fee": "Lệ phí do HĐND cấp tỉnh quyết định"})
    text = full_text(labelled, catalogue)
    assert "Lệ phí: do HĐND cấp tỉnh quyết định" in text
    assert "Lệ phí: Lệ phí" not in text


def test_search_link_is_explained_as_a_search(catalogue: Catalogue) -> None:
    searched = next(p for p in catalogue.procedures if p.dvc.detail_url is None)
    direct = catalogue.procedure("1.001193")
    assert direct is not None and direct.dvc.detail_url
    assert "trang tìm kiếm" in full_text(searched, catalogue)
    assert "trang tìm kiếm" not in full_text(direct, catalogue)


@pytest.mark.parametrize("code", NO_CHANNELS)
def test_unknown_channels_are_said_missing(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    text = full_text(proc, catalogue)
    assert "Cách nộp hồ sơ: em chưa có thông tin chính thức" in text
    assert "Trực tuyến" not in text


def test_in_person_only_procedure_does_not_offer_online(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("2.000815")
    assert proc is not None and proc.channels == ("trực tiếp",)
    text = full_text(proc, catalogue)
    assert "Trực tuyến" not in text and "bưu chính" not in text
    assert f"Trực tiếp tại {catalogue.ward.address}" in text


def test_one_reply_per_page(catalogue: Catalogue) -> None:
    """A page is one reply: the outbox splits it once and finishes it part by part."""
    proc = catalogue.procedure("1.013225")
    assert proc is not None
    pages = full_view(proc, catalogue)
    assert all(isinstance(page, Reply) for page in pages)
    assert len(pages) > 1
