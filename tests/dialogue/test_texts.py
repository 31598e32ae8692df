"""The only transform applied to catalogue facts: spelling out abbreviations."""

from __future__ import annotations

import pytest

from app.dialogue.texts import paragraphs, plain


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("trực tiếp tại TTPVHCC", "trực tiếp tại Trung tâm Phục vụ hành chính công"),
        (
            "tiếp nhận tại Trung tâm Phục vụ hành chính công (TTPVHCC)",
            "tiếp nhận tại Trung tâm Phục vụ hành chính công",
        ),
        ("trực tuyến (Cổng DVCQG/VNeID)", "trực tuyến (Cổng Dịch vụ công quốc gia/VNeID)"),
        ("DVCQG ghi: 17 ngày", "Cổng Dịch vụ công quốc gia ghi: 17 ngày"),
        ("khai thác CSDL dân cư", "khai thác cơ sở dữ liệu dân cư"),
        ("Giấy XNTTHN đã cấp", "Giấy xác nhận tình trạng hôn nhân đã cấp"),
        ("mức lệ phí: unknown", "mức lệ phí: chưa có thông tin chính thức"),
        # Left alone: well-known abbreviations, legal references, look-alike words.
        ("UBND cấp xã; HĐND tỉnh; CCCD", "UBND cấp xã; HĐND tỉnh; CCCD"),
        ("TT 281/2016/TT-BTC", "TT 281/2016/TT-BTC"),
        ("DVCQGX và GCNX", "DVCQGX và GCNX"),
    ],
)
def test_plain(raw: str, shown: str) -> None:
    assert plain(raw) == shown


def test_plain_is_idempotent() -> None:
    once = plain("Nộp tại TTPVHCC hoặc Cổng DVCQG; tra CSDL")
    assert plain(once) == once


def test_paragraphs_skip_empty_blocks_and_trailing_spaces() -> None:
    text = paragraphs("A  ", None, [], ["B", "C "], "", "\nD\n")
    assert text == "A\n\nB\nC\n\nD"
