"""Procedure cards: the short card (a procedure named without a question), answers about one or
two aspects (documents, deadline, fee, where...) and one situation's documents. Each fits in one
Zalo message and offers the full view ("Xem đầy đủ") for the rest.

A fact the catalogue does not have (`None`, documents `unknown`) is said to be missing, with the
portal link and the right phone line; nothing is filled in from elsewhere. Residence procedures
(handled by the police) and military ones say where they are really handled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from app.booking.calendar import counter_for
from app.booking.dialogue import BOOK_TITLE, book_payload
from app.catalogue import facts
from app.catalogue.models import Catalogue, Contact, FeeKind, PlainCase, Procedure, WardProfile
from app.dialogue import documents, texts
from app.dialogue.hours import hours_lines
from app.dialogue.pieces import (
    NOT_KNOWN,
    ask_staff,
    call_button,
    channel_lines,
    clause,
    display_name,
    full_view_button,
    handled_elsewhere,
    has_documents,
    in_person_place,
    not_known,
    phone_line,
    portal_block,
    portal_button,
    procedure_contact,
    without_label,
)
from app.dialogue.reply import MAX_BUTTONS, MESSAGE_LIMIT, Button, ButtonKind, Reply
from app.dialogue.texts import bullets, capitalise, fit, numbered, paragraphs, plain

Aspect = Literal["documents", "notes", "deadline", "fee", "where", "online", "steps"]
ASPECTS: tuple[str, ...] = get_args(Aspect)

MAX_CASE_BUTTONS = 4
"""Situations offered as buttons; the others are answered by their number."""


def case_payload(proc: Procedure, case: PlainCase) -> str:
    """What a situation's button sends: the dialogue answers it with that case's documents."""
    return f"{proc.short_name}: {case.title}"


def _buttons(
    proc: Procedure, contact: Contact, ward: WardProfile, cases: Sequence[PlainCase] = ()
) -> tuple[Button, ...]:
    """Situations first (when the resident must choose), then the full view, booking a visit
    (where the ward takes bookings for it), portal and phone."""
    book = [booking_button(proc)] if counter_for(ward, proc) is not None else []
    if not cases:
        return (full_view_button(proc), *book, portal_button(proc), call_button(contact, ward))
    chosen = [Button(c.title, ButtonKind.query, case_payload(proc, c)) for c in cases]
    buttons = [*chosen[:MAX_CASE_BUTTONS], full_view_button(proc)]
    for extra in (*book, call_button(contact, ward), portal_button(proc)):
        if len(buttons) < MAX_BUTTONS:
            buttons.append(extra)
    return tuple(buttons)


def booking_button(proc: Procedure) -> Button:
    """ "Đặt lịch": starts booking a visit for this procedure (app.booking)."""
    return Button(BOOK_TITLE, ButtonKind.query, book_payload(proc))


def offered_cases(proc: Procedure, aspects: Sequence[str]) -> tuple[PlainCase, ...]:
    """The situations a reply about `aspects` asks the resident to choose from."""
    if proc.plain is None or "documents" not in aspects:
        return ()
    return proc.plain.cases


# --- the short card (the procedure named without a question) --------------------------------


def procedure_summary(proc: Procedure, catalogue: Catalogue) -> Reply:
    """The procedure in one message: name and code, what to bring (the common situation, or
    the situations to choose from), deadline, fee, where; "Xem đầy đủ" for the rest."""
    ward = catalogue.ward
    contact = procedure_contact(proc, catalogue)
    name = display_name(proc)
    redirect = handled_elsewhere(proc, ward, contact, subject=f"Dạ, thủ tục {name}")
    opener = [] if redirect else ["Dạ, em gửi anh/chị thông tin thủ tục ạ:"]
    header = [*opener, f"📋 {plain(proc.name)}", f"Mã thủ tục: {proc.code}"]
    deadline = facts.deadline_summary(proc)
    fee = facts.fee_summary(proc)
    local = facts.local_fee(proc, ward)
    summary = [
        f"Thời hạn giải quyết: {without_label('Thời hạn giải quyết', deadline)}"
        if deadline
        else f"Thời hạn giải quyết: {NOT_KNOWN}.",
        f"Lệ phí: {without_label('Lệ phí', fee)}" if fee else f"Lệ phí: {NOT_KNOWN}.",
    ]
    if local is not None:
        summary.append(facts.local_fee_line(local, ward))
    if proc.channels:
        where = ["Cách nộp hồ sơ:", *channel_lines(proc, ward)]
    else:
        where = [f"📍 Nơi tiếp nhận: {in_person_place(proc, ward)}"]
    closing = [
        f"Anh/chị bấm “{texts.FULL_CARD_TITLE}” để xem toàn bộ thông tin thủ tục ạ.",
        phone_line(contact),
    ]
    fixed = paragraphs(redirect, header, summary, where, portal_block(proc), closing)
    answer = documents.first_answer(proc, name, MESSAGE_LIMIT - len(fixed) - 4, lead=False)
    text = paragraphs(
        redirect, header, *answer.paragraphs, summary, where, portal_block(proc), closing
    )
    return Reply(text, _buttons(proc, contact, ward, answer.cases))


# --- one detail -----------------------------------------------------------------------------


Answer = tuple[list[str], bool]
"""Paragraphs answering one aspect, and whether a fact was missing (then the reply ends with
where to look and whom to call)."""

ELASTIC_ASPECTS = ("documents", "notes", "deadline", "fee")
"""Answers that shorten themselves to the room left (in this order of priority)."""


def _documents_detail(proc: Procedure, budget: int) -> Answer:
    answer = documents.first_answer(proc, display_name(proc), budget)
    paragraphs_ = list(answer.paragraphs)
    if answer.notes_left:
        paragraphs_.append(
            f"Anh/chị nhắn “{texts.NOTES_QUESTION}” để xem các lưu ý của thủ tục này ạ."
        )
    return paragraphs_, answer.missing


def _with_record_notes(lead: list[str], heading: str, notes: list[str], budget: int) -> list[str]:
    """`lead`, then as many of the record's own notes as fit in `budget`."""
    if not notes:
        return lead
    room = budget - len(paragraphs(lead)) - 2
    kept, left = fit([(heading, bullets(notes))], room - documents.MORE_RESERVE)
    if left:
        kept.append(f"(Chi tiết: anh/chị bấm “{texts.FULL_CARD_TITLE}” ạ.)")
    return [*lead, *kept]


