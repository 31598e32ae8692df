"""The specific question inside a contact or office-hours intent: a field's phone, the address,
whether the office is open on a given day or at a given time.

Pure: text, the catalogue and the time in, a reply (or None: the intent's general answer fits) out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.catalogue.models import Catalogue, Contact, WardProfile, Weekday
from app.dialogue import texts
from app.dialogue.hours import (
    DAY_NAMES,
    FIXED_HOLIDAYS,
    WEEKDAYS,
    clock,
    fixed_holiday,
    hours_lines,
    is_open_at,
    opening_periods,
)
from app.dialogue.reply import Button, ButtonKind, Reply
from app.dialogue.texts import paragraphs
from app.matching.normalize import normalize

# --- which field's phone ---------------------------------------------------------------------

_GENERIC = re.compile(
    # What a contact's label or a category's name says that names no field.
    r"\b(cong chuc|can bo|bo phan|phong|ban chi huy|phuong|thi tran|ubnd|uy ban nhan dan"
    r"|trung tam phuc vu hanh chinh cong)\b"
)
_PHONE_WORDS = re.compile(
    r"\b(so dien thoai|dien thoai|so dt|sdt|dt|hotline|so cua|so ben|xin so|so can bo|goi"
    r"|lien he)\b"
)
_ADDRESS_WORDS = re.compile(
    r"\b(dia chi|o dau|cho nao|o cho nao|nam o dau|nam cho nao|duong den|duong di|tru so|o mo)\b"
)


def _field_phrases(text: str) -> list[str]:
    """`Công chức Tư pháp - Hộ tịch` -> ["tu phap", "ho tich"]; `Cư trú (Công an)` -> ["cu tru",
    "cong an"]: a label's parts without the words every office has."""
    phrases = []
    for part in re.split(r"[-–(),/]", text):
        words = _GENERIC.sub(" ", normalize(part)).split()
        if words:
            phrases.append(" ".join(words))
    return phrases


def field_phrases(catalogue: Catalogue) -> dict[str, list[str]]:
    """For each phone line but the general one, the phrases that name its field: its label's
    and those of the categories it answers for (names and aliases)."""
    ward = catalogue.ward
    found: dict[str, list[str]] = {key: [] for key in ward.contacts if key != "general"}
    for key, contact in ward.contacts.items():
        if key in found:
            found[key].extend(_field_phrases(contact.label))
    for category in catalogue.categories:
        if category.contact in found:
            for name in (category.name, *category.aliases):
                found[category.contact].extend(_field_phrases(name))
    return found


def asked_field(text: str, catalogue: Catalogue) -> str | None:
    """The key of the phone line whose field `text` names ("số của chị bên hộ tịch" ->
    `ho_tich`), the longest name winning; None when no field is named."""
    folded = f" {normalize(text)} "
    best: tuple[int, str] | None = None
    for key, phrases in field_phrases(catalogue).items():
        for phrase in phrases:
            if f" {phrase} " in folded and (best is None or len(phrase) > best[0]):
                best = (len(phrase), key)
    return best[1] if best else None


def _call(contact: Contact, ward: WardProfile) -> Button:
    """ "Gọi <label>" ("Gọi <ward>" for the general line) when it fits on a button."""
    general = contact == ward.contact_for(None)
    title = f"Gọi {ward.name if general else contact.label}"
    if len(title) > texts.BUTTON_TITLE_LIMIT:
        title = texts.CALL_FALLBACK_TITLE
    return Button(title, ButtonKind.phone, contact.dial)


def contact_reply(text: str, catalogue: Catalogue) -> Reply | None:
    """A field's phone when one is named, the address when only the place is asked; else None."""
    ward = catalogue.ward
    folded = normalize(text)
    key = asked_field(text, catalogue)
    general = ward.contact_for(None)
    if key is not None:
        contact = ward.contacts[key]
        lines = [f"Dạ, số điện thoại của {contact.label}: ☎ {contact.phone} ạ."]
        if key == "cong_an" or contact.phone == ward.police.phone:
            lines.append(f"{ward.police.name}: 📍 {ward.police.address}")
        lines.append(f"Số chung của {ward.name}: ☎ {general.phone}")
        return Reply(paragraphs(*lines), (_call(contact, ward),))
    if _ADDRESS_WORDS.search(folded) and not _PHONE_WORDS.search(folded):
        text_out = paragraphs(
            f"Dạ, {ward.name} tiếp nhận hồ sơ tại:\n📍 {ward.address}",
            ["Giờ làm việc:", *(f"• {line}" for line in hours_lines(ward))],
        )
        return Reply(text_out, (_call(general, ward),))
    return None


# --- open on a given day, at a given time ----------------------------------------------------

