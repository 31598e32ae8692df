"""The full view ("Xem đầy đủ"): everything the catalogue holds about a procedure, in pages. One
tap sends one page of at most MAX_PAGE_MESSAGES Zalo messages; nothing is left out.

A record that fits in one page is sent whole, in the order a resident needs it: documents,
deadline, fee, where to submit, then result, steps and legal basis. A longer one opens with what
matters most (the plain version's documents, deadline, fee, where), then the record's sections
in order. A page that is not the last ends with what is left and a "Xem tiếp" button whose
payload names the procedure and the next page, so every tap is answered without state.

Pages are laid out here, message by message: each message fits MESSAGE_LIMIT and each boundary
between messages is a paragraph break, so the Zalo client (which cuts at the last paragraph break
that fits, app.zalo.split) cuts there and nowhere else. An item is never cut between pages (only
one longer than a page would be); one longer than a message is cut at a sentence end, as it
would be anyway.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from app.catalogue import facts
from app.catalogue.models import Catalogue, HandledBy, Procedure
from app.dialogue import documents, texts
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
from app.dialogue.reply import MESSAGE_LIMIT, Button, ButtonKind, Reply
from app.dialogue.texts import bullets, capitalise, numbered, plain

MAX_PAGE_MESSAGES = 3
"""Messages one tap may send: more is a wall of text on an elderly resident's phone."""
FOOTER_ROOM = 320
"""Room kept at the end of a page that is not the last, for what is left and what to tap."""
_TOTAL = "\x00"
"""Stands for each digit of the page count while pages are laid out (it is known only after)."""
_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+")
_SPACE = re.compile(r"\s+")
_CASE_TITLE = re.compile(r"Trường hợp (\d+)")