def _deadline_detail(proc: Procedure, budget: int) -> Answer:
    summary = facts.deadline_summary(proc)
    if summary is None:
        return [not_known("thời hạn giải quyết", proc)], True
    lead = [f"Dạ, thời hạn giải quyết thủ tục {display_name(proc)}:\n{clause(summary)} ạ."]
    if proc.plain is not None or proc.deadline is not None:
        return lead, False
    return _with_record_notes(
        lead, "Theo Cổng Dịch vụ công:", facts.deadline_notes(proc), budget
    ), False


def _fee_detail(proc: Procedure, ward: WardProfile, budget: int) -> Answer:
    summary = facts.fee_summary(proc)
    local = facts.local_fee(proc, ward)
    if summary is None and local is None:
        return [not_known("lệ phí", proc)], True
    lead = [
        f"Dạ, lệ phí thủ tục {display_name(proc)}:\n{clause(summary or facts.PROVINCE_SETS)} ạ."
    ]
    if local is not None:
        lead.append(f"{facts.local_fee_line(local, ward)}.")
    if proc.plain is not None or proc.fee is not None:
        return lead, False
    if local is None and proc.fee_kind is FeeKind.province:
        lead.append("Anh/chị hỏi cán bộ mức thu hiện hành tại địa phương ạ.")
    return _with_record_notes(lead, "Theo Cổng Dịch vụ công:", facts.fee_notes(proc), budget), False


