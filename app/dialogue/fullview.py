"""The full view ("Xem đầy đủ"): everything the catalogue holds about a procedure."""

from __future__ import annotations

from app.catalogue import facts
from app.catalogue.models import Catalogue, HandledBy, Procedure
from app.dialogue import documents
from app.dialogue.pieces import (
    NOT_KNOWN,
    call_button,
    channel_lines,
    display_name,
    handled_elsewhere,
    phone_line,
    portal_block,
    portal_button,
    procedure_contact,
    without_label,
)
from app.dialogue.reply import Reply
from app.dialogue.texts import bullets, paragraphs, plain


def _full_documents(proc: Procedure) -> list[str]:
    docs = proc.documents
    sections = documents.record_sections(docs, whole=True) + documents.record_note_sections(proc)
    blocks = [paragraphs([h, *lines] if h else lines) for h, lines in sections]
    if proc.plain is not None and not docs.known:
        blocks.insert(0, paragraphs(["Hồ sơ cần chuẩn bị:", *bullets(proc.plain.documents)]))
    return blocks


def procedure_card(proc: Procedure, catalogue: Catalogue) -> Reply:
    """Everything the catalogue holds about a procedure: the whole record, verbatim, in the order
    a resident needs it. Asked for explicitly ("Xem đầy đủ"): it may take several messages."""
    ward = catalogue.ward
    contact = procedure_contact(proc, catalogue)
    missing_any = False

    redirect = handled_elsewhere(proc, ward, contact, subject=f"Dạ, thủ tục {display_name(proc)}")
    opener = [] if redirect else ["Dạ, em gửi anh/chị toàn bộ thông tin thủ tục ạ:"]
    header = [*opener, f"📋 {plain(proc.name)}", f"Mã thủ tục: {proc.code}"]
    if proc.handled_by is HandledBy.one_stop:
        header.append(f"Cơ quan giải quyết: {plain(proc.agency)}")

    blocks = _full_documents(proc)
    if not proc.documents.known and proc.plain is None:
        missing_any = True
        blocks.insert(0, f"Hồ sơ cần chuẩn bị: {NOT_KNOWN} về thành phần hồ sơ của thủ tục này ạ.")

    deadline = facts.deadline_summary(proc)
    timing = [
        f"Thời hạn giải quyết: {without_label('Thời hạn giải quyết', deadline)}"
        if deadline
        else f"Thời hạn giải quyết: {NOT_KNOWN}."
    ]
    timing += bullets(facts.deadline_details(proc))
    fee = facts.fee_summary(proc)
    local = facts.local_fee(proc, ward)
    charges = [f"Lệ phí: {without_label('Lệ phí', fee)}" if fee else f"Lệ phí: {NOT_KNOWN}."]
    if local is not None:
        charges.append(facts.local_fee_line(local, ward))
    charges += bullets(facts.fee_details(proc))
    missing_any = missing_any or deadline is None or (fee is None and local is None)
    result = ["Kết quả:", *bullets(proc.result)] if proc.result else None
    steps = f"Trình tự thực hiện: {plain(proc.steps)}" if proc.steps else None

    if proc.channels:
        channels = ["Cách nộp hồ sơ:", *channel_lines(proc, ward)]
    else:
        missing_any = True
        channels = [f"Cách nộp hồ sơ: {NOT_KNOWN}."]
        if proc.handled_by is HandledBy.one_stop:
            channels.insert(0, f"📍 Nơi tiếp nhận: {ward.address}")
    basis = ["Căn cứ pháp lý:", *bullets(proc.legal_basis)] if proc.legal_basis else None

    ask = [
        "Với những mục em chưa có thông tin, anh/chị vui lòng xem trên Cổng Dịch vụ công "
        "hoặc gọi cán bộ để được hướng dẫn chính xác ạ:"
        if missing_any
        else "Cần hỏi thêm, anh/chị gọi:",
        phone_line(contact),
    ]
    text = paragraphs(
        redirect,
        header,
        *blocks,
        timing,
        charges,
        result,
        steps,
        channels,
        basis,
        portal_block(proc),
        ask,
    )
    return Reply(text, (portal_button(proc), call_button(contact, ward)))