# --- what the full view says, as sections -------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One paragraph of the full view. `title` names it in a page's "Còn: ..." line (None: the
    header and the closing, which are never listed)."""

    title: str | None
    lines: tuple[str, ...]

    @cached_property
    def units(self) -> tuple[str, ...]:
        """The lines that stay together in one message: a heading (a titled section's first
        line, or any line ending with ":") is kept with the line after it."""
        units: list[str] = []
        glued = ""
        for position, line in enumerate(self.lines):
            glued = f"{glued}\n{line}" if glued else line
            heading = line.endswith(":") or (position == 0 and self.title is not None)
            if not heading:
                units.append(glued)
                glued = ""
        if glued:
            units.append(glued)
        return tuple(units)

    @property
    def text(self) -> str:
        return "\n".join(self.units)


def _section(title: str | None, lines: Iterable[str | None]) -> Section | None:
    """A section of the given lines (tidied as `texts.paragraphs` does), None when all are empty."""
    tidy = [
        unicodedata.normalize("NFC", "\n".join(part.rstrip() for part in line.strip().splitlines()))
        for line in lines
        if line and line.strip()
    ]
    return Section(title, tuple(tidy)) if tidy else None


def _record_documents(proc: Procedure) -> list[Section | None]:
    sections = documents.record_sections(proc.documents, whole=True)
    sections += documents.record_note_sections(proc)
    return [
        _section(heading.split(":")[0] if heading else None, [heading, *lines])
        for heading, lines in sections
    ]


def _header(proc: Procedure, catalogue: Catalogue, opener: str) -> list[Section | None]:
    ward = catalogue.ward
    contact = procedure_contact(proc, catalogue)
    redirect = handled_elsewhere(proc, ward, contact, subject=f"Dạ, thủ tục {display_name(proc)}")
    header = [None if redirect else opener, f"📋 {plain(proc.name)}", f"Mã thủ tục: {proc.code}"]
    if proc.handled_by is HandledBy.one_stop:
        header.append(f"Cơ quan giải quyết: {plain(proc.agency)}")
    return [_section(None, [redirect]), _section(None, header)]


def _deadline_line(proc: Procedure) -> str:
    deadline = facts.deadline_summary(proc)
    if deadline is None:
        return f"Thời hạn giải quyết: {NOT_KNOWN}."
    return f"Thời hạn giải quyết: {without_label('Thời hạn giải quyết', deadline)}"


def _fee_lines(proc: Procedure, catalogue: Catalogue) -> list[str]:
    fee = facts.fee_summary(proc)
    local = facts.local_fee(proc, catalogue.ward)
    lines = [f"Lệ phí: {without_label('Lệ phí', fee)}" if fee else f"Lệ phí: {NOT_KNOWN}."]
    if local is not None:
        lines.append(facts.local_fee_line(local, catalogue.ward))
    return lines


def _where(proc: Procedure, catalogue: Catalogue) -> Section | None:
    ward = catalogue.ward
    if proc.channels:
        return _section("Cách nộp hồ sơ", ["Cách nộp hồ sơ:", *channel_lines(proc, ward)])
    lines = [f"Cách nộp hồ sơ: {NOT_KNOWN}."]
    if proc.handled_by is HandledBy.one_stop:
        lines.insert(0, f"📍 Nơi tiếp nhận: {ward.address}")
    return _section("Cách nộp hồ sơ", lines)


def _missing_any(proc: Procedure, catalogue: Catalogue) -> bool:
    no_fee = facts.fee_summary(proc) is None and facts.local_fee(proc, catalogue.ward) is None
    no_documents = not proc.documents.known and proc.plain is None
    return no_documents or facts.deadline_summary(proc) is None or no_fee or not proc.channels


def _closing(proc: Procedure, catalogue: Catalogue) -> list[Section | None]:
    ask = (
        "Với những mục em chưa có thông tin, anh/chị vui lòng xem trên Cổng Dịch vụ công "
        "hoặc gọi cán bộ để được hướng dẫn chính xác ạ:"
        if _missing_any(proc, catalogue)
        else "Cần hỏi thêm, anh/chị gọi:"
    )
    contact = procedure_contact(proc, catalogue)
    return [_section(None, [portal_block(proc)]), _section(None, [ask, phone_line(contact)])]


def _later_sections(proc: Procedure) -> list[Section | None]:
    """Result, steps and legal basis: what a resident reads once the essentials are known."""
    return [
        _section("Kết quả", ["Kết quả:", *bullets(proc.result)]) if proc.result else None,
        _section("Trình tự thực hiện", [f"Trình tự thực hiện: {plain(proc.steps)}"])
        if proc.steps
        else None,
        _section("Căn cứ pháp lý", ["Căn cứ pháp lý:", *bullets(proc.legal_basis)])
        if proc.legal_basis
        else None,
    ]


def whole_record(proc: Procedure, catalogue: Catalogue) -> list[Section]:
    """The full view as one page: the whole record, in the order a resident needs it."""
    opener = "Dạ, em gửi anh/chị toàn bộ thông tin thủ tục ạ:"
    documents_ = _record_documents(proc)
    if proc.plain is not None and not proc.documents.known:
        documents_.insert(
            0, _section("Hồ sơ", ["Hồ sơ cần chuẩn bị:", *bullets(proc.plain.documents)])
        )
    if not proc.documents.known and proc.plain is None:
        said = f"Hồ sơ cần chuẩn bị: {NOT_KNOWN} về thành phần hồ sơ của thủ tục này ạ."
        documents_.insert(0, _section("Hồ sơ", [said]))
    deadline = [_deadline_line(proc), *bullets(facts.deadline_details(proc))]
    fee = [*_fee_lines(proc, catalogue), *bullets(facts.fee_details(proc))]
    sections = [
        *_header(proc, catalogue, opener),
        *documents_,
        _section("Thời hạn giải quyết", deadline),
        _section("Lệ phí", fee),
        _where(proc, catalogue),
        *_later_sections(proc),
        *_closing(proc, catalogue),
    ]
    return [s for s in sections if s is not None]


def _essentials(proc: Procedure, catalogue: Catalogue) -> list[Section | None]:
    """What a resident needs first: what to bring (the plain version's documents and each
    situation's own, or the record's situations by name), deadline, fee and where."""
    version = proc.plain
    brought: list[Section | None] = []
    if version is not None:
        common = "Hồ sơ cần chuẩn bị" + (" (trường hợp nào cũng cần):" if version.cases else ":")
        if version.documents:
            brought.append(_section("Hồ sơ", [common, *bullets(version.documents)]))
        for index, case in enumerate(version.cases, start=1):
            heading = f"{index}. {capitalise(plain(case.label)).rstrip(' .:')}:"
            if index == 1:
                lead = (
                    "Cần thêm, tùy trường hợp:" if version.documents else "Giấy tờ tùy trường hợp:"
                )
                heading = f"{lead}\n{heading}"
            brought.append(_section("Hồ sơ", [heading, *bullets(case.documents)]))
        if version.notes:
            brought.append(_section("Hồ sơ", ["Cần lưu ý:", *bullets(version.notes)]))
    elif not proc.documents.known:
        said = f"Hồ sơ cần chuẩn bị: {NOT_KNOWN} về thành phần hồ sơ của thủ tục này ạ."
        brought.append(_section("Hồ sơ", [said]))
    elif proc.documents.cases:
        labels = [documents.clip(documents.case_label(c.label)) for c in proc.documents.cases]
        brought.append(
            _section("Hồ sơ", ["Hồ sơ tùy trường hợp (chi tiết ở phần sau):", *numbered(labels)])
        )
    return [
        *brought,
        _section("Thời hạn giải quyết", [_deadline_line(proc)]),
        _section("Lệ phí", _fee_lines(proc, catalogue)),
        _where(proc, catalogue),
    ]


def paged_record(proc: Procedure, catalogue: Catalogue, total: str) -> list[Section]:
    """The full view of a record longer than a page: the essentials, then the record's sections
    in order (what the essentials said already, the channels and the one-line deadline and fee,
    is not repeated). `total` is the number of pages, as it is to be written."""
    opener = f"Dạ, em gửi anh/chị toàn bộ thông tin thủ tục ạ (trang 1/{total}):"
    record = [s for s in _record_documents(proc) if s is not None]
    deadline_details = bullets(facts.deadline_details(proc))
    fee_details = bullets(facts.fee_details(proc))
    record += [
        s
        for s in (
            _section("Thời hạn giải quyết", ["Thời hạn giải quyết (chi tiết):", *deadline_details])
            if deadline_details
            else None,
            _section("Lệ phí", ["Lệ phí (chi tiết):", *fee_details]) if fee_details else None,
            *_later_sections(proc),
        )
        if s is not None
    ]
    if record:
        first = record[0]
        record[0] = Section(first.title, ("📄 Chi tiết theo Cổng Dịch vụ công:", *first.lines))
    sections = [
        *_header(proc, catalogue, opener),
        *_essentials(proc, catalogue),
        *record,
        *_closing(proc, catalogue),
    ]
    return [s for s in sections if s is not None]


# --- laying out pages -----------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Position:
    """Where a page starts: a section, a unit of it, and a character of that unit."""

    section: int = 0
    unit: int = 0
    char: int = 0

    @property
    def inside(self) -> bool:
        """Part of the section was on the page before."""
        return self.unit > 0 or self.char > 0


@dataclass
class _Page:
    """One page being laid out: its messages, each within its cap."""

    caps: tuple[int, ...]
    messages: list[str] = field(default_factory=lambda: [""])
    opener_only: bool = True
    """Nothing but the page's opening line yet."""

    def room(self, sep: str) -> int:
        used = len(self.messages[-1])
        return self.caps[len(self.messages) - 1] - used - (len(sep) if used else 0)

    def add(self, text: str, sep: str, content: bool = True) -> bool:
        if len(text) > self.room(sep):
            return False
        self.messages[-1] += (sep if self.messages[-1] else "") + text
        self.opener_only = self.opener_only and not content
        return True

    def open(self) -> bool:
        if len(self.messages) >= len(self.caps) or not self.messages[-1]:
            return False
        self.messages.append("")
        return True

    @property
    def next_cap(self) -> int:
        """The cap of the message `open` would start (0 when the page is full)."""
        return self.caps[len(self.messages)] if len(self.messages) < len(self.caps) else 0

    def copy(self) -> _Page:
        return _Page(self.caps, list(self.messages), self.opener_only)