_WEEKDAY_WORDS: dict[str, Weekday] = {
    "thu hai": Weekday.mon, "thu 2": Weekday.mon, "t2": Weekday.mon,
    "thu ba": Weekday.tue, "thu 3": Weekday.tue, "t3": Weekday.tue,
    "thu tu": Weekday.wed, "thu 4": Weekday.wed, "t4": Weekday.wed,
    "thu nam": Weekday.thu, "thu 5": Weekday.thu, "t5": Weekday.thu,
    "thu sau": Weekday.fri, "thu 6": Weekday.fri, "t6": Weekday.fri,
    "thu bay": Weekday.sat, "thu 7": Weekday.sat, "t7": Weekday.sat,
    "chu nhat": Weekday.sun, "cn": Weekday.sun, "thu 8": Weekday.sun,
}  # fmt: skip
_WEEKDAY = re.compile(r"\b(" + "|".join(sorted(_WEEKDAY_WORDS, key=len, reverse=True)) + r")\b")
_WEEKEND = re.compile(r"\bcuoi tuan\b")
_DATE = re.compile(r"(?<![\d/])(\d{1,2})\s*[/-]\s*(\d{1,2})(?:\s*[/-]\s*(\d{4}))?(?![\d/])")
_CLOCK = re.compile(r"\b(\d{1,2})\s*(?:h|g|gio)\s*(\d{1,2}|ruoi)?\b")
_TODAY = re.compile(r"\b(hom nay|bua nay|bay gio|gio nay|luc nay)\b")
_TOMORROW = re.compile(r"\b(ngay mai|sang mai|chieu mai|trua mai|mai co)\b")
_LUNAR = re.compile(r"\b(tet|giao thua|mung \d|gio to|nghi bu)\b")
_ANY_HOLIDAY = re.compile(r"\b(ngay le|nghi le|le)\b")
_PARTS: dict[str, tuple[time, time]] = {
    # How a resident splits the day, to compare with the office's periods.
    "sang": (time(6, 0), time(11, 30)),
    "trua": (time(11, 30), time(13, 30)),
    "chieu": (time(13, 30), time(18, 0)),
    "toi": (time(18, 0), time(22, 0)),
}
_PART = re.compile(r"\b(sang|trua|chieu|toi)\b")


@dataclass(frozen=True)
class AskedWhen:
    """When a resident asks about: a day, a weekday, a moment, or a holiday."""

    day: date | None = None
    weekdays: tuple[Weekday, ...] = ()
    moment: time | None = None
    part: str | None = None
    lunar_holiday: bool = False
    any_holiday: bool = False


def _clock_of(match: re.Match[str], part: str | None) -> time | None:
    hour = int(match.group(1))
    minute_text = match.group(2)
    minute = 30 if minute_text == "ruoi" else int(minute_text) if minute_text else 0
    afternoon = part in ("chieu", "toi") and hour < 12
    if afternoon or (part == "trua" and hour < 3):
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _date_of(match: re.Match[str], today: date) -> date | None:
    day, month = int(match.group(1)), int(match.group(2))
    year = int(match.group(3)) if match.group(3) else today.year
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if not match.group(3) and found < today:
        found = found.replace(year=year + 1) if (day, month) != (29, 2) else found
    return found


def read_when(text: str, today: date) -> AskedWhen | None:
    """What day or time `text` asks about, or None when it names none."""
    folded = normalize(text.replace("/", " / ").replace("-", " - "))
    raw = text.casefold()
    part_match = _PART.search(folded)
    part = part_match.group(1) if part_match else None
    day: date | None = None
    date_match = _DATE.search(raw)
    if date_match:
        day = _date_of(date_match, today)
    elif _TOMORROW.search(folded):
        day = today + timedelta(days=1)
    elif _TODAY.search(folded):
        day = today
    weekdays: tuple[Weekday, ...] = ()
    if day is None:
        weekday_match = _WEEKDAY.search(folded)
        if weekday_match:
            weekdays = (_WEEKDAY_WORDS[weekday_match.group(1)],)
        elif _WEEKEND.search(folded):
            weekdays = (Weekday.sat, Weekday.sun)
    clock_match = _CLOCK.search(folded)
    moment = _clock_of(clock_match, part) if clock_match else None
    asked = AskedWhen(
        day=day,
        weekdays=weekdays,
        moment=moment,
        part=part if moment is None else None,
        lunar_holiday=bool(_LUNAR.search(folded)),
        any_holiday=bool(_ANY_HOLIDAY.search(folded)) and day is None,
    )
    if asked == AskedWhen():
        return None
    return asked


def _periods_text(periods: list[tuple[time, time]]) -> str:
    return ", ".join(f"{clock(o)}–{clock(c)}" for o, c in periods)


def _day_name(day: date) -> str:
    return DAY_NAMES[WEEKDAYS[day.weekday()]]


