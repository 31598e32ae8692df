"""The catalogue's schema: the ward profile and its procedures, as validated immutable objects.

A fact the sources do not give is written `unknown` in procedures.yaml and becomes `None` here, so
the replies can say "not known, see the portal" instead of inventing it.

A procedure holds two layers: the national portal's record, copied verbatim (`documents`,
`deadlines`, `fees`, `channels`, `result`, `conditions`, `legal_basis`...: re-imported by
scripts/import_reference.py when a record changes), and `plain`, the short hand-written version
residents read first (never touched by the record import).
"""

from __future__ import annotations

import re
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from app.catalogue.dossier_profile import DossierLookup

UNKNOWN = "unknown"


def _unknown_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower().startswith(UNKNOWN):
        return None
    return value


Fact = Annotated[str | None, BeforeValidator(_unknown_to_none)]
"""A text fact that may be `unknown`."""

NonEmpty = Annotated[str, Field(min_length=1)]
PROCEDURE_CODE = re.compile(r"^(\d\.\d{6}|[A-Z][A-Z0-9-]{2,30})$")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Weekday(StrEnum):
    mon = "mon"
    tue = "tue"
    wed = "wed"
    thu = "thu"
    fri = "fri"
    sat = "sat"
    sun = "sun"


class OfficeSession(Frozen):
    """One opening period, e.g. Monday to Friday 07:30-11:30."""

    days: tuple[Weekday, ...] = Field(min_length=1)
    opens: time
    closes: time

    @model_validator(mode="after")
    def _ordered(self) -> OfficeSession:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class Contact(Frozen):
    """A phone line residents may call, e.g. the civil-status officer."""

    label: NonEmpty
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 .]{3,20}$")]

    @property
    def dial(self) -> str:
        """The number as a dialler wants it (digits only)."""
        return re.sub(r"[^0-9+]", "", self.phone)


