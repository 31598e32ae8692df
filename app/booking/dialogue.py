"""What to say to a resident booking a visit: parsing their messages and buttons, and every
reply of the flow. Pure: no storage, no HTTP; the service supplies the data and the time.

The flow: "đặt lịch" (with a procedure, or about the procedure just discussed) -> the days with
room (buttons) -> the times with room (buttons) -> a summary to confirm -> the confirmation with
the code, the time, the counter, the documents to bring and the address. Buttons send back
texts the resident could type too ("Đặt lịch ngày 03/12/2026"); at most 5 per message, so
longer lists end with a "more" button.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from app.booking.calendar import Slot
from app.catalogue.models import BookingCounter, Catalogue, Procedure, WardProfile
from app.dialogue import texts
from app.dialogue.documents import record_sections
from app.dialogue.hours import DAY_NAMES, WEEKDAYS
from app.dialogue.pieces import (
    call_button,
    display_name,
    general_call_button,
    handled_elsewhere,
    procedure_contact,
)
from app.dialogue.reply import MAX_BUTTONS, MESSAGE_LIMIT, Button, ButtonKind, Reply
from app.dialogue.texts import bullets, fit, paragraphs
from app.matching.normalize import normalize

DRAFT_TTL = timedelta(minutes=30)
"""A booking left half-way is forgotten after this."""
OFFER_TTL = timedelta(hours=24)
"""Slots offered after staff cancelled a resident's slot stay answerable this long."""
PER_PAGE = MAX_BUTTONS - 1
"""Days or times per message when there are more than fit: the last button shows the next."""
CODE_PREFIX = "LH-"
DOCUMENTS_BUDGET = 900
"""Room for the documents in a confirmation or reminder (the rest of it is short)."""

BOOK_TITLE = "Đặt lịch"
MINE_TITLE = "Lịch hẹn của tôi"
MINE_PAYLOAD = "Lịch hẹn của tôi"
CONFIRM_PAYLOAD = "Xác nhận đặt lịch"
STOP_PAYLOAD = "Không đặt lịch nữa"
MORE_DAYS_PAYLOAD = "Xem thêm ngày"
MORE_TIMES_PAYLOAD = "Xem thêm giờ"
KEEP_PAYLOAD = "Giữ lịch hẹn"


def booking_code(booking_id: int) -> str:
    return f"{CODE_PREFIX}{booking_id:05d}"


def book_payload(proc: Procedure | None) -> str:
    """What a "Đặt lịch" button sends: booking about that procedure."""
    return f"Đặt lịch: {proc.short_name}" if proc else "Đặt lịch"


def day_payload(day: date) -> str:
    return f"Đặt lịch ngày {day:%d/%m/%Y}"


def time_payload(slot: Slot) -> str:
    return f"Đặt lịch lúc {slot.start:%H:%M} ngày {slot.start:%d/%m/%Y}"


# Parsing --------------------------------------------------------------------------------------


class Kind(StrEnum):
    start = "start"
    mine = "mine"
    move = "move"
    cancel = "cancel"
    cancel_yes = "cancel_yes"
    keep = "keep"
    day = "day"
    more_days = "more_days"
    time = "time"
    more_times = "more_times"
    confirm = "confirm"
    stop = "stop"


@dataclass(frozen=True)
class Command:
    kind: Kind
    rest: str = ""
    """After "đặt lịch": what to book (a procedure's name), as the resident wrote it."""
    number: int | None = None
    """A booking's number (LH-00012 -> 12)."""
    day: date | None = None
    at: time | None = None


