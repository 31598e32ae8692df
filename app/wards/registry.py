"""`Ward` and the `Wards` directory, built from a loaded catalogue version."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.catalogue import Catalogue, Content, WardProfile
from app.catalogue.wards import WardDefinition

DEFAULT_SLUG = "default"
"""The slug of the one ward of procedures.yaml when there are no ward files."""


@dataclass(frozen=True, eq=False)
class Ward:
    """One ward: its slug, its OA, its profile and the procedures it offers (`catalogue`:
    the shared catalogue with this ward's profile, minus what it hides, plus its own)."""

    slug: str
    oa_id: str | None
    """None only for the single ward of procedures.yaml without ZALO_OA_ID: it answers the
    one OA whose events reach the app (today's behaviour)."""
    profile: WardProfile = field(repr=False)
    shared: Catalogue = field(repr=False)
    definition: WardDefinition | None = field(default=None, repr=False)
    """The ward file; None for the single ward of procedures.yaml."""
    _built: list[Catalogue] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def shares_procedures(self) -> bool:
        """Offers exactly the shared procedures: its matcher may be the shared one."""
        return self.definition is None or self.definition.shares_procedures

    @property
    def catalogue(self) -> Catalogue:
        """The procedures view, built on first use (200 wards cost nothing until asked)."""
        if self.definition is None:
            return self.shared
        with self._lock:
            if not self._built:
                self._built.append(self.definition.catalogue(self.shared))
            return self._built[0]

    @property
    def hidden(self) -> frozenset[str]:
        return frozenset(self.definition.hide) if self.definition is not None else frozenset()


class Wards:
    """The directory: look a ward up by OA id (routing events) or slug (operators)."""

    def __init__(self, wards: tuple[Ward, ...], *, from_files: bool) -> None:
        self._all = wards
        self.from_files = from_files
        """True: ward files define the wards; False: the single ward of procedures.yaml."""
        self._by_oa = {w.oa_id: w for w in wards if w.oa_id is not None}
        self._by_slug = {w.slug: w for w in wards}

    def by_oa(self, oa_id: str) -> Ward | None:
        """The ward whose OA this is; None when no ward claims it (record, answer nothing)."""
        found = self._by_oa.get(oa_id)
        if found is not None:
            return found
        if not self.from_files and len(self._all) == 1 and self._all[0].oa_id is None:
            return self._all[0]
        return None

    def by_slug(self, slug: str) -> Ward | None:
        return self._by_slug.get(slug)

    def all(self) -> tuple[Ward, ...]:
        return self._all

    def __iter__(self) -> Iterator[Ward]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    @property
    def only(self) -> Ward | None:
        """The ward when there is exactly one (commands that need no --ward then)."""
        return self._all[0] if len(self._all) == 1 else None


def wards_of(content: Content, *, single_oa_id: str | None = None) -> Wards:
    """The wards of a loaded catalogue version: one per ward file, or, without ward files,
    the ward of procedures.yaml on `single_oa_id` (ZALO_OA_ID; None: whichever OA)."""
    shared = content.catalogue
    if not content.wards:
        only = Ward(DEFAULT_SLUG, single_oa_id, shared.ward, shared)
        return Wards((only,), from_files=False)
    wards = tuple(
        Ward(d.slug, d.oa_id, d.profile, shared, d)
        for d in sorted(content.wards, key=lambda d: d.slug)
    )
    return Wards(wards, from_files=True)
