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

from app.catalogue.intents import Intent
from app.catalogue.models import (
    Catalogue,
    Category,
    Contact,
    Documents,
    HandledBy,
    Procedure,
    WardProfile,
)
from app.dialogue import texts
from app.dialogue.hours import hours_lines, is_open, next_opening_phrase
from app.dialogue.reply import MAX_BUTTONS, Button, ButtonKind, Reply
from app.dialogue.texts import bullets, capitalise, numbered, paragraphs, plain

Aspect = Literal["documents", "deadline", "fee", "where", "online", "steps"]
ASPECTS: tuple[str, ...] = get_args(Aspect)

MAX_CLARIFY_BUTTONS = 4
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


# --- documents ------------------------------------------------------------------------------


def _document_sections(docs: Documents) -> list[str]:
    """Documents as paragraphs: submit, present, per case, notes, then any unverified list."""
    sections: list[str] = []
    if docs.submit:
        sections.append(paragraphs(["Giấy tờ cần nộp:", *bullets(docs.submit)]))
    if docs.present:
        sections.append(paragraphs(["Giấy tờ cần xuất trình:", *bullets(docs.present)]))
    if docs.cases:
        heading = "Tùy từng trường hợp:" if sections else "Hồ sơ theo từng trường hợp:"
        for index, case in enumerate(docs.cases, start=1):
            lines = [heading] if index == 1 else []
            lines.append(f"{index}. {capitalise(plain(case.label))}")
            if case.submit:
                lines += ["Cần nộp:", *bullets(case.submit)]
            if case.present:
                lines += ["Cần xuất trình:", *bullets(case.present)]
            sections.append(paragraphs(lines))
    if docs.notes:
        sections.append(paragraphs(["Lưu ý:", *bullets(docs.notes)]))
    if docs.unverified_expected:
        intro = (
            "Ngoài ra, theo nguồn chưa kiểm chứng, cần hỏi lại cán bộ, có thể cần thêm:"
            if docs.known
            else "Thông tin dưới đây theo nguồn chưa kiểm chứng, cần hỏi lại cán bộ "
            "trước khi chuẩn bị:"
        )
        sections.append(paragraphs([intro, *bullets(docs.unverified_expected)]))
    return sections


# --- the full card --------------------------------------------------------------------------


def procedure_card(proc: Procedure, catalogue: Catalogue) -> Reply:
    """Everything the catalogue knows about one procedure, in the order a resident needs it."""
    ward = catalogue.ward
    contact = _contact(catalogue, _category(proc, catalogue))
    missing_any = False

    redirect = _redirect(proc, ward, contact, subject=f"Dạ, thủ tục {display_name(proc)}")
    opener = [] if redirect else ["Dạ, em gửi anh/chị thông tin thủ tục ạ:"]
    header = [*opener, f"📋 {plain(proc.name)}", f"Mã thủ tục: {proc.code}"]
    if proc.handled_by is HandledBy.one_stop:
        header.append(f"Cơ quan giải quyết: {plain(proc.agency)}")

    documents = _document_sections(proc.documents)
    if not proc.documents.known:
        missing_any = True
        documents.insert(
            0, f"Hồ sơ cần chuẩn bị: {_NOT_KNOWN} về thành phần hồ sơ của thủ tục này ạ."
        )

    conditions = ["Điều kiện:", *bullets(proc.conditions)] if proc.conditions else None

    facts: list[str] = []
    for label, value in (("Thời hạn giải quyết", proc.deadline), ("Lệ phí", proc.fee)):
        facts.append(f"{label}: {_fact(label, value)}" if value else f"{label}: {_NOT_KNOWN}.")
        missing_any = missing_any or value is None
    if proc.result:
        facts.append(f"Kết quả: {plain(proc.result)}")

    if proc.channels:
        channels = ["Cách nộp hồ sơ:", *_channel_lines(proc, ward)]
    else:
        missing_any = True
        channels = [f"Cách nộp hồ sơ: {_NOT_KNOWN}."]
        if proc.handled_by is HandledBy.one_stop:
            channels.insert(0, f"📍 Nơi tiếp nhận: {ward.address}")

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
        *documents,
        conditions,
        facts,
        channels,
        _portal_block(proc),
        ask,
    )
    return Reply(text, (_portal_button(proc), _call_button(contact, ward)))


# --- one detail -----------------------------------------------------------------------------


Answer = tuple[list[str], bool]
"""Paragraphs answering one aspect, and whether a fact was missing (then the reply ends with
where to look and whom to call)."""


def _documents_detail(proc: Procedure) -> Answer:
    sections = _document_sections(proc.documents)
    if proc.documents.known:
        return [f"Dạ, hồ sơ thủ tục {display_name(proc)} như sau ạ:", *sections], False
    return [_not_known("thành phần hồ sơ", proc), *sections], True