def _cut(text: str, room: int, *, fresh: bool) -> tuple[int, int]:
    """Where a unit longer than a message ends in `room` characters and where it resumes: at
    the last sentence end that fits, or in a message of its own, the last space (a single word
    longer than a message is cut where it must). (0, 0): nothing fits."""
    boundaries = (_SENTENCE_END, _SPACE) if fresh else (_SENTENCE_END,)
    for boundary in boundaries:
        best = None
        for match in boundary.finditer(text):
            if match.start() > room:
                break
            if match.start() > 0:
                best = match
        if best is not None:
            return best.start(), best.end()
    return (room, room) if fresh and room > 0 else (0, 0)


def _place_long(page: _Page, text: str, sep: str) -> int:
    """A unit longer than a message: filled in sentence by sentence, message after message.
    Returns how much of it is placed (all of it unless the page is full)."""
    start = 0
    while True:
        rest = text[start:]
        if page.add(rest, sep):
            return len(text)
        fresh = not page.messages[-1]
        cut, resume = _cut(rest, page.room(sep), fresh=fresh)
        if cut:
            page.add(rest[:cut], sep)
            start += resume
        if not page.open():
            return start
        sep = ""


def _fill(page: _Page, sections: Sequence[Section], start: Position) -> Position | None:
    """Lay out sections from `start` until the page is full. Returns where the next page starts,
    or None when everything is on this page."""
    for index in range(start.section, len(sections)):
        section = sections[index]
        first_unit, char = (start.unit, start.char) if index == start.section else (0, 0)
        sep = "\n\n"
        if first_unit == 0 and char == 0:
            if page.add(section.text, "\n\n"):
                continue
            # Whole in the next message when it fits there: a section reads best unbroken.
            if len(section.text) <= page.next_cap and page.open():
                if not page.add(section.text, ""):
                    raise RuntimeError("a section that fits a message was not placed")
                continue
        elif page.opener_only and section.title:
            page.add(f"{section.title} (tiếp):", "\n\n", content=False)
            sep = "\n"
        for unit_index in range(first_unit, len(section.units)):
            text = section.units[unit_index][char:]
            here = Position(index, unit_index, char)
            char = 0
            if page.add(text, sep):
                sep = "\n"
                continue
            if len(text) <= page.next_cap:
                if not (page.open() and page.add(text, "")):
                    raise RuntimeError("a unit that fits a message was not placed")
                sep = "\n"
                continue
            if len(text) <= max(page.caps):
                return here  # the page is full; the unit goes whole on the next one
            # Longer than a message: on this page if it fits in what is left, else on the next
            # page when it fits there; only a unit longer than a page is cut between pages.
            whole_here = _place_long(page.copy(), text, sep) == len(text)
            if not (whole_here or page.opener_only) and _fits_a_page(text, page.caps):
                return here
            placed = _place_long(page, text, sep)
            if placed < len(text):
                return Position(index, unit_index, here.char + placed)
            sep = "\n"
    return None