def _on_day(ward: WardProfile, day: date, asked: AskedWhen, subject: str) -> str:
    holiday = fixed_holiday(day)
    if holiday is not None:
        return f"Dạ, {subject} là {holiday}, {ward.name} nghỉ lễ theo quy định ạ."
    periods = opening_periods(ward, day)
    if not periods:
        return f"Dạ, {subject} là {_day_name(day)}, {ward.name} nghỉ ạ."
    if asked.moment is not None:
        at = clock(asked.moment)
        if is_open_at(ward, day, asked.moment):
            return f"Dạ, {subject} lúc {at} {ward.name} có làm việc, nhận hồ sơ bình thường ạ."
        return (
            f"Dạ, {subject} lúc {at} {ward.name} không làm việc ạ. Hôm đó "
            f"{ward.name} làm việc {_periods_text(periods)}."
        )
    if asked.part is not None:
        return _part_sentence(ward, periods, asked.part, subject)
    return f"Dạ, {subject} ({_day_name(day)}) {ward.name} làm việc {_periods_text(periods)} ạ."


def _part_sentence(
    ward: WardProfile, periods: list[tuple[time, time]], part: str, subject: str
) -> str:
    start, end = _PARTS[part]
    inside = [(max(o, start), min(c, end)) for o, c in periods if o < end and c > start]
    word = {"sang": "buổi sáng", "trua": "buổi trưa", "chieu": "buổi chiều", "toi": "buổi tối"}
    if not inside:
        return (
            f"Dạ, {subject} {word[part]} {ward.name} không làm việc ạ. "
            f"Giờ làm việc: {_periods_text(periods)}."
        )
    return f"Dạ, {subject} {word[part]} {ward.name} làm việc {_periods_text(inside)} ạ."


def _weekday_periods(ward: WardProfile, weekday: Weekday) -> list[tuple[time, time]]:
    return sorted({(s.opens, s.closes) for s in ward.office_hours if weekday in s.days})


def _on_weekdays(ward: WardProfile, asked: AskedWhen) -> str:
    sentences = []
    for weekday in asked.weekdays:
        name = DAY_NAMES[weekday]
        # A weekday in general: its ordinary hours, whatever holiday this week's falls on.
        ordinary = _weekday_periods(ward, weekday)
        if not ordinary:
            sentences.append(f"{name} {ward.name} nghỉ")
            continue
        if asked.moment is not None:
            open_then = any(o <= asked.moment < c for o, c in ordinary)
            verb = "có làm việc" if open_then else "không làm việc"
            sentences.append(f"{name} lúc {clock(asked.moment)} {ward.name} {verb}")
        elif asked.part is not None:
            sentences.append(_part_sentence(ward, ordinary, asked.part, name).removeprefix("Dạ, "))
        else:
            sentences.append(f"{name} {ward.name} làm việc {_periods_text(ordinary)}")
    return "Dạ, " + "; ".join(s.rstrip(" ạ.") for s in sentences) + " ạ."


def _at_moment(ward: WardProfile, asked: AskedWhen) -> str:
    """A time without a day: on which days the office is open then."""
    if asked.moment is None:
        working = _weekday_periods(ward, Weekday.mon)
        return _part_sentence(ward, working, asked.part or "sang", "ngày làm việc")
    moment = asked.moment
    at = clock(moment)
    days = [d for d in WEEKDAYS if any(o <= moment < c for o, c in _weekday_periods(ward, d))]
    if not days:
        return f"Dạ, lúc {at} {ward.name} không làm việc (ngoài giờ hoặc giờ nghỉ trưa) ạ."
    names = ", ".join(DAY_NAMES[d] for d in days)
    return f"Dạ, lúc {at} {ward.name} có làm việc vào: {names} ạ."


def _hours_block(ward: WardProfile) -> list[str]:
    block = ["Giờ tiếp nhận hồ sơ:", *(f"• {line}" for line in hours_lines(ward))]
    if ward.office_hours_note:
        block.append(ward.office_hours_note)
    return block


def hours_reply(text: str, catalogue: Catalogue, now: datetime) -> Reply | None:
    """Whether the office is open on the day or at the time `text` names; None when it names
    neither (the office-hours intent's general answer fits)."""
    ward = catalogue.ward
    today = now.astimezone(ZoneInfo(ward.timezone)).date()
    asked = read_when(text, today)
    if asked is None:
        return None
    if asked.lunar_holiday and asked.day is None:
        first = (
            f"Dạ, dịp Tết Nguyên đán và Giỗ Tổ Hùng Vương {ward.name} nghỉ theo lịch nghỉ Nhà "
            "nước công bố hằng năm; ngày làm việc lại theo thông báo của phường ạ."
        )
    elif asked.day is not None:
        subject = "hôm nay" if asked.day == today else f"ngày {asked.day:%d/%m}"
        first = _on_day(ward, asked.day, asked, subject)
    elif asked.weekdays:
        first = _on_weekdays(ward, asked)
    elif asked.any_holiday:
        names = ", ".join(f"{d}/{m}" for d, m in FIXED_HOLIDAYS)
        first = (
            f"Dạ, {ward.name} nghỉ các ngày lễ theo quy định ({names}), Tết Nguyên đán và Giỗ Tổ "
            "Hùng Vương theo lịch Nhà nước công bố ạ."
        )
    else:
        first = _at_moment(ward, asked)
    call = _call(ward.contact_for(None), ward)
    return Reply(paragraphs(first, _hours_block(ward)), (call,))