def _fact_detail(proc: Procedure, value: str | None, what: str) -> Answer:
    if value is None:
        return [_not_known(what, proc)], True
    return [f"Dạ, {what} thủ tục {display_name(proc)}:\n{_sentence(value)} ạ."], False


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


def _steps_detail(proc: Procedure, ward: WardProfile) -> Answer:
    steps: list[str] = []
    if proc.documents.known:
        steps.append(f"Chuẩn bị hồ sơ theo danh sách (bấm “{texts.FULL_CARD_TITLE}” để xem).")
    else:
        steps.append(f"Chuẩn bị hồ sơ ({_NOT_KNOWN} về danh sách giấy tờ).")
    if proc.channels:
        steps.append("\n".join(["Nộp hồ sơ theo một trong các cách:", *_channel_lines(proc, ward)]))
    else:
        steps.append(
            f"Nộp hồ sơ tại {_in_person_place(proc, ward)}; {_NOT_KNOWN} về các cách nộp khác."
        )
    if proc.deadline:
        steps.append(f"Chờ giải quyết: {_sentence(proc.deadline)}.")
    else:
        steps.append(f"Chờ giải quyết ({_NOT_KNOWN} về thời hạn).")
    steps.append(f"Nhận kết quả: {_sentence(proc.result)}." if proc.result else "Nhận kết quả.")
    fee = f"Lệ phí: {_sentence(proc.fee)}." if proc.fee else f"Lệ phí: {_NOT_KNOWN}."
    lead = f"Dạ, các bước làm thủ tục {display_name(proc)} ạ:"
    lines = ["\n".join([lead, *numbered(steps), fee])]
    missing = not (proc.documents.known and proc.channels and proc.deadline and proc.fee)
    return lines, missing


def _aspect_answer(proc: Procedure, aspect: str, ward: WardProfile, contact: Contact) -> Answer:
    if aspect == "documents":
        return _documents_detail(proc)
    if aspect == "deadline":
        return _fact_detail(proc, proc.deadline, "thời hạn giải quyết")
    if aspect == "fee":
        return _fact_detail(proc, proc.fee, "lệ phí")
    if aspect == "where":
        return _where_detail(proc, ward, contact)
    if aspect == "online":
        return _online_detail(proc, ward)
    if aspect == "steps":
        return _steps_detail(proc, ward)
    raise ValueError(f"unknown aspect {aspect!r}; expected one of {ASPECTS}")


def procedure_details(proc: Procedure, aspects: Sequence[str], catalogue: Catalogue) -> Reply:
    """Several aspects in one message (e.g. "giấy tờ gì, mất mấy ngày"), each fact first.

    Police and military procedures say who handles them once, after the first answer (or in
    the "where" answer). A missing fact ends the reply with the portal link and the phone line.
    Raises ValueError for an aspect outside ASPECTS: that is a caller's bug.
    """
    if not aspects:
        raise ValueError("procedure_details needs at least one aspect")
    ward = catalogue.ward
    contact = _contact(catalogue, _category(proc, catalogue))
    body: list[str] = []
    missing_any = False
    for index, aspect in enumerate(aspects):
        part, missing = _aspect_answer(proc, aspect, ward, contact)
        missing_any = missing_any or missing
        if index > 0 and part and part[0].startswith("Dạ, "):
            part[0] = capitalise(part[0].removeprefix("Dạ, "))
        body += part
    if "where" not in aspects:
        # Residence and military matters: right after the answer, before the resident sets off.
        redirect = _redirect(proc, ward, contact, subject="Lưu ý: thủ tục này")
        if redirect is not None:
            body.insert(1, redirect)
    if missing_any:
        body += [_ask_staff(contact), _portal_block(proc)]
    body.append(f"Anh/chị bấm “{texts.FULL_CARD_TITLE}” để xem toàn bộ thông tin thủ tục ạ.")
    buttons = (
        Button(texts.FULL_CARD_TITLE, ButtonKind.query, proc.short_name),
        _portal_button(proc),
        _call_button(contact, ward),
    )
    return Reply(paragraphs(*dict.fromkeys(body)), buttons)


def procedure_detail(proc: Procedure, aspect: str, catalogue: Catalogue) -> Reply:
    """One aspect of a procedure (one of ASPECTS), the fact first, then an offer of the card.

    Raises ValueError for an unknown aspect: that is a bug in the caller, not a resident's input.
    """
    return procedure_details(proc, (aspect,), catalogue)


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
    ordered = sorted(catalogue.procedures, key=lambda p: not p.documents.known)
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
