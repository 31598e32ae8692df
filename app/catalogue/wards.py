"""Ward files: one OA and its ward profile per `wards/<slug>.yaml` document of the catalogue.

A province's deployment serves many wards' Official Accounts through one Zalo app. Each ward
file holds the OA id, the same `ward:` section procedures.yaml has (WardProfile: name,
address, hours, phones by field, residential groups, police, local fees...), and optionally
the shared procedure codes the ward `hide`s and `procedures` of its own (the same schema as
procedures.yaml's). The files are stored as documents of the versioned catalogue, so they
are validated, versioned, followed and rolled back together with procedures.yaml.

    oa_id: "1234567890123456789"
    ward:
      name: Phường Mẫu
      ...
    hide: ["1.000656"]
    procedures: []
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, field_validator

from app.catalogue.models import Catalogue, FeeKind, Frozen, Procedure, WardProfile

WARDS_FOLDER = "wards/"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
"""A ward's slug: the file's name without `.yaml`, lower-case letters, digits and hyphens."""
OA_ID = r"^[0-9A-Za-z_-]{1,64}$"
Location = tuple[int | str, ...]


class WardFile(Frozen):
    """What `wards/<slug>.yaml` holds."""

    oa_id: Annotated[str, Field(pattern=OA_ID)]
    """The ward's Official Account id: `recipient.id` of its residents' events (reference §1)."""
    ward: WardProfile
    hide: tuple[str, ...] = ()
    """Codes of shared procedures (procedures.yaml) this ward does not offer."""
    procedures: tuple[Procedure, ...] = ()
    """The ward's own procedures, beside the shared ones."""

    @field_validator("oa_id", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        # An unquoted OA id reads as a YAML integer; it is the same id.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("hide", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) if isinstance(v, int | float) else v for v in value]
        return value


@dataclass(frozen=True)
class WardDefinition:
    """One validated ward file: the ward and how its procedures differ from the shared ones."""

    slug: str
    oa_id: str
    profile: WardProfile
    hide: tuple[str, ...]
    own: tuple[Procedure, ...]

    @property
    def document(self) -> str:
        return ward_document(self.slug)

    @property
    def shares_procedures(self) -> bool:
        """Offers exactly the shared procedures (so it may share their matcher)."""
        return not self.hide and not self.own

    def catalogue(self, shared: Catalogue) -> Catalogue:
        """The shared catalogue as this ward serves it: its profile, minus what it hides, plus
        its own procedures. Built without validating again: `ward_problems` checked it."""
        hidden = set(self.hide)
        procedures = tuple(p for p in shared.procedures if p.code not in hidden) + self.own
        return Catalogue.model_construct(
            ward=self.profile,
            categories=shared.categories,
            common_rules=shared.common_rules,
            procedures=procedures,
        )


def ward_document(slug: str) -> str:
    return f"{WARDS_FOLDER}{slug}.yaml"


def is_ward_document(name: str) -> bool:
    return name.startswith(WARDS_FOLDER)


def slug_of(name: str) -> str | None:
    """`wards/<slug>.yaml` -> slug; None when the name is not a valid ward document name."""
    if not is_ward_document(name) or not name.endswith(".yaml"):
        return None
    slug = name.removeprefix(WARDS_FOLDER).removesuffix(".yaml")
    return slug if SLUG.match(slug) else None


def ward_problems(definition: WardDefinition, shared: Catalogue) -> list[tuple[Location, str]]:
    """Cross-checks of one ward file against the shared catalogue, each with the location in
    the file (for its line): hidden codes exist, own codes are new, own procedures name known
    categories and rules, local fees name procedures the ward offers, categories' contacts
    exist in the ward's phones."""
    problems: list[tuple[Location, str]] = []
    shared_codes = {p.code for p in shared.procedures}
    for index, code in enumerate(definition.hide):
        if code not in shared_codes:
            problems.append((("hide", index), f"no shared procedure has code {code!r}"))
    category_ids = {c.id for c in shared.categories}
    own_codes: list[str] = []
    for index, proc in enumerate(definition.own):
        where: Location = ("procedures", index)
        if proc.code in shared_codes and proc.code not in definition.hide:
            problems.append(
                ((*where, "code"), f"procedures.yaml already has {proc.code}: hide it first")
            )
        if proc.code in own_codes:
            problems.append(((*where, "code"), f"duplicate procedure code {proc.code}"))
        own_codes.append(proc.code)
        if proc.category not in category_ids:
            problems.append(((*where, "category"), f"unknown category {proc.category!r}"))
        if proc.common_rules and proc.common_rules not in shared.common_rules:
            problems.append(
                ((*where, "common_rules"), f"unknown common_rules {proc.common_rules!r}")
            )
    offered = {p.code: p for p in shared.procedures if p.code not in definition.hide}
    offered.update({p.code: p for p in definition.own})
    for code in definition.profile.local_fees:
        where = ("ward", "local_fees", code)
        found = offered.get(code)
        if found is None:
            problems.append((where, f"this ward offers no procedure with code {code!r}"))
        elif found.fee_kind in (FeeKind.free, FeeKind.fixed):
            problems.append(
                (
                    where,
                    f"the fee of {code} is {found.fee_kind.value}, set nationally; a "
                    "provincial figure does not apply",
                )
            )
    for category in shared.categories:
        if category.contact and category.contact not in definition.profile.contacts:
            problems.append(
                (
                    ("ward", "contacts"),
                    f"category {category.id} names the phone {category.contact!r}, which this "
                    "ward does not list",
                )
            )
    return problems


def duplicate_oa_ids(definitions: Iterable[WardDefinition]) -> Mapping[str, list[str]]:
    """OA id -> the slugs claiming it, for ids more than one ward file claims."""
    by_oa: dict[str, list[str]] = {}
    for definition in definitions:
        by_oa.setdefault(definition.oa_id, []).append(definition.slug)
    return {oa: slugs for oa, slugs in by_oa.items() if len(slugs) > 1}
