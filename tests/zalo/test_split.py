"""split_text: Zalo's 2000-character limit, cut at the most natural boundary."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.zalo.split import TEXT_LIMIT, split_text


def test_short_text_is_one_part() -> None:
    assert split_text("Xin chào") == ["Xin chào"]


def test_whitespace_only_gives_no_parts() -> None:
    assert split_text("") == []
    assert split_text(" \n\t ") == []


def test_default_limit_is_zalos() -> None:
    assert TEXT_LIMIT == 2000
    assert split_text("a" * 2000) == ["a" * 2000]
    assert [len(p) for p in split_text("a" * 2001)] == [2000, 1]


def test_counts_after_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Phường Hải Châu ")
    assert len(nfd) > len("Phường Hải Châu ")
    text = nfd * 120  # over 2000 code points in NFD, under 2000 in NFC
    assert len(text) > 2000
    (part,) = split_text(text)
    assert part == unicodedata.normalize("NFC", text).strip()


def test_prefers_paragraphs() -> None:
    text = "Câu một. Câu hai.\n\nĐoạn hai dài hơn một chút."
    assert split_text(text, limit=30) == ["Câu một. Câu hai.", "Đoạn hai dài hơn một chút."]


def test_packs_several_paragraphs_into_one_part() -> None:
    text = "A a.\n\nB b.\n\nC c.\n\nD d."
    assert split_text(text, limit=12) == ["A a.\n\nB b.", "C c.\n\nD d."]


def test_then_lines() -> None:
    text = "Dòng một\nDòng hai\nDòng ba"
    assert split_text(text, limit=18) == ["Dòng một\nDòng hai", "Dòng ba"]


def test_then_sentences() -> None:
    text = "Mang CCCD. Mang sổ hộ khẩu cũ nếu có"
    assert split_text(text, limit=30) == ["Mang CCCD.", "Mang sổ hộ khẩu cũ nếu có"]


def test_then_words() -> None:
    assert split_text("một hai ba bốn năm", limit=8) == ["một hai", "ba bốn", "năm"]


def test_hard_splits_only_an_overlong_word() -> None:
    assert split_text("ab https://example.gov.vn/abcdef xy", limit=10) == [
        "ab",
        "https://ex",
        "ample.gov.",
        "vn/abcdef",
        "xy",
    ]


def test_hard_split_keeps_combining_marks_with_their_letter() -> None:
    # "q̣" has no precomposed form: NFC keeps q + U+0323.
    word = "aaaq\u0323bbb"
    assert split_text(word, limit=4) == ["aaa", "q\u0323bb", "b"]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_text("x", limit=0)


_text = st.text(
    alphabet=st.one_of(
        st.sampled_from([*"ab ơ.!?\n\t…", "\u0323", "\u0300", "\r", "\u00a0"]),
        st.characters(),
    ),
    max_size=400,
)


@settings(database=None, max_examples=300)
@given(text=_text, limit=st.integers(min_value=1, max_value=60))
def test_split_properties(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    nfc = unicodedata.normalize("NFC", text)

    assert all(0 < len(part) <= limit for part in parts)
    assert [c for c in "".join(parts) if not c.isspace()] == [c for c in nfc if not c.isspace()]
    # Each part is a slice of the NFC text; only whitespace lies between consecutive parts.
    position = 0
    for part in parts:
        found = nfc.find(part, position)
        assert found >= 0
        assert nfc[position:found].strip() == ""
        position = found + len(part)
    assert nfc[position:].strip() == ""
