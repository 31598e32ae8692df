"""Group commands in the chat: what must fire, what must not, and what the resident reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.announcements.groups import (
    GroupCommand,
    canonical,
    decide,
    directory,
    parse_group_command,
    zalo_tag_name,
)
from app.catalogue import Catalogue
from app.catalogue.models import ResidentialGroup
from app.dialogue.reply import MAX_BUTTONS


@pytest.fixture(scope="module")
def groups(catalogue: Catalogue) -> tuple[ResidentialGroup, ...]:
    assert len(catalogue.ward.residential_groups) == 12
    return catalogue.ward.residential_groups


JOIN = [
    ("đăng ký tổ 5", "tdp-5"),
    ("dang ky to 5", "tdp-5"),
    ("Đăng ký tổ 5 ạ", "tdp-5"),
    ("tôi ở tổ dân phố số 5", "tdp-5"),
    ("toi o to dan pho so 5", "tdp-5"),
    ("Nhà em ở TDP 5", "tdp-5"),
    ("TDP 5", "tdp-5"),
    ("tdp5", "tdp-5"),
    ("Tổ dân phố số 12", "tdp-12"),
    ("tổ 05", "tdp-5"),
    ("chuyển sang tổ 7", "tdp-7"),
    ("chuyen qua to 7 nhe ad", "tdp-7"),
    ("chuyển từ tổ 5 sang tổ 7", "tdp-7"),
    ("đổi sang TDP 7", "tdp-7"),
    ("dang ky nhan thong bao to 3", "tdp-3"),
    ("đăng ký nhận thông báo tổ dân phố 3", "tdp-3"),
    ("dk to 3", "tdp-3"),
    ("mình thuộc tổ 9", "tdp-9"),
    ("Dạ em đăng ký TDP05 ạ", "tdp-5"),
    ("đăng ký tổ 5", "tdp-5"),  # NFD: decomposed diacritics
]

OTHER = [
    ("hủy nhận thông báo", "leave"),
    ("huy nhan thong bao", "leave"),
    ("huy dang ky", "leave"),
    ("Hủy đăng ký tổ 5", "leave"),
    ("không nhận thông báo nữa", "leave"),
    ("ngừng nhận thông báo", "leave"),
    ("tôi đang ở tổ nào", "ask"),
    ("toi dang o to nao vay", "ask"),
    ("tổ của tôi là tổ nào", "ask"),
    ("mình đăng ký tổ nào", "ask"),
    ("Nhận thông báo", "menu"),
    ("đăng ký nhận thông báo", "menu"),
    ("đăng ký tổ dân phố", "menu"),
    ("đăng ký tổ 15", "unknown_group"),
    ("chuyển sang tổ 20", "unknown_group"),
]

MUST_NOT_FIRE = [
    "đăng ký khai sinh",
    "dang ky khai sinh cho con",
    "tổ chức lễ hội",
    "to chuc dam cuoi can xin phep khong",
    "tổ hòa giải",
    "tạm trú",
    "đăng ký tạm trú",
    "hủy đăng ký tạm trú",
    "huy dang ky thuong tru",
    "đăng ký khai sinh cho con ở tổ 5",
    "đăng ký tạm trú ở tổ 5",
    "tổ 5 họp lúc mấy giờ",
    "tổ trưởng tổ 5 là ai",
    "hộ khẩu ở tổ nào",
    "tôi không tin",
    "nhắn tin cho cán bộ",
    "thông báo mất giấy tờ",
    "đăng ký",
    "tổ",
    "5",
    "",
    "xin chào",
    "giờ làm việc",
]


@pytest.mark.parametrize(("text", "group_id"), JOIN)
def test_join(text: str, group_id: str, groups: tuple[ResidentialGroup, ...]) -> None:
    command = parse_group_command(text, groups)
    assert command is not None and command.kind == "join", text
    assert command.group is not None and command.group.id == group_id


@pytest.mark.parametrize(("text", "kind"), OTHER)
def test_other_commands(text: str, kind: str, groups: tuple[ResidentialGroup, ...]) -> None:
    command = parse_group_command(text, groups)
    assert command is not None and command.kind == kind, text


@pytest.mark.parametrize("text", MUST_NOT_FIRE)
def test_procedure_questions_are_not_group_commands(
    text: str, groups: tuple[ResidentialGroup, ...]
) -> None:
    assert parse_group_command(text, groups) is None


def test_unknown_group_is_quoted_back_readably(groups: tuple[ResidentialGroup, ...]) -> None:
    command = parse_group_command("đăng ký tổ dân phố số 15", groups)
    assert command == GroupCommand("unknown_group", mentioned="tổ dân phố 15")


def test_no_groups_configured_means_no_commands() -> None:
    assert parse_group_command("đăng ký tổ 5", ()) is None


def test_decomposed_unicode_matches_like_composed() -> None:
    assert canonical("đăng ký tổ dân phố số 05") == "dang ky to dan pho 5"


@given(st.text(max_size=60))
def test_parsing_never_raises(text: str) -> None:
    groups = (ResidentialGroup(id="tdp-1", name="Tổ dân phố số 1", aliases=("tổ 1", "TDP 1")),)
    parse_group_command(text, groups)


# --- replies -----------------------------------------------------------------------------------


def _join(groups: tuple[ResidentialGroup, ...], number: int) -> GroupCommand:
    return GroupCommand("join", group=directory(groups).by_id(f"tdp-{number}"))


def test_first_join_confirms_and_explains(groups: tuple[ResidentialGroup, ...]) -> None:
    outcome = decide(_join(groups, 5), None, groups)
    assert (outcome.group_id, outcome.changed) == ("tdp-5", True)
    text = outcome.reply.text
    assert text.startswith("Dạ, em đã ghi nhận anh/chị thuộc Tổ dân phố số 5 ạ.")
    assert "chuyển sang tổ" in text and "hủy nhận thông báo" in text


def test_change_names_both_groups(groups: tuple[ResidentialGroup, ...]) -> None:
    outcome = decide(_join(groups, 7), "tdp-5", groups)
    assert (outcome.group_id, outcome.changed) == ("tdp-7", True)
    assert "từ Tổ dân phố số 5 sang Tổ dân phố số 7" in outcome.reply.text


def test_joining_the_same_group_changes_nothing(groups: tuple[ResidentialGroup, ...]) -> None:
    outcome = decide(_join(groups, 5), "tdp-5", groups)
    assert (outcome.group_id, outcome.changed) == ("tdp-5", False)
    assert "rồi ạ" in outcome.reply.text


def test_leave(groups: tuple[ResidentialGroup, ...]) -> None:
    outcome = decide(GroupCommand("leave"), "tdp-5", groups)
    assert (outcome.group_id, outcome.changed) == (None, True)
    assert "hủy đăng ký nhận thông báo của Tổ dân phố số 5" in outcome.reply.text
    not_member = decide(GroupCommand("leave"), None, groups)
    assert not not_member.changed and "chưa đăng ký" in not_member.reply.text


def test_ask(groups: tuple[ResidentialGroup, ...]) -> None:
    member = decide(GroupCommand("ask"), "tdp-3", groups)
    assert "Tổ dân phố số 3" in member.reply.text and not member.changed
    stranger = decide(GroupCommand("ask"), None, groups)
    assert "chưa đăng ký" in stranger.reply.text and "Tổ dân phố số 12" in stranger.reply.text


def test_menu_lists_every_group_when_buttons_cannot(groups: tuple[ResidentialGroup, ...]) -> None:
    reply = decide(GroupCommand("menu"), None, groups).reply
    assert len(groups) > MAX_BUTTONS and not reply.buttons
    for group in groups:
        assert group.name in reply.text
    assert 'ví dụ: "đăng ký tổ 1"' in reply.text


def test_menu_offers_buttons_that_join_when_pressed() -> None:
    few = tuple(
        ResidentialGroup(id=f"kp-{i}", name=f"Khu phố {i}", aliases=(f"KP {i}",))
        for i in range(1, 4)
    )
    reply = decide(GroupCommand("menu"), None, few).reply
    assert [b.payload for b in reply.buttons] == ["Khu phố 1", "Khu phố 2", "Khu phố 3"]
    # A button sends its payload back as the resident's text: it must join that group.
    command = parse_group_command(reply.buttons[1].payload, few)
    assert command is not None and command.group is not None and command.group.id == "kp-2"


def test_every_reply_is_polite(groups: tuple[ResidentialGroup, ...]) -> None:
    commands = [
        _join(groups, 1),
        GroupCommand("leave"),
        GroupCommand("ask"),
        GroupCommand("menu"),
        GroupCommand("unknown_group", mentioned="tổ 15"),
    ]
    for current in (None, "tdp-1", "tdp-2"):
        for command in commands:
            text = decide(command, current, groups).reply.text
            assert text.startswith("Dạ,") and " ạ" in text and "anh/chị" in text.lower(), text


def test_zalo_tag_is_the_capitals_alias(groups: tuple[ResidentialGroup, ...]) -> None:
    assert zalo_tag_name(directory(groups).by_id("tdp-5")) == "TDP 5"  # type: ignore[arg-type]
    plain = ResidentialGroup(id="x", name="Khu phố Hòa Bình", aliases=("hòa bình",))
    assert zalo_tag_name(plain) == "Khu phố Hòa Bình"


def test_a_name_two_groups_share_names_neither() -> None:
    clash = (
        ResidentialGroup(id="a", name="Tổ A", aliases=("tổ dưới",)),
        ResidentialGroup(id="b", name="Tổ B", aliases=("tổ dưới",)),
    )
    assert directory(clash).resolve("tổ dưới") is None
    assert directory(clash).resolve("Tổ B") == clash[1]