_START = re.compile(
    r"^(?:dat lich hen|dat lich|dat hen|hen lich|dang ky lich hen|dang ky lich|lay lich hen)\b"
)
_DAY = re.compile(r"^dat lich ngay (\d{1,2}) (\d{1,2}) (\d{4})$")
_TIME = re.compile(r"^dat lich luc (\d{1,2}) (\d{2}) ngay (\d{1,2}) (\d{1,2}) (\d{4})$")
_CODE = r"(?: lh ?(\d{1,9}))?"
_MOVE = re.compile(rf"^(?:doi|chuyen|dat lai) lich(?: hen)?{_CODE}$")
_CANCEL = re.compile(rf"^huy lich(?: hen)?{_CODE}$")
_CANCEL_YES = re.compile(r"^dong y huy(?: lich hen)? lh ?(\d{1,9})$")
_MINE = {
    "lich hen cua toi",
    "lich hen cua minh",
    "xem lich hen",
    "lich cua toi",
    "toi co lich hen nao",
    "lich hen",
}
_FIXED = {
    normalize(CONFIRM_PAYLOAD): Kind.confirm,
    "xac nhan doi lich": Kind.confirm,
    normalize(STOP_PAYLOAD): Kind.stop,
    "khong dat nua": Kind.stop,
    normalize(MORE_DAYS_PAYLOAD): Kind.more_days,
    normalize(MORE_TIMES_PAYLOAD): Kind.more_times,
    normalize(KEEP_PAYLOAD): Kind.keep,
}


