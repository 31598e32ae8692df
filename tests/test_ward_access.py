"""app.ward_access: which wards a staff member sees, decided once for every route."""

from __future__ import annotations

import pytest

from app.catalogue.loader import load_catalogue
from app.staff import Role, StaffUser
from app.ward_access import NoWard, WardNotVisible, WardRequired, access_for
from app.wards import Ward, Wards
from tests.conftest import ROOT

SHARED = load_catalogue(ROOT / "procedures.yaml")
A = Ward("phuong-a", "oa-a", SHARED.ward, SHARED)
B = Ward("xa-b", "oa-b", SHARED.ward, SHARED)
TWO = Wards((A, B), from_files=True)
LEGACY = Wards((Ward("default", None, SHARED.ward, SHARED),), from_files=False)


def user(role: Role, ward: str | None) -> StaffUser:
    return StaffUser(1, "lan", role, ward)


def test_a_wards_staff_see_their_ward_only() -> None:
    access = access_for(user(Role.staff, "phuong-a"), TWO)
    assert access.oa_ids == {"oa-a"}
    assert access.allows("oa-a") and not access.allows("oa-b")
    assert not access.allows("oa-nobody")
    with pytest.raises(WardNotVisible):
        access.check("oa-b")
    assert access.choose(None) is A
    with pytest.raises(WardNotVisible):
        access.choose("xa-b")
    assert access.account_wards() == {"phuong-a"}


@pytest.mark.parametrize("who", [user(Role.province, None), None], ids=["province", "token"])
def test_a_province_admin_and_the_api_token_see_every_ward(who: StaffUser | None) -> None:
    access = access_for(who, TWO)
    assert access.oa_ids is None
    assert access.allows("oa-a") and access.allows("oa-b")
    assert access.ward_of("oa-b") is B and access.ward_of("oa-x") is None
    assert access.choose("xa-b") is B
    with pytest.raises(WardRequired):
        access.choose(None)
    assert access.account_wards() is None


@pytest.mark.parametrize("ward", [None, "gone"])
def test_an_account_of_no_served_ward_sees_nothing(ward: str | None) -> None:
    with pytest.raises(NoWard):
        access_for(user(Role.admin, ward), TWO)


def test_in_a_one_ward_deployment_accounts_without_a_ward_see_everything() -> None:
    access = access_for(user(Role.staff, None), LEGACY)
    assert access.oa_ids is None  # every row is the one ward's, whatever its OA id
    assert access.allows("any-oa")
    assert access.ward_of("any-oa") is LEGACY.only
    assert access.account_wards() == {"default", None}
