"""Which detail a question asks about, and whether it names a topic of its own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.matching.aspects import Aspect, detect_aspects, is_followup_only

A = Aspect


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("khai sinh mất bao lâu", {A.deadline}),
        ("mất mấy ngày", {A.deadline}),
        ("bao giờ thì có kết quả", {A.deadline}),
        ("phí chứng thực bao nhiêu", {A.fee}),
        ("lam giay khai sinh mat phi ko ad", {A.fee}),
        ("có mất tiền không", {A.fee}),
        ("lệ phí", {A.fee}),
        ("mất bn tiền", {A.fee}),
        ("nộp online được không", {A.online}),
        ("làm trực tuyến được ko", {A.online}),
        ("đăng ký trên vneid", {A.online}),
        ("dang ky ket hon o dau", {A.where}),
        ("nộp chỗ nào", {A.where}),
        ("cần mang gì", {A.documents}),
        ("ks can nhung gi", {A.documents}),
        ("giấy tờ gì", {A.documents}),
        ("hồ sơ gồm những gì", {A.documents}),
        ("cần giấy tờ j", {A.documents}),
        ("các bước làm", {A.steps}),
        ("làm thế nào", {A.steps}),
        ("quy trình ra sao", {A.steps}),
        ("lm ntn", {A.steps}),
        ("còn lưu ý gì", {A.notes}),
        ("cần chú ý gì không ạ", {A.notes}),
        ("đăng ký kết hôn ở đâu, mất bao lâu", {A.where, A.deadline}),
    ],
)
def test_detect_aspects(text: str, expected: set[Aspect]) -> None:
    assert detect_aspects(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "khai sinh",
        "tiền mai táng phí",
        "hỗ trợ chi phí mai táng",
        "tạm ngừng kinh doanh trước thời hạn",
        "gia hạn thời hạn sử dụng đất",
        "đăng ký tài khoản dịch vụ công",
        "cảm ơn",
        "",
    ],
)
def test_names_that_contain_a_cue_word_ask_nothing(text: str) -> None:
    assert detect_aspects(text) == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "còn phí thì sao?",
        "mất mấy ngày?",
        "nộp online được không?",
        "ở đâu ạ",
        "thế còn lệ phí",
        "cần mang gì",
        "hồ sơ gồm những gì",
        "bao lâu thì có",
        "làm ở đâu vậy ad",
        "còn lưu ý gì",
        "con luu y j ko",
    ],
)
def test_followup_only(text: str) -> None:
    assert is_followup_only(text)


@pytest.mark.parametrize(
    "text",
    [
        "khai sinh mất bao lâu",
        "phí chứng thực bao nhiêu",
        "phí ship bao nhiêu",
        "đăng ký tạm trú online",
        "cảm ơn",
        "khai sinh",
        "mai táng phí",
        "",
    ],
)
def test_not_followup_when_a_topic_is_named_or_no_detail_asked(text: str) -> None:
    assert not is_followup_only(text)


@given(st.text())
def test_never_raises(text: str) -> None:
    aspects = detect_aspects(text)
    assert is_followup_only(text) <= bool(aspects)