def _fits_a_page(text: str, caps: tuple[int, ...]) -> bool:
    page = _Page(caps)
    page.add("x" * 250, "", content=False)  # room for a later page's opening line and heading
    return _place_long(page, text, "\n\n") == len(text)


@dataclass(frozen=True)
class _LaidOut:
    messages: tuple[str, ...]
    end: Position | None
    """Where the next page starts (None: this is the last page)."""


def _lay_out(sections: Sequence[Section], opener: str) -> list[_LaidOut]:
    """Pages of at most MAX_PAGE_MESSAGES messages; `opener` (with {page}) opens pages after the
    first. A page that is not the last keeps FOOTER_ROOM free in its last message."""
    full = (MESSAGE_LIMIT,) * MAX_PAGE_MESSAGES
    with_footer = (*full[:-1], MESSAGE_LIMIT - FOOTER_ROOM)
    pages: list[_LaidOut] = []
    start: Position | None = Position()
    while start is not None:
        number = len(pages) + 1
        end: Position | None = None
        for caps in (full, with_footer):
            page = _Page(caps)
            if number > 1:
                page.add(opener.format(page=number), "", content=False)
            end = _fill(page, sections, start)
            if end is None:
                break
        if end is not None and end <= start:
            raise RuntimeError(f"page {number} of the full view holds nothing")
        pages.append(_LaidOut(tuple(page.messages), end))
        start = end
    return pages


