"""The catalogue's schema: the ward profile and its procedures, as validated immutable objects.

A fact the sources do not give is written `unknown` in procedures.yaml and becomes `None` here, so
the replies can say "not known, see the portal" instead of inventing it.
"""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

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
    """Documents for one case of a procedure (e.g. monthly allowance vs. care support)."""

    label: NonEmpty
    submit: tuple[NonEmpty, ...] = ()
    present: tuple[NonEmpty, ...] = ()


class Documents(Frozen):
    """Thành phần hồ sơ. `status: unknown` means no source gave the list; never guess one."""

    status: Literal["known", "unknown"] = "known"
    submit: tuple[NonEmpty, ...] = ()
    present: tuple[NonEmpty, ...] = ()
    cases: tuple[DocumentCase, ...] = ()
    notes: tuple[NonEmpty, ...] = ()
    unverified_expected: tuple[NonEmpty, ...] = ()
    """Documents a secondary source expects; shown only with that caveat."""

    @model_validator(mode="after")
    def _known_has_content(self) -> Documents:
        has_lists = bool(self.submit or self.present or self.cases)
        if self.status == "known" and not has_lists:
            raise ValueError("status is 'known' but submit, present and cases are all empty")
        if self.status == "unknown" and has_lists:
            raise ValueError("status is 'unknown' but a document list is given")
        return self

    @property
    def known(self) -> bool:
        return self.status == "known"


class PortalLinks(Frozen):
    """The procedure on dichvucong.gov.vn: a direct page when the id is verified, else a search."""

    detail_url: Annotated[str | None, Field(pattern=r"^https://")] = None
    search_url: Annotated[str, Field(pattern=r"^https://")]
    formality_id_status: str | None = None

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


class Procedure(Frozen):
    code: str
    name: NonEmpty
    short_name: Annotated[str, Field(min_length=1, max_length=40)]
    """What a button or a list shows."""
    category: NonEmpty
    field: NonEmpty
    handled_by: HandledBy = HandledBy.one_stop
    agency: NonEmpty
    documents: Documents
    deadline: Fact
    deadline_source: str | None = None
    """The text as the reference gives it, kept for provenance when `deadline` was reworded for
    residents; never shown to residents."""
    fee: Fact
    fee_source: str | None = None
    """The text as the reference gives it, kept for provenance when `fee` was reworded for
    residents; never shown to residents."""
    channels: tuple[NonEmpty, ...] | None
    online_level: Fact = None
    result: Fact = None
    conditions: tuple[NonEmpty, ...] = ()
    common_rules: str | None = None
    """Key into the catalogue's common_rules that also apply here."""
    legal_basis: tuple[NonEmpty, ...] = ()
    dvc: PortalLinks
    detail_level: NonEmpty
    caveats: tuple[NonEmpty, ...] = ()
    related: tuple[NonEmpty, ...] = ()
    aliases: tuple[NonEmpty, ...] = ()
    """Colloquial names. Matching folds diacritics, so one spelling of each is enough."""
    examples: tuple[NonEmpty, ...] = ()
    """Questions that must reach this procedure: the regression suite of `wardbot eval`."""
    sources: tuple[NonEmpty, ...] = ()

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
        for c in self.categories:
            if c.contact and c.contact not in self.ward.contacts:
                problems.append(f"category {c.id}: unknown contact {c.contact!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def procedure(self, code: str) -> Procedure | None:
        return next((p for p in self.procedures if p.code == code), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def in_category(self, category_id: str) -> tuple[Procedure, ...]:
        return tuple(p for p in self.procedures if p.category == category_id)