class ResidentialGroup(Frozen):
    """A tổ dân phố: residents subscribe to announcements by group."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: NonEmpty
    aliases: tuple[NonEmpty, ...] = ()


class Office(Frozen):
    name: NonEmpty
    address: NonEmpty
    phone: str | None = None


class LocalFee(Frozen):
    """A fee level the province set (e.g. by a resolution of its HĐND), for one procedure."""

    amount: NonEmpty
    """As residents should read it, e.g. "8.000 đồng/việc"."""
    basis: str | None = None
    """Where the figure comes from, e.g. "Nghị quyết số 12/2025/NQ-HĐND của HĐND tỉnh"."""


class BookingCounter(Frozen):
    """A counter (quầy) residents book a visit at, and the procedures it takes.

    A counter serves the procedures listed by code, those of the listed categories (ids) and
    those of the listed fields (a procedure's `field`, e.g. "Hộ tịch"). A counter that lists
    none of them takes every procedure no other counter takes, and bookings without one."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: Annotated[str, Field(min_length=1, max_length=60)]
    """As residents read it, e.g. "Quầy 1 – Hộ tịch"."""
    procedures: tuple[NonEmpty, ...] = ()
    categories: tuple[NonEmpty, ...] = ()
    fields: tuple[NonEmpty, ...] = ()

    @property
    def general(self) -> bool:
        return not (self.procedures or self.categories or self.fields)


class BookingConfig(Frozen):
    """Booking a visit (đặt lịch hẹn): the ward profile's `booking:` section. Opening hours are
    the profile's `office_hours`; the fixed public holidays are closed without being listed."""

    counters: tuple[BookingCounter, ...] = Field(min_length=1)
    slot_minutes: Annotated[int, Field(ge=5, le=240)] = 30
    capacity: Annotated[int, Field(ge=1, le=100)] = 2
    """Residents per slot at each counter."""
    holidays: tuple[date, ...] = ()
    """Closed days beyond the fixed public holidays (Tết, Giỗ Tổ, days off announced)."""
    horizon_days: Annotated[int, Field(ge=1, le=60)] = 7
    """How far ahead residents may book, in working days (days the office opens) from
    tomorrow."""
    lead_minutes: Annotated[int, Field(ge=0, le=2880)] = 60
    """The latest booking before a slot starts."""
    reminder_hour: Annotated[int, Field(ge=0, le=23)] = 18
    """The evening before a visit, at this hour (ward time), the resident is reminded."""

    @model_validator(mode="after")
    def _counters(self) -> BookingConfig:
        ids = [c.id for c in self.counters]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate counter ids: {duplicates}")
        if sum(c.general for c in self.counters) > 1:
            raise ValueError(
                "at most one counter may list no procedures, categories or fields "
                "(the counter for everything else)"
            )
        return self

    def counter(self, counter_id: str) -> BookingCounter | None:
        return next((c for c in self.counters if c.id == counter_id), None)


class WardProfile(Frozen):
    """Who the ward is and how to reach it. `sample_data: true` until an admin replaces it."""

    sample_data: bool = False
    name: NonEmpty
    province: NonEmpty
    address: NonEmpty
    timezone: str = "Asia/Ho_Chi_Minh"
    office_hours: tuple[OfficeSession, ...] = Field(min_length=1)
    office_hours_note: str | None = None
    contacts: dict[str, Contact]
    provincial_portal_url: NonEmpty
    national_portal_url: NonEmpty = "https://dichvucong.gov.vn"
    police: Office
    residential_groups: tuple[ResidentialGroup, ...] = ()
    local_fees: dict[str, LocalFee] = {}
    """The province's own fee levels, keyed by procedure code, for fees the record leaves to the
    province (HĐND tỉnh). The answer shows them after saying the province sets the fee."""
    dossiers: DossierLookup | None = None
    """Dossier lookup (tra cứu hồ sơ): the province's receipt codes and lookup link."""
    booking: BookingConfig | None = None
    """Booking a visit at the one-stop centre; None: residents are not offered booking."""

    @field_validator("contacts")
    @classmethod
    def _has_general_line(cls, value: dict[str, Contact]) -> dict[str, Contact]:
        if "general" not in value:
            raise ValueError("contacts must include a 'general' line (the one-stop office)")
        return value

    @model_validator(mode="after")
    def _unique_groups(self) -> WardProfile:
        ids = [g.id for g in self.residential_groups]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"duplicate residential group ids: {sorted(duplicates)}")
        return self

    def contact_for(self, key: str | None) -> Contact:
        """The line for a field (e.g. 'ho_tich'), falling back to the general line."""
        if key and key in self.contacts:
            return self.contacts[key]
        return self.contacts["general"]