# --- what is left, and the pages as replies -------------------------------------------------


def _left_titles(sections: Sequence[Section], at: Position) -> list[str]:
    """The sections from `at` by title, a run of "Trường hợp 2", "Trường hợp 3"... as one."""
    titles: list[str] = []
    for index in range(at.section, len(sections)):
        title = sections[index].title
        if title is None:
            continue
        if index == at.section and at.inside:
            title = f"{title} (tiếp)"
        if titles and titles[-1] == title:
            continue
        case = _CASE_TITLE.fullmatch(title)
        previous = _CASE_TITLE.match(titles[-1]) if titles else None
        if case and previous and not titles[-1].endswith("(tiếp)"):
            titles[-1] = f"Trường hợp {previous[1]}–{case[1]}"
            continue
        titles.append(title)
    return titles


def _footer(titles: Sequence[str], page: int, total: int) -> str:
    tap = f"Anh/chị bấm “{texts.MORE_TITLE}” để xem trang {page + 1} ạ."
    lead = f"Đây là trang {page}/{total}. Còn: "
    room = FOOTER_ROOM - len("\n\n") - len(lead) - len(".\n") - len(tap)
    listed = "thông tin liên hệ"
    for count in range(len(titles), 0, -1):
        listed = ", ".join(titles[:count]) + (", …" if count < len(titles) else "")
        if len(listed) <= room:
            break
    return f"{lead}{listed}.\n{tap}"


def page_payload(proc: Procedure, page: int) -> str:
    """What "Xem tiếp" sends: the dialogue answers it with that page of the full view."""
    return texts.FULL_CARD_PAGE_PAYLOAD.format(name=proc.short_name, page=page)


def _pages(proc: Procedure, catalogue: Catalogue) -> tuple[list[Section], list[str]]:
    """The sections shown and each page's text."""
    whole = whole_record(proc, catalogue)
    one = _Page((MESSAGE_LIMIT,) * MAX_PAGE_MESSAGES)
    if _fill(one, whole, Position()) is None:
        return whole, ["\n\n".join(one.messages)]
    name = display_name(proc)
    digits = 1
    while True:
        total = _TOTAL * digits
        sections = paged_record(proc, catalogue, total)
        opener = f"Dạ, em gửi tiếp thông tin thủ tục {name} ạ (trang {{page}}/{total}):"
        laid = _lay_out(sections, opener)
        if len(str(len(laid))) == digits:
            break
        digits = len(str(len(laid)))
    texts_: list[str] = []
    for number, page in enumerate(laid, start=1):
        messages = list(page.messages)
        if page.end is not None:
            footer = _footer(_left_titles(sections, page.end), number, len(laid))
            if len(messages[-1]) + 2 + len(footer) <= MESSAGE_LIMIT:
                messages[-1] = f"{messages[-1]}\n\n{footer}"
            else:
                messages.append(footer)
        text = "\n\n".join(messages)
        if len(laid) == 1:  # shorter than the whole record after all: no page to mention
            text = text.replace(f" (trang 1/{total})", "")
        texts_.append(text.replace(total, str(len(laid))))
    return sections, texts_


def full_view(proc: Procedure, catalogue: Catalogue) -> tuple[Reply, ...]:
    """Every page of the full view, in order: what each "Xem đầy đủ" / "Xem tiếp" tap sends."""
    _, pages = _pages(proc, catalogue)
    contact = procedure_contact(proc, catalogue)
    replies: list[Reply] = []
    for number, text in enumerate(pages, start=1):
        buttons: tuple[Button, ...] = (portal_button(proc), call_button(contact, catalogue.ward))
        if number < len(pages):
            more = Button(texts.MORE_TITLE, ButtonKind.query, page_payload(proc, number + 1))
            buttons = (more, *buttons)
        replies.append(Reply(text, buttons))
    return tuple(replies)


def full_view_page(proc: Procedure, catalogue: Catalogue, page: int = 1) -> Reply:
    """One page of the full view (1 is the first). A page past the last, from a button sent
    before the catalogue changed, is answered with the last page."""
    pages = full_view(proc, catalogue)
    return pages[min(max(page, 1), len(pages)) - 1]
