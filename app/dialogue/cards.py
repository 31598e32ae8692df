"""Every reply text the bot sends, rendered from the catalogue: pure functions, no I/O.

A fact the catalogue does not have (`None`, documents `unknown`) is said to be missing, with the
portal link and the right phone line; nothing is filled in from elsewhere. Residence procedures
(handled by the police) and military ones say first where they are really handled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Literal, get_args

from jinja2 import Environment, StrictUndefined, Template

from app.catalogue import facts
from app.catalogue.intents import Intent
from app.catalogue.models import (
    Catalogue,
    Category,
    Contact,
    FeeKind,
    HandledBy,
    PlainCase,
    Procedure,
    WardProfile,
)
from app.dialogue import documents, texts
from app.dialogue.hours import hours_lines, is_open, next_opening_phrase
from app.dialogue.reply import MAX_BUTTONS, MESSAGE_LIMIT, Button, ButtonKind, Reply
from app.dialogue.texts import bullets, capitalise, fit, numbered, paragraphs, plain

Aspect = Literal["documents", "notes", "deadline", "fee", "where", "online", "steps"]
ASPECTS: tuple[str, ...] = get_args(Aspect)

MAX_CLARIFY_BUTTONS = 4
MAX_CASE_BUTTONS = 4
"""Situations offered as buttons; the others are answered by their number."""
_NOT_KNOWN = "em chưa có thông tin chính thức"
_NAME_LIMIT = 100
"""Longest procedure name shown in a sentence or a list line before it is clipped."""
_TRUNCATED_SHORT_NAME = 30
"""A short_name at least this long that is a prefix of the name was cut to fit a button."""


# --- small pieces ---------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-")
    return f"{cut}…"


def display_name(proc: Procedure) -> str:
    """The name to show in a sentence or a list: the short name, unless it was cut mid-phrase to
    fit a button, in which case the official name (without "Thủ tục", clipped if very long).
    It always starts with the short name, so a resident who types what they see is understood."""
    full = capitalise(re.sub(r"^thủ tục\s+", "", proc.name.strip(), flags=re.IGNORECASE))
    short = proc.short_name.strip()
    cut_short = len(short) >= _TRUNCATED_SHORT_NAME and len(full) > len(short)
    if cut_short and full.lower().startswith(short.lower()):
        return _clip(full, _NAME_LIMIT)
    return short


def _category(proc: Procedure, catalogue: Catalogue) -> Category | None:
    return catalogue.category(proc.category)


def _contact(catalogue: Catalogue, category: Category | None) -> Contact:
    return catalogue.ward.contact_for(category.contact if category else None)


def _call_button(contact: Contact, ward: WardProfile) -> Button:
    """A call button titled "Gọi <label>" when it fits (the general line: "Gọi <ward name>")."""
    for title in (f"Gọi {contact.label}", f"Gọi {ward.name}"):
        if len(title) <= texts.BUTTON_TITLE_LIMIT:
            return Button(title, ButtonKind.phone, contact.dial)
        if contact != ward.contact_for(None):
            break
    return Button(texts.CALL_FALLBACK_TITLE, ButtonKind.phone, contact.dial)


def _general_call_button(ward: WardProfile) -> Button:
    return _call_button(ward.contact_for(None), ward)


def _portal_button(proc: Procedure) -> Button:
    return Button(texts.PORTAL_TITLE, ButtonKind.url, proc.dvc.best_url)


def _menu_button() -> Button:
    return Button(texts.MENU_TITLE, ButtonKind.query, texts.MENU_PAYLOAD)


def _phone_line(contact: Contact) -> str:
    return f"☎ {contact.label}: {contact.phone}"


def _portal_block(proc: Procedure) -> str:
    if proc.dvc.detail_url:
        return f"🔗 Thông tin chính thức trên Cổng Dịch vụ công:\n{proc.dvc.detail_url}"
    return (
        "🔗 Tra cứu trên Cổng Dịch vụ công (đường dẫn mở trang tìm kiếm, anh/chị bấm vào đúng "
        f"tên thủ tục trong kết quả):\n{proc.dvc.search_url}"
    )


def _ask_staff(contact: Contact) -> str:
    return (
        "Anh/chị vui lòng xem trên Cổng Dịch vụ công hoặc gọi "
        f"{contact.label}, số {contact.phone}, để được hướng dẫn chính xác ạ."
    )


def _not_known(what: str, proc: Procedure) -> str:
    return f"Dạ, em chưa có thông tin chính thức về {what} của thủ tục {display_name(proc)} ạ."


def _fact(label: str, value: str) -> str:
    """A fact after its label, without repeating it ("Lệ phí: Lệ phí do HĐND..." -> "Lệ phí: do
    HĐND...")."""
    text = plain(value)
    if text.lower().startswith(label.lower() + " "):
        text = text[len(label) + 1 :]
    return text


def _sentence(text: str) -> str:
    return plain(text).rstrip(" .")


# --- where a procedure is handled -----------------------------------------------------------


def _redirect(
    proc: Procedure, ward: WardProfile, contact: Contact, subject: str = "Dạ, thủ tục này"
) -> str | None:
    """Police and military procedures: who really handles them, said before anything else."""
    if proc.handled_by is HandledBy.police:
        police = ward.police
        return "\n".join(
            [
                f"{subject} do Công an cấp xã giải quyết, không nộp tại {texts.ONE_STOP_NAME} "
                "ạ. Anh/chị liên hệ:",
                police.name,
                f"📍 {police.address}",
                f"☎ {police.phone or contact.phone}",
            ]
        )
    if proc.handled_by is HandledBy.military:
        return "\n".join(
            [
                f"{subject} do Ban Chỉ huy quân sự cấp xã giải quyết ạ. Anh/chị liên hệ:",
                _phone_line(contact),
            ]
        )
    return None


def _in_person_place(proc: Procedure, ward: WardProfile) -> str:
    if proc.handled_by is HandledBy.police:
        return f"{ward.police.name} ({ward.police.address})"
    if proc.handled_by is HandledBy.military:
        return "Ban Chỉ huy quân sự cấp xã"
    return ward.address


def _channel_line(
    channel: str, proc: Procedure, ward: WardProfile, place_given: bool = False
) -> str:
    low = channel.strip().lower()
    if low in ("trực tiếp", "trực tiếp tại ttpvhcc"):
        place = "địa chỉ trên" if place_given else _in_person_place(proc, ward)
        return f"Trực tiếp tại {place}"
    if low == "trực tuyến":
        return f"Trực tuyến trên {texts.PORTAL_NAME}"
    if low == "bưu chính":
        return "Qua dịch vụ bưu chính"
    return capitalise(plain(channel))


def _is_online(channel: str) -> bool:
    return channel.strip().lower().startswith("trực tuyến")


def _channel_lines(
    proc: Procedure, ward: WardProfile, *, only_online: bool = False, place_given: bool = False
) -> list[str]:
    return [
        f"• {_channel_line(c, proc, ward, place_given)}"
        for c in proc.channels or ()
        if _is_online(c) or not only_online
    ]


# --- buttons --------------------------------------------------------------------------------


def full_view_button(proc: Procedure) -> Button:
    payload = texts.FULL_CARD_PAYLOAD.format(name=proc.short_name)
    return Button(texts.FULL_CARD_TITLE, ButtonKind.query, payload)


def case_payload(proc: Procedure, case: PlainCase) -> str:
    """What a situation's button sends: the dialogue answers it with that case's documents."""
    return f"{proc.short_name}: {case.title}"


def _buttons(
    proc: Procedure, contact: Contact, ward: WardProfile, cases: Sequence[PlainCase] = ()
) -> tuple[Button, ...]:
    """Situations first (when the resident must choose), then the full view, portal and phone."""
    if not cases:
        return (full_view_button(proc), _portal_button(proc), _call_button(contact, ward))
    chosen = [Button(c.title, ButtonKind.query, case_payload(proc, c)) for c in cases]
    buttons = [*chosen[:MAX_CASE_BUTTONS], full_view_button(proc)]
    for extra in (_call_button(contact, ward), _portal_button(proc)):
        if len(buttons) < MAX_BUTTONS:
            buttons.append(extra)
    return tuple(buttons)


def offered_cases(proc: Procedure, aspects: Sequence[str]) -> tuple[PlainCase, ...]:
    """The situations a reply about `aspects` asks the resident to choose from."""
    if proc.plain is None or "documents" not in aspects:
        return ()
    return proc.plain.cases


# --- the full view ("Xem đầy đủ") -----------------------------------------------------------


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
    contact = _contact(catalogue, _category(proc, catalogue))
    missing_any = False

    redirect = _redirect(proc, ward, contact, subject=f"Dạ, thủ tục {display_name(proc)}")
    opener = [] if redirect else ["Dạ, em gửi anh/chị toàn bộ thông tin thủ tục ạ:"]
    header = [*opener, f"📋 {plain(proc.name)}", f"Mã thủ tục: {proc.code}"]
    if proc.handled_by is HandledBy.one_stop:
        header.append(f"Cơ quan giải quyết: {plain(proc.agency)}")

    blocks = _full_documents(proc)
    if not proc.documents.known and proc.plain is None:
        missing_any = True
        blocks.insert(0, f"Hồ sơ cần chuẩn bị: {_NOT_KNOWN} về thành phần hồ sơ của thủ tục này ạ.")

    deadline = facts.deadline_summary(proc)
    timing = [
        f"Thời hạn giải quyết: {_fact('Thời hạn giải quyết', deadline)}"
        if deadline
        else f"Thời hạn giải quyết: {_NOT_KNOWN}."
    ]
    timing += bullets(facts.deadline_details(proc))
    fee = facts.fee_summary(proc)
    local = facts.local_fee(proc, ward)
    charges = [f"Lệ phí: {_fact('Lệ phí', fee)}" if fee else f"Lệ phí: {_NOT_KNOWN}."]
    if local is not None:
        charges.append(facts.local_fee_line(local, ward))
    charges += bullets(facts.fee_details(proc))
    missing_any = missing_any or deadline is None or (fee is None and local is None)
    result = ["Kết quả:", *bullets(proc.result)] if proc.result else None
    steps = f"Trình tự thực hiện: {plain(proc.steps)}" if proc.steps else None

    if proc.channels:
        channels = ["Cách nộp hồ sơ:", *_channel_lines(proc, ward)]
    else:
        missing_any = True
        channels = [f"Cách nộp hồ sơ: {_NOT_KNOWN}."]
        if proc.handled_by is HandledBy.one_stop:
            channels.insert(0, f"📍 Nơi tiếp nhận: {ward.address}")
    basis = ["Căn cứ pháp lý:", *bullets(proc.legal_basis)] if proc.legal_basis else None

    ask = [
        "Với những mục em chưa có thông tin, anh/chị vui lòng xem trên Cổng Dịch vụ công "
        "hoặc gọi cán bộ để được hướng dẫn chính xác ạ:"
        if missing_any
        else "Cần hỏi thêm, anh/chị gọi:",
        _phone_line(contact),
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
        _portal_block(proc),
        ask,
    )
    return Reply(text, (_portal_button(proc), _call_button(contact, ward)))


# --- the short card (the procedure named without a question) --------------------------------


def procedure_summary(proc: Procedure, catalogue: Catalogue) -> Reply:
    """The procedure in one message: name and code, what to bring (the common situation, or
    the situations to choose from), deadline, fee, where; "Xem đầy đủ" for the rest."""
    ward = catalogue.ward
    contact = _contact(catalogue, _category(proc, catalogue))
    name = display_name(proc)
    redirect = _redirect(proc, ward, contact, subject=f"Dạ, thủ tục {name}")
    opener = [] if redirect else ["Dạ, em gửi anh/chị thông tin thủ tục ạ:"]
    header = [*opener, f"📋 {plain(proc.name)}", f"Mã thủ tục: {proc.code}"]
    deadline = facts.deadline_summary(proc)
    fee = facts.fee_summary(proc)
    local = facts.local_fee(proc, ward)
    summary = [
        f"Thời hạn giải quyết: {_fact('Thời hạn giải quyết', deadline)}"
        if deadline
        else f"Thời hạn giải quyết: {_NOT_KNOWN}.",
        f"Lệ phí: {_fact('Lệ phí', fee)}" if fee else f"Lệ phí: {_NOT_KNOWN}.",
    ]
    if local is not None:
        summary.append(facts.local_fee_line(local, ward))
    if proc.channels:
        where = ["Cách nộp hồ sơ:", *_channel_lines(proc, ward)]
    else:
        where = [f"📍 Nơi tiếp nhận: {_in_person_place(proc, ward)}"]
    closing = [
        f"Anh/chị bấm “{texts.FULL_CARD_TITLE}” để xem toàn bộ thông tin thủ tục ạ.",
        _phone_line(contact),
    ]
    fixed = paragraphs(redirect, header, summary, where, _portal_block(proc), closing)
    answer = documents.first_answer(proc, name, MESSAGE_LIMIT - len(fixed) - 4, lead=False)
    text = paragraphs(
        redirect, header, *answer.paragraphs, summary, where, _portal_block(proc), closing
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
        return [_not_known("thời hạn giải quyết", proc)], True
    lead = [f"Dạ, thời hạn giải quyết thủ tục {display_name(proc)}:\n{_sentence(summary)} ạ."]
    if proc.plain is not None or proc.deadline is not None:
        return lead, False
    return _with_record_notes(
        lead, "Theo Cổng Dịch vụ công:", facts.deadline_notes(proc), budget
    ), False


def _fee_detail(proc: Procedure, ward: WardProfile, budget: int) -> Answer:
    summary = facts.fee_summary(proc)
    local = facts.local_fee(proc, ward)
    if summary is None and local is None:
        return [_not_known("lệ phí", proc)], True
    lead = [
        f"Dạ, lệ phí thủ tục {display_name(proc)}:\n{_sentence(summary or facts.PROVINCE_SETS)} ạ."
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
    redirect = _redirect(proc, ward, contact, subject=f"Dạ, thủ tục {name}")
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
    ways = _channel_lines(proc, ward, place_given=redirect is None)
    lines.append("\n".join(["Anh/chị có thể nộp hồ sơ:", *ways]))
    return lines, False


def _online_detail(proc: Procedure, ward: WardProfile) -> Answer:
    name = display_name(proc)
    if proc.channels is None:
        return [_not_known("việc nộp hồ sơ trực tuyến", proc)], True
    online = _channel_lines(proc, ward, only_online=True)
    if online:
        lines = [
            "\n".join([f"Dạ, thủ tục {name} có thể nộp trực tuyến ạ:", *online]),
            "Anh/chị đăng nhập Cổng Dịch vụ công quốc gia bằng tài khoản định danh điện tử "
            "VNeID, tìm đúng thủ tục rồi điền tờ khai và đính kèm giấy tờ.",
            _portal_block(proc),
        ]
        return lines, False
    lines = [
        f"Dạ, theo thông tin em có, thủ tục {name} chưa nhận hồ sơ trực tuyến ạ.",
        "\n".join(["Anh/chị nộp hồ sơ theo cách sau:", *_channel_lines(proc, ward)]),
    ]
    return lines, False


def _has_documents(proc: Procedure) -> bool:
    return proc.plain is not None or proc.documents.known


def _steps_detail(proc: Procedure, ward: WardProfile) -> Answer:
    steps: list[str] = []
    if _has_documents(proc):
        steps.append(f"Chuẩn bị hồ sơ theo danh sách (bấm “{texts.FULL_CARD_TITLE}” để xem).")
    else:
        steps.append(f"Chuẩn bị hồ sơ ({_NOT_KNOWN} về danh sách giấy tờ).")
    if proc.channels:
        steps.append("\n".join(["Nộp hồ sơ theo một trong các cách:", *_channel_lines(proc, ward)]))
    else:
        steps.append(
            f"Nộp hồ sơ tại {_in_person_place(proc, ward)}; {_NOT_KNOWN} về các cách nộp khác."
        )
    deadline = facts.deadline_summary(proc)
    if deadline:
        steps.append(f"Chờ giải quyết: {_sentence(deadline)}.")
    else:
        steps.append(f"Chờ giải quyết ({_NOT_KNOWN} về thời hạn).")
    result = "; ".join(proc.result)
    steps.append(f"Nhận kết quả: {_sentence(result)}." if result else "Nhận kết quả.")
    fee = facts.fee_summary(proc)
    fee_line = f"Lệ phí: {_sentence(fee)}." if fee else f"Lệ phí: {_NOT_KNOWN}."
    lead = f"Dạ, các bước làm thủ tục {display_name(proc)} ạ:"
    lines = ["\n".join([lead, *numbered(steps), fee_line])]
    missing = not (_has_documents(proc) and proc.channels and deadline and fee)
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
    contact = _contact(catalogue, _category(proc, catalogue))
    cases = offered_cases(proc, aspects)
    closing = f"Anh/chị bấm “{texts.FULL_CARD_TITLE}” để xem toàn bộ thông tin thủ tục ạ."
    redirect = None
    if "where" not in aspects:
        # Residence and military matters: right after the answer, before the resident sets off.
        redirect = _redirect(proc, ward, contact, subject="Lưu ý: thủ tục này")
    fixed_room = len(paragraphs(redirect, _ask_staff(contact), _portal_block(proc), closing))
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
        body += [_ask_staff(contact), _portal_block(proc)]
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
    contact = _contact(catalogue, _category(proc, catalogue))
    closing = f"Anh/chị bấm “{texts.FULL_CARD_TITLE}” để xem toàn bộ thông tin thủ tục ạ."
    redirect = _redirect(proc, ward, contact, subject="Lưu ý: thủ tục này")
    room = MESSAGE_LIMIT - len(paragraphs(redirect, closing)) - 4
    body = documents.case_answer(proc, index, display_name(proc), room)
    if redirect is not None:
        body.insert(1, redirect)
    return Reply(paragraphs(*body, closing), _buttons(proc, contact, ward))


# --- choosing -------------------------------------------------------------------------------


def clarify(options: Sequence[Procedure]) -> Reply:
    """Ask which of a few close procedures the resident means; they may answer with the number.
    With one option: is it this one (a button), or another from the menu."""
    if not options:
        raise ValueError("clarify needs at least one option")
    if len(options) == 1:
        text = (
            f"Dạ, có phải anh/chị hỏi về thủ tục {display_name(options[0])} không ạ? "
            "Anh/chị bấm để xem, hoặc bấm “Danh sách thủ tục” để chọn thủ tục khác."
        )
        return Reply(text, (*_choice_buttons(options), _menu_button()))
    lines = numbered([display_name(p) for p in options])
    text = paragraphs(
        "Dạ, ý anh/chị là thủ tục nào ạ?",
        lines,
        "Anh/chị bấm chọn hoặc nhắn số thứ tự giúp em ạ.",
    )
    return Reply(text, _choice_buttons(options[:MAX_CLARIFY_BUTTONS]))


def _choice_buttons(options: Sequence[Procedure]) -> tuple[Button, ...]:
    """One button per option, sending its short name. Two options with the same short name
    would send the same text, so those send their number instead (the list is numbered)."""
    names = [p.short_name for p in options]
    buttons: list[Button] = []
    for index, name in enumerate(names, start=1):
        if names.count(name) == 1:
            buttons.append(Button(name, ButtonKind.query, name))
        else:
            buttons.append(Button(f"{index}. {name}", ButtonKind.query, str(index)))
    return tuple(buttons)


def menu(catalogue: Catalogue) -> Reply:
    """All categories, numbered in the text; the first MAX_BUTTONS also as buttons."""
    lines = numbered([c.name for c in catalogue.categories])
    text = paragraphs(
        "Dạ, anh/chị cần hỏi thủ tục thuộc lĩnh vực nào ạ?",
        lines,
        "Anh/chị bấm chọn, hoặc nhắn số thứ tự hay tên lĩnh vực giúp em ạ.",
    )
    buttons = tuple(
        Button(c.name, ButtonKind.query, c.name) for c in catalogue.categories[:MAX_BUTTONS]
    )
    return Reply(text, buttons)


def category_list(category: Category, procedures: Sequence[Procedure]) -> Reply:
    """The procedures of one category, numbered in the order given."""
    if not procedures:
        text = (
            f"Dạ, hiện em chưa có thông tin thủ tục nào thuộc lĩnh vực {category.name} ạ. "
            "Anh/chị bấm “Danh sách thủ tục” để chọn lĩnh vực khác."
        )
        return Reply(text, (_menu_button(),))
    text = paragraphs(
        f"Dạ, các thủ tục thuộc lĩnh vực {category.name}:",
        numbered([display_name(p) for p in procedures]),
        "Anh/chị nhắn tên hoặc số thứ tự của thủ tục cần hỏi giúp em ạ.",
    )
    return Reply(text, (_menu_button(),))


# --- intents --------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _template(source: str) -> Template:
    env = Environment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
    return env.from_string(source)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def intent_answer(intent: Intent, catalogue: Catalogue, now: datetime) -> Reply:
    """An intent's Jinja2 answer, rendered with the ward's facts, plus buttons that fit it.

    The template sees ward, hours (lines), open_now, contacts ((label, phone) pairs) and
    next_opening (e.g. "07:30 sáng mai", or None). A template error propagates: the content
    tests and `wardbot validate` render every intent so it is caught before it is served.
    """
    ward = catalogue.ward
    context = {
        "ward": ward,
        "hours": hours_lines(ward),
        "open_now": is_open(ward, now),
        "next_opening": next_opening_phrase(ward, now),
        "contacts": [(c.label, c.phone) for c in ward.contacts.values()],
    }
    text = _tidy(_template(intent.answer).render(context))
    call = _general_call_button(ward)
    buttons: tuple[Button, ...]
    if intent.id == "thanks":
        buttons = ()
    elif intent.id in ("greeting", "help"):
        buttons = (_menu_button(), call)
    elif intent.id == "online_services":
        national = Button(texts.NATIONAL_PORTAL_TITLE, ButtonKind.url, ward.national_portal_url)
        buttons = (national,)
        if ward.provincial_portal_url.rstrip("/") != ward.national_portal_url.rstrip("/"):
            provincial = Button(
                texts.PROVINCIAL_PORTAL_TITLE, ButtonKind.url, ward.provincial_portal_url
            )
            buttons += (provincial,)
        buttons += (_menu_button(),)
    elif intent.id in ("office_hours", "contact", "handoff"):
        buttons = (call,)
    else:
        buttons = (_menu_button(), call)
    return Reply(text, buttons)


# --- conversation frames --------------------------------------------------------------------


def _examples(catalogue: Catalogue, count: int) -> list[str]:
    """Procedures to quote as examples: documented ones first, as residents would name them."""
    ordered = sorted(catalogue.procedures, key=lambda p: not _has_documents(p))
    return [p.short_name for p in ordered[:count]]


def welcome(catalogue: Catalogue) -> Reply:
    """The first message after a resident follows the OA."""
    ward = catalogue.ward
    questions = [
        f"“{name} {ending}”"
        for name, ending in zip(
            _examples(catalogue, 2), ("cần giấy tờ gì?", "mất mấy ngày?"), strict=False
        )
    ]
    questions.append(f"“{ward.name} làm việc mấy giờ?”")
    text = paragraphs(
        f"Dạ, {ward.name} xin chào anh/chị và cảm ơn anh/chị đã quan tâm theo dõi ạ.",
        "Em là trợ lý tự động, có thể hướng dẫn anh/chị giấy tờ cần chuẩn bị, thời hạn, lệ phí "
        "của các thủ tục hành chính, cách nộp hồ sơ trực tuyến, giờ làm việc và số điện thoại "
        "liên hệ.",
        ["Anh/chị cứ nhắn câu hỏi ngắn gọn, ví dụ:", *(f"• {q}" for q in questions)],
        f"Hoặc bấm “{texts.MENU_TITLE}” để chọn theo lĩnh vực ạ.",
        "Để phản ánh, kiến nghị (đèn đường, rác thải, an ninh trật tự…), anh/chị nhắn "
        "“phản ánh: nội dung ở địa điểm” hoặc bấm “Phản ánh” ạ.",
    )
    report = Button("Phản ánh", ButtonKind.query, "Phản ánh")
    return Reply(text, (_menu_button(), report, _general_call_button(ward)))


def fallback(catalogue: Catalogue) -> Reply:
    """Nothing matched: say what the bot can help with, offer the menu and the general line."""
    ward = catalogue.ward
    examples = ", ".join(f"“{name}”" for name in _examples(catalogue, 2))
    hint = f" (ví dụ: {examples})" if examples else ""
    text = paragraphs(
        "Dạ, em xin lỗi, em chưa tìm được thông tin phù hợp với câu hỏi của anh/chị ạ.",
        "Em có thể hướng dẫn giấy tờ, thời hạn, lệ phí của các thủ tục hành chính, giờ làm việc "
        f"và số điện thoại của {ward.name}. Anh/chị nhắn tên thủ tục{hint} hoặc bấm "
        f"“{texts.MENU_TITLE}” giúp em ạ.",
        ["Cần trao đổi với cán bộ, anh/chị gọi:", _phone_line(ward.contact_for(None))],
    )
    return Reply(text, (_menu_button(), _general_call_button(ward)))


def _office_status(ward: WardProfile, contact: Contact, now: datetime) -> list[str]:
    if is_open(ward, now):
        return [
            "Hiện đang trong giờ làm việc ạ.",
            "\n".join(["Nếu cần gấp, anh/chị có thể gọi ngay:", _phone_line(contact)]),
        ]
    opening = next_opening_phrase(ward, now)
    status = "Hiện đang ngoài giờ làm việc ạ."
    if opening is not None:
        status += f" {ward.name} làm việc trở lại lúc {opening}."
    return [status, "\n".join(["Trong giờ làm việc, anh/chị có thể gọi:", _phone_line(contact)])]


def _handoff(catalogue: Catalogue, category: Category | None, now: datetime, opening: str) -> Reply:
    ward = catalogue.ward
    contact = _contact(catalogue, category)
    text = paragraphs(
        f"{opening} câu hỏi của anh/chị tới cán bộ {ward.name}. Cán bộ sẽ trả lời anh/chị "
        "ngay trong cuộc trò chuyện này khi có thể ạ.",
        *_office_status(ward, contact, now),
    )
    return Reply(text, (_call_button(contact, ward),))


def handoff(catalogue: Catalogue, category: Category | None, now: datetime) -> Reply:
    """The resident asked for a person: who will answer, whether the office is open now (if not,
    when it opens) and the phone line for the category (the general line without one)."""
    return _handoff(catalogue, category, now, "Dạ, em đã chuyển")


def second_failure_handoff(catalogue: Catalogue, category: Category | None, now: datetime) -> Reply:
    """After two messages in a row the bot did not understand: apologise, then hand off."""
    opening = "Dạ, em xin lỗi, em chưa hiểu được ý anh/chị. Em đã chuyển"
    return _handoff(catalogue, category, now, opening)