class Category(Frozen):
    """A browsing group of procedures (Hộ tịch, Chứng thực, ...)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    name: NonEmpty
    contact: str | None = None
    """Key into ward.contacts for questions in this category."""
    aliases: tuple[NonEmpty, ...] = ()


class CommonRules(Frozen):
    applies_to: NonEmpty
    rules: tuple[NonEmpty, ...] = ()
    fees: tuple[NonEmpty, ...] = ()


class DocumentCase(Frozen):
    """Documents for one situation the record names (e.g. moving into one's own home)."""

    label: NonEmpty
    submit: tuple[NonEmpty, ...] = ()
    present: tuple[NonEmpty, ...] = ()
    items: tuple[NonEmpty, ...] = ()
    """Documents the record lists for this case without saying whether to submit or present."""

    @model_validator(mode="after")
    def _not_empty(self) -> DocumentCase:
        if not (self.submit or self.present or self.items):
            raise ValueError("a case needs at least one document")
        return self

    @property
    def documents(self) -> tuple[str, ...]:
        return (*self.submit, *self.present, *self.items)


class Documents(Frozen):
    """Thành phần hồ sơ as the record gives it. `status: unknown`: no record; never guess one."""

    status: Literal["known", "unknown"] = "known"
    submit: tuple[NonEmpty, ...] = ()
    present: tuple[NonEmpty, ...] = ()
    forms: tuple[NonEmpty, ...] = ()
    """Mẫu đơn, tờ khai (the record's own lines, e.g. "Tờ khai ... (mẫu CT01 ...)")."""
    cases: tuple[DocumentCase, ...] = ()
    notes: tuple[NonEmpty, ...] = ()

    @model_validator(mode="after")
    def _known_has_content(self) -> Documents:
        has_lists = bool(self.submit or self.present or self.forms or self.cases)
        if self.status == "known" and not has_lists:
            raise ValueError("status is 'known' but submit, present, forms and cases are all empty")
        if self.status == "unknown" and (has_lists or self.notes):
            raise ValueError("status is 'unknown' but a document list is given")
        return self

    @property
    def known(self) -> bool:
        return self.status == "known"


class Channel(StrEnum):
    """How a dossier reaches the office, as procedures.yaml writes it (the record's DIRECT,
    ONLINE and POSTAL)."""

    direct = "trực tiếp"
    online = "trực tuyến"
    postal = "bưu chính"


class TimeUnit(StrEnum):
    working_day = "ngày làm việc"
    day = "ngày"
    unspecified = "không rõ đơn vị"
    """The record's OTHER: a number without a unit (ngày or ngày làm việc is not said)."""


class ChannelDeadline(Frozen):
    """One processing time of the record: per channel, sometimes several per channel (with a
    note saying which situation each is for)."""

    channel: Channel
    time: Annotated[int, Field(ge=0)]
    unit: TimeUnit
    note: str | None = None
    """The record's text, verbatim."""


class FeeType(StrEnum):
    fee = "lệ phí"
    """The record's FEE."""
    service_fee = "phí"
    """The record's SERVICE_FEE (records use it for lệ phí too: do not rely on the difference)."""


class ChannelFee(Frozen):
    """One fee line of the record. A value of 0 is NOT "free" when the note leaves the level to
    the province (HĐND tỉnh); None: the record gives no amount."""

    channel: Channel
    type: FeeType
    value: Annotated[int | None, Field(ge=0)]
    note: str | None = None
    """The record's text, verbatim (sometimes only a unit: "/giao dịch")."""


class FeeKind(StrEnum):
    free = "free"
    """The record says free (không thu, miễn) and nothing leaves it to the province."""
    fixed = "fixed"
    """The record itself gives the amount (e.g. 50.000 đồng/văn bản)."""
    province = "province"
    """The level is set by the province (HĐND tỉnh): never shown as free."""
    mixed = "mixed"
    """Free in some situations, paid (or set by the province) in others."""
    unknown = "unknown"


BUTTON_TITLE_LIMIT = 20
"""Zalo's button titles are kept this short (app.dialogue.texts.BUTTON_TITLE_LIMIT)."""
MAX_PLAIN_NOTES = 3


class PlainCase(Frozen):
    """One situation residents choose with a button: its documents, in plain words."""

    title: Annotated[str, Field(min_length=1, max_length=BUTTON_TITLE_LIMIT)]
    """The button title, e.g. "Nhà của mình"."""
    label: NonEmpty
    """One short line naming the situation."""
    documents: tuple[NonEmpty, ...] = Field(min_length=1)


class Plain(Frozen):
    """What a resident needs, in plain Vietnamese, written by hand from the record.

    Document names, numbers and form codes stay exactly as in the record. Where the record
    contradicts itself, `deadline`/`fee` say so. `contradictions` is for engineers (English)
    and is never shown.
    """

    documents: tuple[NonEmpty, ...] = ()
    """The common situation, or (with `cases`) what every case needs."""
    cases: tuple[PlainCase, ...] = ()
    """Only where documents differ by situation: 2-6, the most common first."""
    notes: tuple[NonEmpty, ...] = Field(default=(), max_length=MAX_PLAIN_NOTES)
    deadline: NonEmpty
    fee: NonEmpty
    fee_kind: FeeKind
    contradictions: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Plain:
        if self.cases and not 2 <= len(self.cases) <= 6:
            raise ValueError("cases: give 2 to 6 situations, or none")
        if not (self.documents or self.cases):
            raise ValueError("give documents, cases, or both")
        titles = [c.title.casefold() for c in self.cases]
        if len(set(titles)) != len(titles):
            raise ValueError("cases: two situations have the same title")
        return self


class PortalLinks(Frozen):
    """The procedure on dichvucong.gov.vn: its record's page when known, else a search."""

    detail_url: Annotated[str | None, Field(pattern=r"^https://")] = None
    search_url: Annotated[str, Field(pattern=r"^https://")]

    @property
    def best_url(self) -> str:
        return self.detail_url or self.search_url


class HandledBy(StrEnum):
    one_stop = "one_stop"
    """The ward's Trung tâm Phục vụ hành chính công."""
    police = "police"
    """Công an cấp xã (residence matters): the ward's one-stop does not take these."""
    military = "military"
    """Ban Chỉ huy quân sự cấp xã."""


PROVINCE_SETS_FEE = re.compile(r"Hội đồng nhân dân|HĐND", re.IGNORECASE)
"""A fee text that leaves the level to the province."""


def record_fee_kind(proc: Procedure) -> FeeKind:
    """What the record's fee lines (or an older fee text) say, without a hand-written reading:
    province when any text leaves the level to HĐND, fixed when an amount is given, else
    unknown (a bare 0 is not read as free)."""
    fees = proc.fees or ()
    texts = [f.note or "" for f in fees] + [proc.fee or "", proc.fee_source or ""]
    if any(PROVINCE_SETS_FEE.search(t) for t in texts):
        return FeeKind.province
    if any(f.value for f in fees):
        return FeeKind.fixed
    return FeeKind.unknown


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Procedure(Frozen):
    code: str
    name: NonEmpty
    """The official name (the record's)."""
    short_name: Annotated[str, Field(min_length=1, max_length=40)]
    """What a button or a list shows."""
    category: NonEmpty
    field: NonEmpty
    handled_by: HandledBy = HandledBy.one_stop
    agency: NonEmpty
    plain: Plain | None = None
    """The hand-written version residents read first; None until one is written."""
    documents: Documents
    deadline: Fact = None
    """A deadline text from a source without per-channel data (older entries)."""
    deadline_source: str | None = None
    """The text as the source gives it, kept for provenance when `deadline` was reworded for
    residents; never shown to residents."""
    deadlines: tuple[ChannelDeadline, ...] = ()
    """The record's processing times per channel, verbatim."""
    fee: Fact = None
    """A fee text from a source without per-channel data (older entries)."""
    fee_source: str | None = None
    """The text as the source gives it, kept for provenance when `fee` was reworded for
    residents; never shown to residents."""
    fees: tuple[ChannelFee, ...] | None = None
    """The record's fee lines per channel, verbatim; `[]`: the record lists no fee at all;
    absent: no per-channel data."""
    channels: tuple[NonEmpty, ...] | None
    result: Annotated[tuple[NonEmpty, ...], BeforeValidator(_one_or_many)] = ()
    conditions: tuple[NonEmpty, ...] = ()
    """Yêu cầu, điều kiện (the record's requirements)."""
    steps: str | None = None
    """Trình tự thực hiện, condensed faithfully from the record."""
    common_rules: str | None = None
    """Key into the catalogue's common_rules that also apply here."""
    legal_basis: tuple[NonEmpty, ...] = ()
    agencies: dict[str, NonEmpty] = {}
    """The record's agencies (implementing, deciding, coordinating...), verbatim."""
    dvc: PortalLinks
    source: str | None = None
    """Which record the facts were copied from (provenance; never shown to residents)."""
    caveats: tuple[NonEmpty, ...] = ()
    """Notes for staff (shown in the console, never to residents)."""
    related: tuple[NonEmpty, ...] = ()
    aliases: tuple[NonEmpty, ...] = ()
    """Colloquial names. Matching folds diacritics, so one spelling of each is enough."""
    examples: tuple[NonEmpty, ...] = ()
    """Questions that must reach this procedure: the regression suite of `wardbot eval`."""

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not PROCEDURE_CODE.match(value):
            raise ValueError("code must look like 1.001193 (or an upper-case local code)")
        return value

    @field_validator("channels", mode="before")
    @classmethod
    def _unknown_channels(cls, value: Any) -> Any:
        return _unknown_to_none(value)

    @model_validator(mode="after")
    def _plain_fee_agrees(self) -> Procedure:
        record = record_fee_kind(self)
        if (
            self.plain is not None
            and record is FeeKind.province
            and self.plain.fee_kind in (FeeKind.free, FeeKind.fixed)
        ):
            raise ValueError(
                f"plain.fee_kind is {self.plain.fee_kind.value!r} but the record leaves the fee "
                "to the province (HĐND tỉnh): use 'province' or 'mixed'"
            )
        return self

    @property
    def fee_kind(self) -> FeeKind:
        """The plain version's kind of fee, else what the record's fee lines say."""
        return self.plain.fee_kind if self.plain is not None else record_fee_kind(self)

    def record_texts(self) -> tuple[str, ...]:
        """Every text of the record (name, documents, forms, cases, notes, conditions, result):
        the official vocabulary of this procedure, e.g. for matching."""
        docs = self.documents
        texts: list[str] = [self.name, *docs.submit, *docs.present, *docs.forms, *docs.notes]
        for case in docs.cases:
            texts += [case.label, *case.documents]
        texts += [*self.conditions, *self.result]
        return tuple(texts)


class Catalogue(Frozen):
    """Everything procedures.yaml holds, cross-checked."""

    ward: WardProfile
    categories: tuple[Category, ...] = Field(min_length=1)
    common_rules: dict[str, CommonRules] = {}
    procedures: tuple[Procedure, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_references(self) -> Catalogue:
        problems: list[str] = []
        codes = [p.code for p in self.procedures]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            problems.append(f"duplicate procedure codes: {dupes}")
        category_ids = {c.id for c in self.categories}
        for p in self.procedures:
            if p.category not in category_ids:
                problems.append(f"procedure {p.code}: unknown category {p.category!r}")
            if p.common_rules and p.common_rules not in self.common_rules:
                problems.append(f"procedure {p.code}: unknown common_rules {p.common_rules!r}")
        for code in self.ward.local_fees:
            proc = self.procedure(code)
            if proc is None:
                problems.append(f"ward.local_fees: no procedure with code {code!r}")
            elif proc.fee_kind in (FeeKind.free, FeeKind.fixed):
                problems.append(
                    f"ward.local_fees: the fee of {code} is {proc.fee_kind.value}, set "
                    "nationally; a provincial figure does not apply"
                )
        for c in self.categories:
            if c.contact and c.contact not in self.ward.contacts:
                problems.append(f"category {c.id}: unknown contact {c.contact!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def booking_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Counters naming procedures, categories or fields the catalogue does not hold: each
        with its location in procedures.yaml (the loader turns it into a line)."""
        booking = self.ward.booking
        if booking is None:
            return []
        problems: list[tuple[tuple[str | int, ...], str]] = []
        known: dict[str, set[str]] = {
            "procedures": {p.code for p in self.procedures},
            "categories": {c.id for c in self.categories},
            "fields": {p.field for p in self.procedures},
        }
        what = {"procedures": "procedure code", "categories": "category", "fields": "field"}
        for index, counter in enumerate(booking.counters):
            for key in ("procedures", "categories", "fields"):
                for position, value in enumerate(getattr(counter, key)):
                    if value not in known[key]:
                        location = ("ward", "booking", "counters", index, key, position)
                        problems.append((location, f"no such {what[key]} {value!r}"))
        return problems

    def procedure(self, code: str) -> Procedure | None:
        return next((p for p in self.procedures if p.code == code), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def in_category(self, category_id: str) -> tuple[Procedure, ...]:
        return tuple(p for p in self.procedures if p.category == category_id)