def _where_detail(proc: Procedure, ward: WardProfile, contact: Contact) -> Answer:
    name = display_name(proc)
    lines: list[str] = []
    redirect = handled_elsewhere(proc, ward, contact, subject=f"Dạ, thủ tục {name}")
    if redirect is None:
        lines += [
            f"Dạ, thủ tục {name} được tiếp nhận tại:\n📍 {ward.address}",
            f"Cơ quan giải quyết: {plain(proc.agency)}",
            # The ward's hours are the one-stop's; the police and the military keep their own.
            "\n".join(["Giờ tiếp nhận hồ sơ:", *(f"• {h}" for h in hours_lines(ward))]),
        ]
    else:
        lines.append(redirect)
    if not proc.channels:
        lines.append(
            "Em chưa có thông tin chính thức về các cách nộp hồ sơ (trực tiếp, trực tuyến hay "
            "qua bưu chính) của thủ tục này ạ."
        )
        return lines, True
    ways = channel_lines(proc, ward, place_given=redirect is None)
    lines.append("\n".join(["Anh/chị có thể nộp hồ sơ:", *ways]))
    return lines, False


def _online_detail(proc: Procedure, ward: WardProfile) -> Answer:
    name = display_name(proc)
    if proc.channels is None:
        return [not_known("việc nộp hồ sơ trực tuyến", proc)], True
    online = channel_lines(proc, ward, only_online=True)
    if online:
        lines = [
            "\n".join([f"Dạ, thủ tục {name} có thể nộp trực tuyến ạ:", *online]),
            "Anh/chị đăng nhập Cổng Dịch vụ công quốc gia bằng tài khoản định danh điện tử "
            "VNeID, tìm đúng thủ tục rồi điền tờ khai và đính kèm giấy tờ.",
            portal_block(proc),
        ]
        return lines, False
    lines = [
        f"Dạ, theo thông tin em có, thủ tục {name} chưa nhận hồ sơ trực tuyến ạ.",
        "\n".join(["Anh/chị nộp hồ sơ theo cách sau:", *channel_lines(proc, ward)]),
    ]
    return lines, False


def _steps_detail(proc: Procedure, ward: WardProfile) -> Answer:
    steps: list[str] = []
    if has_documents(proc):
        steps.append(f"Chuẩn bị hồ sơ theo danh sách (bấm “{texts.FULL_CARD_TITLE}” để xem).")
    else:
        steps.append(f"Chuẩn bị hồ sơ ({NOT_KNOWN} về danh sách giấy tờ).")
    if proc.channels:
        steps.append("\n".join(["Nộp hồ sơ theo một trong các cách:", *channel_lines(proc, ward)]))
    else:
        steps.append(
            f"Nộp hồ sơ tại {in_person_place(proc, ward)}; {NOT_KNOWN} về các cách nộp khác."
        )
    deadline = facts.deadline_summary(proc)
    if deadline:
        steps.append(f"Chờ giải quyết: {clause(deadline)}.")
    else:
        steps.append(f"Chờ giải quyết ({NOT_KNOWN} về thời hạn).")
    result = "; ".join(proc.result)
    steps.append(f"Nhận kết quả: {clause(result)}." if result else "Nhận kết quả.")
    fee = facts.fee_summary(proc)
    fee_line = f"Lệ phí: {clause(fee)}." if fee else f"Lệ phí: {NOT_KNOWN}."
    lead = f"Dạ, các bước làm thủ tục {display_name(proc)} ạ:"
    lines = ["\n".join([lead, *numbered(steps), fee_line])]
    missing = not (has_documents(proc) and proc.channels and deadline and fee)
    return lines, missing


def _aspect_answer(
    proc: Procedure, aspect: str, ward: WardProfile, contact: Contact, budget: int
) -> Answer:
    if aspect == "documents":
        return _documents_detail(proc, budget)
    if aspect == "notes":
        return documents.notes_answer(proc, display_name(proc), budget), False
    if aspect == "deadline":
        return _deadline_detail(proc, budget)
    if aspect == "fee":
        return _fee_detail(proc, ward, budget)
    if aspect == "where":
        return _where_detail(proc, ward, contact)
    if aspect == "online":
        return _online_detail(proc, ward)
    if aspect == "steps":
        return _steps_detail(proc, ward)
    raise ValueError(f"unknown aspect {aspect!r}; expected one of {ASPECTS}")