def _date(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


_FILLER = {"nop", "ho", "so", "lam", "thu", "tuc", "de", "cho", "ve", "tai", "o", "den", "di"}
"""Words residents put between "đặt lịch" and the procedure ("đặt lịch hẹn nộp hồ sơ khai
sinh"): dropped from the front so the procedure's own name is matched."""


def _rest(text: str, words: int) -> str:
    """The resident's own words after the first `words` ones, without leading filler."""
    tokens = text.split()[words:]
    while tokens and normalize(tokens[0]) in _FILLER:
        tokens = tokens[1:]
    return " ".join(tokens).strip(" :-–,.")


def parse(text: str) -> Command | None:
    """The booking command a message is, or None when it is not about booking."""
    folded = normalize(text)
    if folded in _FIXED:
        return Command(_FIXED[folded])
    if folded in _MINE:
        return Command(Kind.mine)
    if found := _TIME.match(folded):
        hour, minute = int(found[1]), int(found[2])
        day = _date(found[3], found[4], found[5])
        if day is None or hour > 23 or minute > 59:
            return None
        return Command(Kind.time, day=day, at=time(hour, minute))
    if found := _DAY.match(folded):
        day = _date(found[1], found[2], found[3])
        return Command(Kind.day, day=day) if day else None
    if found := _CANCEL_YES.match(folded):
        return Command(Kind.cancel_yes, number=int(found[1]))
    if found := _MOVE.match(folded):
        return Command(Kind.move, number=int(found[1]) if found[1] else None)
    if found := _CANCEL.match(folded):
        return Command(Kind.cancel, number=int(found[1]) if found[1] else None)
    if found := _START.match(folded):
        words = len(found[0].split())
        return Command(Kind.start, rest=_rest(text, words))
    return None


# The draft ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A booking being chosen. Stored as JSON between messages."""

    counter_id: str
    procedure_code: str | None = None
    moving: int | None = None
    """The booking being moved to another slot ("đổi lịch"), if any."""
    day: date | None = None
    start: datetime | None = None
    """The slot chosen, waiting for the resident's confirmation."""
    day_page: int = 0
    time_page: int = 0
    expires_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "counter_id": self.counter_id,
            "procedure_code": self.procedure_code,
            "moving": self.moving,
            "day": self.day.isoformat() if self.day else None,
            "start": self.start.isoformat() if self.start else None,
            "day_page": self.day_page,
            "time_page": self.time_page,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Draft | None:
        if not data or not data.get("counter_id"):
            return None

        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if value else None

        day = data.get("day")
        return cls(
            counter_id=str(data["counter_id"]),
            procedure_code=data.get("procedure_code"),
            moving=data.get("moving"),
            day=date.fromisoformat(day) if day else None,
            start=when("start"),
            day_page=int(data.get("day_page") or 0),
            time_page=int(data.get("time_page") or 0),
            expires_at=when("expires_at"),
        )

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now > self.expires_at

    def touched(self, now: datetime, ttl: timedelta = DRAFT_TTL) -> Draft:
        """Kept `ttl` longer, unless it already lasts longer (an offer after a cancellation)."""
        until = now + ttl
        if self.expires_at is not None and self.expires_at > until:
            until = self.expires_at
        return replace(self, expires_at=until)


# Words ----------------------------------------------------------------------------------------


def day_name(day: date) -> str:
    return f"{DAY_NAMES[WEEKDAYS[day.weekday()]]} {day:%d/%m/%Y}"


def when_text(start: datetime, end: datetime) -> str:
    return f"{start:%H:%M}–{end:%H:%M}, {day_name(start.date())}"


def _day_title(day: date, today: date) -> str:
    if day == today:
        return f"Hôm nay {day:%d/%m}"
    if day == today + timedelta(days=1):
        return f"Ngày mai {day:%d/%m}"
    return f"{DAY_NAMES[WEEKDAYS[day.weekday()]]} {day:%d/%m}"


def _slot_title(slot: Slot) -> str:
    return f"{slot.start:%H:%M} ngày {slot.start:%d/%m}"


def subject(proc: Procedure | None) -> str:
    return f"làm thủ tục {display_name(proc)}" if proc else "làm thủ tục hành chính"


def _page(items: Sequence[Any], page: int) -> tuple[Sequence[Any], bool]:
    """The items of one message, and whether more follow (then only PER_PAGE are shown)."""
    if len(items) <= MAX_BUTTONS and page == 0:
        return items, False
    start = page * PER_PAGE
    return items[start : start + PER_PAGE], start + PER_PAGE < len(items)


def not_offered(ward: WardProfile) -> Reply:
    return Reply(
        f"Dạ, {ward.name} chưa nhận đặt lịch hẹn qua Zalo ạ. Anh/chị đến trực tiếp "
        f"{texts.ONE_STOP_NAME} trong giờ làm việc hoặc gọi số "
        f"{ward.contact_for(None).phone} để được hướng dẫn ạ.",
        (general_call_button(ward),),
    )


def ask_procedure(ward: WardProfile) -> Reply:
    return Reply(
        "Dạ, anh/chị muốn đặt lịch hẹn để làm thủ tục nào ạ? Anh/chị nhắn “đặt lịch” kèm tên "
        "thủ tục, ví dụ: “đặt lịch khai sinh”, “đặt lịch chứng thực”.",
        (general_call_button(ward),),
    )


def not_bookable(proc: Procedure, catalogue: Catalogue) -> Reply:
    ward = catalogue.ward
    contact = procedure_contact(proc, catalogue)
    elsewhere = handled_elsewhere(proc, ward, contact, subject=f"Dạ, thủ tục {display_name(proc)}")
    text = elsewhere or (
        f"Dạ, thủ tục {display_name(proc)} chưa nhận đặt lịch hẹn qua Zalo ạ. Anh/chị gọi "
        f"{contact.label} ({contact.phone}) để được hướng dẫn ạ."
    )
    if elsewhere:
        text += "\nVì vậy phường không đặt lịch hẹn cho thủ tục này qua Zalo ạ."
    return Reply(text, (call_button(contact, ward),))


def _holding(live: Sequence[tuple[str, datetime, datetime]]) -> str | None:
    if not live:
        return None
    lines = [f"• {code}: {when_text(start, end)}" for code, start, end in live[:3]]
    return "\n".join(["Anh/chị đang có lịch hẹn (mỗi ngày chỉ đặt được một lịch):", *lines])


def choose_day(
    days: Sequence[date],
    page: int,
    proc: Procedure | None,
    counter: BookingCounter,
    today: date,
    live: Sequence[tuple[str, datetime, datetime]] = (),
) -> Reply:
    shown, more = _page(days, page)
    buttons = [Button(_day_title(d, today), ButtonKind.query, day_payload(d)) for d in shown]
    if more:
        buttons.append(Button("Ngày khác", ButtonKind.query, MORE_DAYS_PAYLOAD))
    text = paragraphs(
        f"Dạ, anh/chị chọn ngày đến {counter.name} để {subject(proc)} ạ "
        "(chỉ hiện những ngày còn chỗ):",
        _holding(live),
    )
    return Reply(text, tuple(buttons))


def no_days(ward: WardProfile, counter: BookingCounter, horizon_days: int) -> Reply:
    return Reply(
        f"Dạ, trong {horizon_days} ngày làm việc tới {counter.name} đã kín lịch hẹn ạ. "
        f"Anh/chị có thể đến trực tiếp trong giờ làm việc hoặc gọi số "
        f"{ward.contact_for(None).phone} để được hướng dẫn ạ.",
        (general_call_button(ward),),
    )


def choose_time(day: date, slots: Sequence[Slot], page: int) -> Reply:
    shown, more = _page(slots, page)
    buttons = [Button(f"{s.start:%H:%M}", ButtonKind.query, time_payload(s)) for s in shown]
    if more:
        buttons.append(Button("Giờ khác", ButtonKind.query, MORE_TIMES_PAYLOAD))
    return Reply(
        f"Dạ, {day_name(day)} còn các giờ dưới đây, anh/chị chọn giờ đến ạ:", tuple(buttons)
    )


def day_full(day: date) -> str:
    return f"Dạ, {day_name(day)} không còn chỗ hoặc không nhận đặt lịch ạ."


def confirm(
    slot: Slot, counter: BookingCounter, proc: Procedure | None, moving: str | None
) -> Reply:
    lead = (
        f"Dạ, anh/chị kiểm tra lại giờ mới của lịch hẹn {moving}:"
        if moving
        else "Dạ, anh/chị kiểm tra lại lịch hẹn:"
    )
    lines = [lead, f"🕘 {when_text(slot.start, slot.end)}", f"📍 {counter.name}"]
    if proc is not None:
        lines.append(f"📋 Thủ tục: {display_name(proc)}")
    lines.append("Anh/chị bấm “Xác nhận” để giữ chỗ ạ.")
    return Reply(
        "\n".join(lines),
        (
            Button("Xác nhận", ButtonKind.query, CONFIRM_PAYLOAD),
            Button("Chọn giờ khác", ButtonKind.query, day_payload(slot.day)),
            Button("Không đặt nữa", ButtonKind.query, STOP_PAYLOAD),
        ),
    )


def documents_to_bring(proc: Procedure | None, catalogue: Catalogue) -> str:
    """The procedure's documents from the catalogue, never invented: without a list, where to
    ask."""
    ward = catalogue.ward
    if proc is None:
        contact = ward.contact_for(None)
        return (
            "Giấy tờ cần mang tùy thủ tục: anh/chị nhắn tên thủ tục để xem, hoặc gọi "
            f"{contact.label} ({contact.phone}) để hỏi trước khi đến ạ."
        )
    contact = procedure_contact(proc, catalogue)
    version = proc.plain
    sections: list[tuple[str | None, list[str]]] = []
    if version is not None:
        if version.documents:
            heading = "Giấy tờ cần mang" + (" (trường hợp nào cũng cần):" if version.cases else ":")
            sections.append((heading, bullets(version.documents)))
        if version.cases:
            titles = ", ".join(c.title for c in version.cases)
            sections.append(
                (
                    f"Giấy tờ khác tùy trường hợp ({titles}): anh/chị nhắn "
                    f"“{proc.short_name}” để xem ạ.",
                    [],
                )
            )
    elif proc.documents.known:
        sections = [("Giấy tờ cần mang:", []), *record_sections(proc.documents)]
    else:
        return (
            f"Em chưa có danh sách giấy tờ chính thức của thủ tục này; anh/chị gọi "
            f"{contact.label} ({contact.phone}) để hỏi giấy tờ cần mang trước khi đến ạ."
        )
    kept, left = fit(sections, DOCUMENTS_BUDGET)
    if left:
        kept.append(f"(Còn {left} mục nữa: anh/chị nhắn “{proc.short_name}” để xem đầy đủ ạ.)")
    return "\n\n".join(kept)


def _visit(
    code: str,
    start: datetime,
    end: datetime,
    counter: BookingCounter,
    proc: Procedure | None,
    catalogue: Catalogue,
) -> list[str]:
    lines = [
        f"Mã lịch hẹn: {code}",
        f"🕘 {when_text(start, end)}",
        f"📍 {counter.name}, {catalogue.ward.address}",
    ]
    if proc is not None:
        lines.append(f"📋 Thủ tục: {display_name(proc)}")
    return lines


AFTERWARDS = (
    "Anh/chị vui lòng đến đúng giờ và đọc mã lịch hẹn cho cán bộ. Cần đổi giờ hoặc hủy, "
    "anh/chị nhắn “đổi lịch” hoặc “hủy lịch” ạ."
)


def _manage_buttons(code: str) -> tuple[Button, ...]:
    return (
        Button("Đổi lịch", ButtonKind.query, f"Đổi lịch {code}"),
        Button("Hủy lịch", ButtonKind.query, f"Hủy lịch {code}"),
        Button(MINE_TITLE, ButtonKind.query, MINE_PAYLOAD),
    )


def _fit_message(*blocks: str | list[str] | None) -> str:
    text = paragraphs(*blocks)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def booked(
    code: str,
    start: datetime,
    end: datetime,
    counter: BookingCounter,
    proc: Procedure | None,
    catalogue: Catalogue,
    *,
    moved: bool = False,
) -> Reply:
    lead = (
        f"Dạ, em đã đổi lịch hẹn {code} sang giờ mới ✅"
        if moved
        else "Dạ, phường đã nhận lịch hẹn của anh/chị ✅"
    )
    text = _fit_message(
        [lead, *_visit(code, start, end, counter, proc, catalogue)],
        documents_to_bring(proc, catalogue),
        AFTERWARDS,
    )
    return Reply(text, _manage_buttons(code))


def slot_taken(nearest: Sequence[Slot], day: date | None) -> Reply:
    buttons = [Button(_slot_title(s), ButtonKind.query, time_payload(s)) for s in nearest]
    if day is not None:
        buttons.append(Button("Chọn ngày khác", ButtonKind.query, BOOK_TITLE))
    if not nearest:
        return Reply(
            "Dạ, giờ anh/chị chọn vừa hết chỗ và những ngày tới cũng đã kín lịch ạ. Anh/chị "
            "nhắn “đặt lịch” để xem lại sau ạ."
        )
    return Reply(
        "Dạ, giờ anh/chị chọn vừa có người đặt hết chỗ ạ. Các giờ gần nhất còn chỗ, anh/chị "
        "chọn giúp em:",
        tuple(buttons[:MAX_BUTTONS]),
    )


def same_day(day: date) -> Reply:
    return Reply(
        f"Dạ, anh/chị đã có lịch hẹn vào {day_name(day)}; mỗi ngày chỉ đặt được một lịch ạ. "
        "Anh/chị nhắn “lịch hẹn của tôi” để xem ạ.",
        (Button(MINE_TITLE, ButtonKind.query, MINE_PAYLOAD),),
    )


EXPIRED = Reply(
    "Dạ, phiên đặt lịch trước đã hết hạn ạ. Anh/chị nhắn “đặt lịch” để bắt đầu lại ạ.",
    (Button(BOOK_TITLE, ButtonKind.query, BOOK_TITLE),),
)
STOPPED = Reply("Dạ, em đã dừng việc đặt lịch ạ. Khi cần, anh/chị nhắn “đặt lịch” ạ.")
KEPT = Reply("Dạ, lịch hẹn của anh/chị vẫn giữ nguyên ạ.")
NO_BOOKINGS = Reply(
    "Dạ, anh/chị chưa có lịch hẹn nào sắp tới ạ. Anh/chị nhắn “đặt lịch” để đặt lịch hẹn.",
    (Button(BOOK_TITLE, ButtonKind.query, BOOK_TITLE),),
)


@dataclass(frozen=True)
class Visit:
    """A live booking as the resident sees it."""

    code: str
    start: datetime
    end: datetime
    counter: str
    procedure: str | None


def mine(visits: Sequence[Visit]) -> Reply:
    if not visits:
        return NO_BOOKINGS
    lines = ["Dạ, lịch hẹn sắp tới của anh/chị:"]
    for visit in visits:
        what = f" – {visit.procedure}" if visit.procedure else ""
        lines.append(f"• {visit.code}: {when_text(visit.start, visit.end)}, {visit.counter}{what}")
    lines.append("Cần đổi giờ hoặc hủy, anh/chị bấm nút bên dưới ạ.")
    buttons: list[Button] = []
    for visit in visits[:2]:
        buttons += [
            Button(f"Đổi lịch {visit.code}", ButtonKind.query, f"Đổi lịch {visit.code}"),
            Button(f"Hủy lịch {visit.code}", ButtonKind.query, f"Hủy lịch {visit.code}"),
        ]
    return Reply(_fit_message(lines), tuple(buttons))


def which(action: str, visits: Sequence[Visit]) -> Reply:
    """Several bookings: which one to move or cancel ("Đổi lịch" / "Hủy lịch")."""
    lines = [f"Dạ, anh/chị muốn {action.lower()} hẹn nào ạ?"]
    lines += [f"• {v.code}: {when_text(v.start, v.end)}, {v.counter}" for v in visits]
    buttons = tuple(
        Button(f"{action} {v.code}", ButtonKind.query, f"{action} {v.code}")
        for v in visits[:MAX_BUTTONS]
    )
    return Reply(_fit_message(lines), buttons)


def not_found(number: int) -> Reply:
    return Reply(
        f"Dạ, em không tìm thấy lịch hẹn {booking_code(number)} còn hiệu lực của anh/chị ạ. "
        "Anh/chị nhắn “lịch hẹn của tôi” để xem các lịch hẹn ạ.",
        (Button(MINE_TITLE, ButtonKind.query, MINE_PAYLOAD),),
    )


def confirm_cancel(visit: Visit) -> Reply:
    return Reply(
        f"Dạ, anh/chị chắc chắn muốn hủy lịch hẹn {visit.code} "
        f"({when_text(visit.start, visit.end)}, {visit.counter}) ạ?",
        (
            Button("Đồng ý hủy", ButtonKind.query, f"Đồng ý hủy {visit.code}"),
            Button("Giữ lịch hẹn", ButtonKind.query, KEEP_PAYLOAD),
        ),
    )


def cancelled(code: str) -> Reply:
    return Reply(
        f"Dạ, em đã hủy lịch hẹn {code} ạ. Khi cần, anh/chị nhắn “đặt lịch” để đặt lịch mới.",
        (Button(BOOK_TITLE, ButtonKind.query, BOOK_TITLE),),
    )


def cancelled_by_ward(
    code: str,
    start: datetime,
    end: datetime,
    counter: BookingCounter,
    reason: str,
    nearest: Sequence[Slot],
) -> Reply:
    """Staff cancelled the resident's slot: say so, and offer the nearest free slots."""
    lines = [
        f"Dạ, phường thành thật xin lỗi anh/chị: lịch hẹn {code} "
        f"({when_text(start, end)}, {counter.name}) phải hủy vì {reason.rstrip('.')}.",
    ]
    buttons = [Button(_slot_title(s), ButtonKind.query, time_payload(s)) for s in nearest]
    if nearest:
        lines.append("Anh/chị chọn một giờ khác dưới đây để đặt lại ạ:")
    else:
        lines.append("Anh/chị nhắn “đặt lịch” để chọn ngày khác ạ.")
    buttons.append(Button("Chọn ngày khác", ButtonKind.query, BOOK_TITLE))
    return Reply(_fit_message(lines), tuple(buttons[:MAX_BUTTONS]))


def reminder(
    code: str,
    start: datetime,
    end: datetime,
    counter: BookingCounter,
    proc: Procedure | None,
    catalogue: Catalogue,
) -> Reply:
    text = _fit_message(
        [
            "Dạ, phường nhắc anh/chị lịch hẹn ngày mai:",
            *_visit(code, start, end, counter, proc, catalogue),
        ],
        documents_to_bring(proc, catalogue),
        "Cần đổi giờ hoặc hủy, anh/chị nhắn “đổi lịch” hoặc “hủy lịch” ạ.",
    )
    return Reply(text, _manage_buttons(code))
