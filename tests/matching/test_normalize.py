"""Folding residents' spellings to one form."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.matching.normalize import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đăng ký KHAI SINH", "dang ky khai sinh"),
        ("đăng ký khai sinh", "dang ky khai sinh"),
        ("dang ky khai sinh", "dang ky khai sinh"),
        ("ĐK kết hôn???", "dk ket hon"),
        ("chứng thưc", "chung thuc"),
        ("Ðăng ký", "dang ky"),  # eth, as some keyboards type Đ
        ("  sao   y\tCCCD\n", "sao y cccd"),
        ("khai sinh...mất bao lâu?!", "khai sinh mat bao lau"),
        ("xác nhận tình trạng hôn nhân/độc thân", "xac nhan tinh trang hon nhan doc than"),
        ("😀😀", ""),
        ("👍 ok ad", "ok ad"),
        ("ＫＨＡＩ ＳＩＮＨ", "khai sinh"),  # full-width letters
        ("hoà", "hoa"),
        ("hòa", "hoa"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text", ["Chứng thực bản sao", "Đăng ký thường trú", "xin giấy xác nhận độc thân ạ"]
)
def test_decomposed_unicode_folds_like_composed(text: str) -> None:
    assert normalize(unicodedata.normalize("NFD", text)) == normalize(text)


def test_words_split_on_everything_but_letters_and_digits() -> None:
    assert normalize("t7, cn có làm ko?").split() == ["t7", "cn", "co", "lam", "ko"]


@given(st.text())
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_normal_form_is_plain_words(text: str) -> None:
    folded = normalize(text)
    assert folded == folded.strip()
    assert "  " not in folded
    assert all(c == " " or c.isalnum() for c in folded)
    assert "đ" not in folded


def test_a_tone_twin_written_with_its_marks_is_read_apart() -> None:
    # thuế (tax) folds like thuê (rent); with its marks, in NFC or NFD, it is a word of its own
    assert normalize("Đóng THUẾ đất") == "dong thuevu dat"
    assert normalize(unicodedata.normalize("NFD", "thuế đất")) == "thuevu dat"
    assert normalize("cho thuê đất") == "cho thue dat"
    assert normalize("thue dat") == "thue dat"  # without marks it stays ambiguous
    assert normalize("con đói, đổi tên") == "con doibung doi ten"
