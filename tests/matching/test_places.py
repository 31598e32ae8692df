"""Another locality's office is not ours (places.py); a school level not its rival (RIVALS)."""

from __future__ import annotations

import pytest

from app.catalogue import Content
from app.matching.matcher import Matcher
from app.matching.normalize import normalize
from app.matching.places import NamedLocalities, other_places


def test_finds_a_province_by_its_folded_words() -> None:
    places = other_places(["Phường Mẫu", "Tỉnh Mẫu"])
    assert places.found(normalize("ubnd xã ở Đắk Lắk").split())
    assert places.found(normalize("bên TP.HCM").split())
    assert not places.found(normalize("số điện thoại phường mình").split())
    # "dak" alone is no place: every word of the name must follow in order
    assert not places.found(normalize("đắk nông nghiệp").split()[:1])


def test_the_wards_own_province_and_name_are_home() -> None:
    places = other_places(["Phường Hòa Bình", "Tỉnh Đắk Lắk"])
    assert not places.found(normalize("phường Hòa Bình ở Đắk Lắk").split())
    assert places.found(normalize("phường Ninh Kiều ở Cần Thơ").split())


@pytest.mark.parametrize(
    "text",
    [
        "Cho hỏi số điện thoại UBND xã Quỳnh Lưu bên Nghệ An",
        "Phường Ninh Kiều ở Cần Thơ giờ mở cửa mấy giờ vậy",
    ],
)
def test_another_localitys_office_is_not_answered_as_ours(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).kind == "none"


def test_our_own_office_still_is(matcher: Matcher, content: Content) -> None:
    assert matcher.match("số điện thoại phường mình là bao nhiêu").id == "contact"
    province = content.catalogue.ward.province
    assert matcher.match(f"số điện thoại phường ở {province}").id == "contact"


LOWER_SECONDARY_TRANSFER = "2.002481"


def test_an_upper_secondary_transfer_is_not_the_lower_secondary_one(matcher: Matcher) -> None:
    result = matcher.match("xin chuyển trường cho con lên lớp 11 ở trường cấp 3 khác")
    assert LOWER_SECONDARY_TRANSFER not in {c.id for c in result.alternatives}
    assert result.id != LOWER_SECONDARY_TRANSFER


def test_a_lower_secondary_transfer_still_is(matcher: Matcher) -> None:
    assert matcher.match("xin chuyển trường cho con học lớp 7").id == LOWER_SECONDARY_TRANSFER


@pytest.mark.parametrize(
    "text",
    [
        "quên mật khẩu facebook thì lấy lại sao",
        "Tôi muốn khiếu nại tiền điện tháng này tăng gấp đôi",
    ],
)
def test_another_services_account_or_bill_is_not_ours(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).kind == "none"


def test_the_wards_own_services_still_are(matcher: Matcher) -> None:
    assert matcher.match("quên mật khẩu vneid thì lấy lại sao").id == "online_services"
    assert matcher.match("cho tôi gặp cán bộ một cửa").id == "handoff"


def test_a_complaint_is_left_to_the_fallback(matcher: Matcher) -> None:
    """Round 8: every blind writer labels a complaint out of scope; the fallback reply gives the
    ward's phone, and a person asked for outright is still a handoff (above)."""
    assert matcher.match("tôi muốn khiếu nại cán bộ một cửa").kind == "none"


def test_names_a_ward_commune_or_district_by_its_capitalised_name() -> None:
    named = NamedLocalities(["Phường Mẫu", "Tỉnh Mẫu"])

    def found(text: str) -> bool:
        return named.found(text, normalize(text).split())

    assert found("Phường Bến Thành quận 1 thứ 7 có làm việc không")
    assert found("số điện thoại UBND xã Tân Phú")
    assert found("ủy ban quận 3 mấy giờ mở cửa")
    # the ward's own name, an unnamed "phường mình", a span of time, a message in capitals
    assert not found("Trung tâm phường Mẫu ở đâu")
    assert not found("Phường mình thứ 7 có làm không")
    assert not found("tui gửi đơn lên phường 2 tháng rồi")
    assert not found("PHƯỜNG CÓ LÀM THỨ 7 KHÔNG")


@pytest.mark.parametrize(
    "text",
    [
        "cho xin số điện thoại bệnh viện huyện",
        "ủy ban phường Tân Định chiều nay làm việc tới mấy giờ",
    ],
)
def test_another_agency_or_a_named_ward_is_not_our_office(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.id not in {"contact", "office_hours"}
    assert all(c.id not in {"contact", "office_hours"} for c in result.alternatives)
