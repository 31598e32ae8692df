"""Procedure cards and detail replies, rendered from the real procedures.yaml.

The rule under test above all: every fact shown comes from the procedure itself, and a fact
the catalogue lacks is said to be missing, with the portal link and the right phone line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalogue import Catalogue, Procedure, load_catalogue
from app.catalogue.models import Contact, Documents, HandledBy
from app.dialogue import cards
from app.dialogue.cards import ASPECTS, procedure_card, procedure_detail, procedure_details
from app.dialogue.reply import ButtonKind, Reply
from app.dialogue.texts import plain

from .support import assert_well_formed

ROOT = Path(__file__).resolve().parents[2]
ALL = load_catalogue(ROOT / "procedures.yaml").procedures
CODES = [p.code for p in ALL]
KNOWN_DOCS = [p.code for p in ALL if p.documents.known]
UNKNOWN_DOCS = [p.code for p in ALL if not p.documents.known]
POLICE = [p.code for p in ALL if p.handled_by is HandledBy.police]
MILITARY = [p.code for p in ALL if p.handled_by is HandledBy.military]
NO_DEADLINE = [p.code for p in ALL if p.deadline is None]
NO_CHANNELS = [p.code for p in ALL if p.channels is None]


def contact_of(proc: Procedure, catalogue: Catalogue) -> Contact:
    category = catalogue.category(proc.category)
    assert category is not None
    return catalogue.ward.contact_for(category.contact)


def document_texts(docs: Documents) -> list[str]:
    """Every document line a procedure lists (not notes): what must never leak elsewhere."""
    found = [*docs.submit, *docs.present]
    for case in docs.cases:
        found += [*case.submit, *case.present]
    return [plain(d) for d in found]


def first_lines(reply: Reply, count: int) -> str:
    return "\n".join(reply.text.splitlines()[:count])


# --- the full card --------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_every_card_renders_with_code_link_and_phone(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    reply = procedure_card(proc, catalogue)
    assert_well_formed(reply)
    assert f"Mã thủ tục: {code}" in reply.text
    assert proc.dvc.best_url in reply.text
    contact = contact_of(proc, catalogue)
    assert contact.phone in reply.text
    kinds = {b.kind: b for b in reply.buttons}
    assert kinds[ButtonKind.url].payload == proc.dvc.best_url
    assert kinds[ButtonKind.phone].payload == contact.dial


@pytest.mark.parametrize("code", KNOWN_DOCS)
def test_known_documents_are_all_listed(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    text = procedure_card(proc, catalogue).text
    expected = document_texts(proc.documents) + [plain(n) for n in proc.documents.notes]
    assert expected
    for document in expected:
        assert document in text, document
    for case in proc.documents.cases:
        assert plain(case.label) in text
    assert "chưa có thông tin chính thức về thành phần hồ sơ" not in text


def test_khai_sinh_card_in_order(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001193")
    assert proc is not None
    text = procedure_card(proc, catalogue).text
    order = [
        "Thủ tục đăng ký khai sinh",
        "Giấy tờ cần nộp:",
        "Tờ khai đăng ký khai sinh theo mẫu",
        "Giấy tờ cần xuất trình:",
        "Lưu ý:",
        "Thời hạn giải quyết: 01 ngày làm việc",
        "Lệ phí: Không thu",
        "Cách nộp hồ sơ:",
        f"Trực tiếp tại {catalogue.ward.address}",
        "Trực tuyến (Cổng Dịch vụ công quốc gia hoặc VNeID)",
        "Qua dịch vụ bưu chính",
        proc.dvc.best_url,
        "Công chức Tư pháp - Hộ tịch: 0200 000 0001",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    # Sections are separated by blank lines so the Zalo client can split cleanly.
    assert "\n\nGiấy tờ cần xuất trình:" in text and "\n\nCách nộp hồ sơ:" in text


@pytest.mark.parametrize("code", UNKNOWN_DOCS)
def test_unknown_documents_are_said_missing_and_nothing_is_invented(
    catalogue: Catalogue, code: str
) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    text = procedure_card(proc, catalogue).text
    assert "chưa có thông tin chính thức về thành phần hồ sơ" in text
    assert contact_of(proc, catalogue).phone in text
    assert proc.dvc.best_url in text
    assert "Giấy tờ cần nộp:" not in text and "Giấy tờ cần xuất trình:" not in text
    # Unverified expectations are allowed (after their caveat, tested below); nothing else is.
    for item in proc.documents.unverified_expected:
        text = text.replace(plain(item), "")
    known = [p for p in catalogue.procedures if p.documents.known]
    leaked = [d for p in known for d in document_texts(p.documents) if d in text]
    assert leaked == []


@pytest.mark.parametrize("code", [p.code for p in ALL if p.documents.unverified_expected])
def test_unverified_documents_only_after_their_caveat(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    for reply in (procedure_card(proc, catalogue), procedure_detail(proc, "documents", catalogue)):
        caveat = reply.text.index("theo nguồn chưa kiểm chứng, cần hỏi lại cán bộ")
        for item in proc.documents.unverified_expected:
            assert reply.text.index(plain(item)) > caveat


def test_an_emptied_procedure_shows_none_of_its_former_facts(catalogue: Catalogue) -> None:
    """Take khai sinh, forget its facts: nothing of the old values may appear."""
    full = catalogue.procedure("1.001193")
    assert full is not None
    emptied = full.model_copy(
        update={
            "documents": Documents(status="unknown"),
            "deadline": None,
            "fee": None,
            "channels": None,
            "result": None,
        }
    )
    text = procedure_card(emptied, catalogue).text
    assert full.deadline and full.fee and full.result
    forgotten = [
        *document_texts(full.documents),
        plain(full.deadline),
        plain(full.fee),
        plain(full.result),
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
    text = procedure_card(proc, catalogue).text
    first_paragraph = text.split("\n\n")[0]
    assert "do Công an cấp xã giải quyết" in first_paragraph
    assert "không nộp tại Trung tâm Phục vụ hành chính công" in first_paragraph
    assert police.name in first_paragraph and police.address in first_paragraph
    assert police.phone and police.phone in first_paragraph
    assert text.index(first_paragraph) < text.index("📋")
    assert "Cơ quan giải quyết" not in text
    # The one-stop's address would send the resident to the wrong office.
    assert catalogue.ward.address not in text


@pytest.mark.parametrize("code", MILITARY)
def test_military_procedures_name_the_military_command(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    text = procedure_card(proc, catalogue).text
    first_paragraph = text.split("\n\n")[0]
    assert "do Ban Chỉ huy quân sự cấp xã giải quyết" in first_paragraph
    assert catalogue.ward.contacts["quan_su"].phone in first_paragraph
    assert catalogue.ward.address not in text


def test_one_stop_cards_carry_no_redirect(catalogue: Catalogue) -> None:
    for proc in catalogue.procedures:
        if proc.handled_by is HandledBy.one_stop:
            text = procedure_card(proc, catalogue).text
            assert "do Công an cấp xã giải quyết" not in text, proc.code
            assert "do Ban Chỉ huy quân sự" not in text, proc.code
            assert text.startswith("Dạ, em gửi anh/chị thông tin thủ tục")


def test_a_fact_does_not_repeat_its_label(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001022")
    assert proc is not None and proc.fee is not None and proc.fee.startswith("Lệ phí do")
    text = procedure_card(proc, catalogue).text
    assert "Lệ phí: do HĐND cấp tỉnh quyết định" in text
    assert "Lệ phí: Lệ phí" not in text


def test_search_link_is_explained_as_a_search(catalogue: Catalogue) -> None:
    searched = catalogue.procedure("1.013133")
    direct = catalogue.procedure("1.001193")
    assert searched is not None and direct is not None
    assert searched.dvc.detail_url is None
    assert "trang tìm kiếm" in procedure_card(searched, catalogue).text
    assert "trang tìm kiếm" not in procedure_card(direct, catalogue).text


@pytest.mark.parametrize("code", NO_CHANNELS)
def test_unknown_channels_are_said_missing(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    text = procedure_card(proc, catalogue).text
    assert "Cách nộp hồ sơ: em chưa có thông tin chính thức" in text
    assert "Trực tuyến" not in text


def test_in_person_only_procedure_does_not_offer_online(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("2.000815")
    assert proc is not None and proc.channels == ("trực tiếp",)
    text = procedure_card(proc, catalogue).text
    assert "Trực tuyến" not in text and "bưu chính" not in text
    assert f"Trực tiếp tại {catalogue.ward.address}" in text


# --- one detail -----------------------------------------------------------------------------


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("code", CODES)
def test_every_detail_renders_with_the_full_card_offer(
    catalogue: Catalogue, code: str, aspect: str
) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    reply = procedure_detail(proc, aspect, catalogue)
    assert_well_formed(reply)
    full, portal, call = reply.buttons
    assert (full.title, full.kind, full.payload) == (
        "Xem đầy đủ",
        ButtonKind.query,
        proc.short_name,
    )
    assert (portal.kind, portal.payload) == (ButtonKind.url, proc.dvc.best_url)
    assert (call.kind, call.payload) == (ButtonKind.phone, contact_of(proc, catalogue).dial)


def test_deadline_leads_the_reply(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001193")
    assert proc is not None and proc.deadline is not None
    reply = procedure_detail(proc, "deadline", catalogue)
    assert plain(proc.deadline) in first_lines(reply, 2)
    assert reply.text.startswith("Dạ, thời hạn giải quyết thủ tục Đăng ký khai sinh")


@pytest.mark.parametrize("code", [p.code for p in ALL if p.fee is not None])
def test_fee_leads_the_reply(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None and proc.fee is not None
    reply = procedure_detail(proc, "fee", catalogue)
    assert plain(proc.fee).rstrip(".") in first_lines(reply, 2)


@pytest.mark.parametrize("code", NO_DEADLINE)
def test_unknown_deadline_says_so_with_link_and_phone(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    reply = procedure_detail(proc, "deadline", catalogue)
    assert "chưa có thông tin chính thức về thời hạn giải quyết" in first_lines(reply, 1)
    assert contact_of(proc, catalogue).phone in reply.text
    assert proc.dvc.best_url in reply.text
    assert "ngày làm việc" not in reply.text


@pytest.mark.parametrize("code", KNOWN_DOCS)
def test_documents_detail_lists_the_documents(catalogue: Catalogue, code: str) -> None:
    proc = catalogue.procedure(code)
    assert proc is not None
    reply = procedure_detail(proc, "documents", catalogue)
    assert reply.text.startswith("Dạ, hồ sơ thủ tục")
    for document in document_texts(proc.documents):
        assert document in reply.text


def test_documents_detail_unknown(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001022")
    assert proc is not None
    reply = procedure_detail(proc, "documents", catalogue)
    assert "chưa có thông tin chính thức về thành phần hồ sơ" in first_lines(reply, 1)
    assert "0200 000 0001" in reply.text and proc.dvc.best_url in reply.text


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
    assert "Công an cấp xã" not in paragraphs[0]
    assert paragraphs[1].startswith("Lưu ý: thủ tục này do Công an cấp xã giải quyết")
    assert catalogue.ward.police.name in paragraphs[1]


def test_online_answers(catalogue: Catalogue) -> None:
    def lead(code: str) -> str:
        proc = catalogue.procedure(code)
        assert proc is not None
        return first_lines(procedure_detail(proc, "online", catalogue), 1)

    assert "có thể nộp trực tuyến" in lead("1.001193")
    assert "chưa nhận hồ sơ trực tuyến" in lead("2.000815")
    assert "chưa có thông tin chính thức về việc nộp hồ sơ trực tuyến" in lead("1.001022")


def test_online_answer_shows_only_online_channels(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001612")
    assert proc is not None
    text = procedure_detail(proc, "online", catalogue).text
    assert "Hệ thống thông tin về đăng ký hộ kinh doanh" in text
    assert "bưu chính" not in text and catalogue.ward.address not in text


def test_steps_are_built_from_known_facts(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001193")
    assert proc is not None and proc.deadline and proc.result
    text = procedure_detail(proc, "steps", catalogue).text
    for number in ("1. ", "2. ", "3. ", "4. "):
        assert f"\n{number}" in text
    assert plain(proc.deadline) in text and plain(proc.result) in text


def test_steps_with_unknown_facts_say_so(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001022")
    assert proc is not None
    text = procedure_detail(proc, "steps", catalogue).text
    assert "chưa có thông tin chính thức về danh sách giấy tờ" in text
    assert "chưa có thông tin chính thức về thời hạn" in text
    assert "0200 000 0001" in text and proc.dvc.best_url in text


def test_unknown_aspect_is_a_caller_bug(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.001193")
    assert proc is not None
    with pytest.raises(ValueError, match="unknown aspect"):
        procedure_detail(proc, "price", catalogue)
    with pytest.raises(ValueError):
        procedure_details(proc, (), catalogue)


def test_two_aspects_in_one_reply(catalogue: Catalogue) -> None:
    proc = catalogue.procedure("1.004222")
    assert proc is not None
    reply = procedure_details(proc, ("documents", "deadline"), catalogue)
    assert_well_formed(reply)
    text = reply.text
    assert "thành phần hồ sơ" in text and "thời hạn giải quyết" in text
    assert text.count("Dạ,") == 1
    assert text.count("do Công an cấp xã giải quyết") == 1
    assert text.count("Xem đầy đủ") == 1
    assert text.count(proc.dvc.best_url) == 1


def test_display_name_spells_out_a_cut_short_name(catalogue: Catalogue) -> None:
    real = catalogue.procedure("1.014027")
    whole = catalogue.procedure("1.001193")
    assert real is not None and whole is not None
    # A short name cut mid-phrase to fit a button, as an admin might write one.
    cut = real.model_copy(update={"short_name": "Thực hiện, điều chỉnh, thôi hưởng trợ"})
    assert cards.display_name(cut) == "Thực hiện, điều chỉnh, thôi hưởng trợ cấp hưu trí xã hội"
    assert cards.display_name(whole) == "Đăng ký khai sinh"
    # A short name that was chosen, not cut, stays: the official name adds only noise here.
    chosen = catalogue.procedure("1.013225")
    assert chosen is not None and chosen.name != chosen.short_name
    assert cards.display_name(chosen) == chosen.short_name
    real_long = catalogue.procedure("2.000815")
    assert real_long is not None
    long_name = real_long.model_copy(update={"short_name": "Chứng thực bản sao từ bản chính giấy"})
    shown = cards.display_name(long_name)
    assert shown.startswith(long_name.short_name) and shown.endswith("…") and len(shown) <= 100
