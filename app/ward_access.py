"""Which wards a signed-in staff member may see and act on: the one rule that every console
page and staff API route applies on the server (app.web.console.auth turns it into a
dependency).

A ward's admin or staff see their own ward; a province admin, and the operator's API token,
see every ward. An account without a ward belongs to the deployment's ward when there is
exactly one (accounts made before wards existed keep working); with several wards it sees
nothing until an operator gives it one. Pure domain: no FastAPI, SQLModel or environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.staff import StaffUser
from app.wards import Ward, Wards


class NoWard(Exception):
    """The account belongs to no ward this deployment serves (HTTP 403)."""


class WardNotVisible(LookupError):
    """A ward, or an object of a ward, this staff member may not see (HTTP 404: another
    ward's objects are not even confirmed to exist)."""


class WardRequired(ValueError):
    """The staff member sees several wards and did not say which one to act in (HTTP 422)."""


@dataclass(frozen=True)
class WardAccess:
    wards: tuple[Ward, ...]
    """The wards visible, in the directory's order."""
    everywhere: bool
    """Every ward of the deployment: a province admin or the API token."""
    single: bool = False
    """The deployment has exactly one ward."""
    from_files: bool = True
    """The wards come from ward files, each on its OA. False: the one ward of
    procedures.yaml, to which every row of the database belongs, whatever its OA id."""

    @property
    def oa_ids(self) -> frozenset[str] | None:
        """The OA ids that queries keep; None: keep everything (every ward, or the one ward
        of a deployment without ward files, which answers whichever OA writes to it)."""
        if self.everywhere or not self.from_files:
            return None
        return frozenset(w.oa_id for w in self.wards if w.oa_id is not None)

    def allows(self, oa_id: str) -> bool:
        """Whether a row of this OA (a report, an announcement, a question) is visible."""
        wanted = self.oa_ids
        return wanted is None or oa_id in wanted

    def check(self, oa_id: str) -> None:
        if not self.allows(oa_id):
            raise WardNotVisible(oa_id)

    def oa_ids_of(self, ward: Ward) -> frozenset[str] | None:
        """The OA ids a list narrowed to `ward` (one of `wards`) keeps; None: everything (the
        one ward of procedures.yaml, which every row belongs to)."""
        if self.from_files and ward.oa_id is not None:
            return frozenset({ward.oa_id})
        return self.oa_ids

    def ward_of(self, oa_id: str) -> Ward | None:
        """The visible ward a row belongs to, for labels (None: no ward claims that OA)."""
        if not self.from_files:
            return self.only
        for ward in self.wards:
            if ward.oa_id == oa_id:
                return ward
        return None

    @property
    def only(self) -> Ward | None:
        return self.wards[0] if len(self.wards) == 1 else None

    def choose(self, slug: str | None) -> Ward:
        """The ward to act in: the one named (it must be visible), or the only one visible."""
        if slug:
            for ward in self.wards:
                if ward.slug == slug:
                    return ward
            raise WardNotVisible(slug)
        if self.only is None:
            raise WardRequired("Hãy chọn phường/xã.")
        return self.only

    def account_wards(self) -> set[str | None] | None:
        """The ward slugs of the accounts this staff member manages; None: every account. An
        account without a ward counts in the one ward of a one-ward deployment."""
        if self.everywhere:
            return None
        slugs: set[str | None] = {w.slug for w in self.wards}
        if self.single:
            slugs.add(None)
        return slugs


def access_for(user: StaffUser | None, wards: Wards) -> WardAccess:
    """What `user` may see; None is the operator's API token (every ward)."""
    every = tuple(wards.all())
    single = len(every) == 1
    if user is None or user.is_province:
        return WardAccess(every, everywhere=True, single=single, from_files=wards.from_files)
    if user.ward is None:
        if single:
            return WardAccess(every, everywhere=False, single=True, from_files=wards.from_files)
        raise NoWard(user.username)
    ward = wards.by_slug(user.ward)
    if ward is None:
        raise NoWard(user.username)
    return WardAccess((ward,), everywhere=False, single=single, from_files=wards.from_files)