def procedure_details(proc: Procedure, aspects: Sequence[str], catalogue: Catalogue) -> Reply:
    """Several aspects in one message (e.g. "giấy tờ gì, mất mấy ngày"), each fact first.

    The reply fits in one Zalo message: answers with lists (documents, notes, the record's
    notes on deadline and fee) take the room the others leave, in that order, and say what
    more the full view holds. Police and military procedures say who handles them once, after
    the first answer (or in the "where" answer). A missing fact ends the reply with the portal
    link and the phone line. Raises ValueError for an aspect outside ASPECTS: a caller's bug.
    """
    if not aspects:
        raise ValueError("procedure_details needs at least one aspect")
    unknown = [a for a in aspects if a not in ASPECTS]
    if unknown:
        raise ValueError(f"unknown aspect {unknown[0]!r}; expected one of {ASPECTS}")
    ward = catalogue.ward
    contact = procedure_contact(proc, catalogue)
    cases = offered_cases(proc, aspects)
    closing = f"Anh/chị bấm “{texts.FULL_CARD_TITLE}” để xem toàn bộ thông tin thủ tục ạ."
    redirect = None
    if "where" not in aspects:
        # Residence and military matters: right after the answer, before the resident sets off.
        redirect = handled_elsewhere(proc, ward, contact, subject="Lưu ý: thủ tục này")
    fixed_room = len(paragraphs(redirect, ask_staff(contact), portal_block(proc), closing))
    answers: dict[str, Answer] = {}
    room = MESSAGE_LIMIT - fixed_room - 4
    for aspect in sorted(aspects, key=lambda a: a in ELASTIC_ASPECTS):
        budget = room if aspect not in ELASTIC_ASPECTS else room // _elastic_left(aspects, answers)
        answers[aspect] = _aspect_answer(proc, aspect, ward, contact, budget)
        room -= len(paragraphs(*answers[aspect][0])) + 2
    body: list[str] = []
    missing_any = False
    for index, aspect in enumerate(aspects):
        part, missing = answers[aspect]
        part = list(part)
        missing_any = missing_any or missing
        if index > 0 and part and part[0].startswith("Dạ, "):
            part[0] = capitalise(part[0].removeprefix("Dạ, "))
        body += part
    if redirect is not None:
        body.insert(1, redirect)
    if missing_any:
        body += [ask_staff(contact), portal_block(proc)]
    body.append(closing)
    return Reply(paragraphs(*dict.fromkeys(body)), _buttons(proc, contact, ward, cases))


def _elastic_left(aspects: Sequence[str], done: dict[str, Answer]) -> int:
    """How many list answers still share the room (the first takes its share first)."""
    return max(1, sum(1 for a in aspects if a in ELASTIC_ASPECTS and a not in done))


def procedure_detail(proc: Procedure, aspect: str, catalogue: Catalogue) -> Reply:
    """One aspect of a procedure (one of ASPECTS), the fact first, then an offer of the card.

    Raises ValueError for an unknown aspect: that is a bug in the caller, not a resident's input.
    """
    return procedure_details(proc, (aspect,), catalogue)


def case_reply(proc: Procedure, index: int, catalogue: Catalogue) -> Reply:
    """The documents of one situation the resident chose (a button or its number)."""
    ward = catalogue.ward
    contact = procedure_contact(proc, catalogue)
    closing = f"Anh/chị bấm “{texts.FULL_CARD_TITLE}” để xem toàn bộ thông tin thủ tục ạ."
    redirect = handled_elsewhere(proc, ward, contact, subject="Lưu ý: thủ tục này")
    room = MESSAGE_LIMIT - len(paragraphs(redirect, closing)) - 4
    body = documents.case_answer(proc, index, display_name(proc), room)
    if redirect is not None:
        body.insert(1, redirect)
    return Reply(paragraphs(*body, closing), _buttons(proc, contact, ward))
