"""The report dialogue as a table of real phrasings: pure, no storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.reports.dialogue import (
    DRAFT_TTL,
    Draft,
    Rating,
    is_lookup,
    on_image,
    on_location,
    on_text,
    parse_code,
    parse_rating,
    report_code,
    split_what_where,
)

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "what", "where"),
    [
        ("phản ánh: đèn đường hỏng ở ngõ 5", "đèn đường hỏng", "ngõ 5"),
        ("Phan anh den duong hong o ngo 5", "den duong hong", "ngo 5"),
        ("kiến nghị - rác tồn đọng tại chợ Mẫu", "rác tồn đọng", "chợ Mẫu"),
        ("PHẢN ÁNH cống bốc mùi ngõ 12 tổ 3", "cống bốc mùi", "ngõ 12 tổ 3"),
    ],
)
def test_a_complete_report_is_filed_at_once(text: str, what: str, where: str) -> None:
    step = on_text(text, None, NOW)
    assert step is not None and step.file and step.reply is None
    assert step.draft is not None
    assert (step.draft.what, step.draft.where) == (what, where)


def test_the_bot_asks_for_what_then_where() -> None:
    step = on_text("Phản ánh", None, NOW)
    assert step is not None and not step.file and step.reply is not None
    assert "mô tả" in step.reply.text
    step = on_text("đèn đường hỏng", step.draft, NOW + timedelta(minutes=1))
    assert step is not None and not step.file and step.reply is not None
    assert "địa điểm" in step.reply.text
    step = on_text("trước nhà số 7 ngõ 5", step.draft, NOW + timedelta(minutes=2))
    assert step is not None and step.file and step.draft is not None
    assert step.draft.what == "đèn đường hỏng" and step.draft.where == "trước nhà số 7 ngõ 5"


def test_a_location_answers_where_and_a_photo_is_kept() -> None:
    step = on_text("phản ánh: cây đổ chắn đường", None, NOW)
    assert step is not None and not step.file
    step = on_image("https://photo.example/1.jpg", step.draft, NOW)
    assert not step.file and step.reply is not None and "ảnh" in step.reply.text
    step = on_location(16.05, 108.2, None, step.draft, NOW)
    assert step.file and step.draft is not None
    assert step.draft.image_url == "https://photo.example/1.jpg"
    assert (step.draft.latitude, step.draft.longitude) == (16.05, 108.2)


def test_ordinary_questions_and_cancel_and_expiry() -> None:
    assert on_text("làm giấy khai sinh cần gì", None, NOW) is None
    step = on_text("phản ánh", None, NOW)
    assert step is not None
    cancelled = on_text("hủy", step.draft, NOW)
    assert cancelled is not None and cancelled.draft is None
    # A draft left for longer than its lifetime is forgotten: the text is a question again.
    assert on_text("làm giấy khai sinh", step.draft, NOW + DRAFT_TTL + timedelta(1)) is None


def test_draft_round_trips_through_json() -> None:
    draft = Draft("a", "b", "u", 1.5, 2.5, NOW)
    assert Draft.from_json(draft.to_json()) == draft
    assert Draft.from_json({}) is None


@pytest.mark.parametrize("text", ["tra cứu PA-0042", "tra cuu pa 42", "PA-0042", "kiểm tra PA0042"])
def test_lookup(text: str) -> None:
    assert is_lookup(text) and parse_code(text) == 42


def test_codes_and_ratings() -> None:
    assert report_code(42) == "PA-0042" and report_code(12345) == "PA-12345"
    assert not is_lookup("phản ánh ở ngõ 5")
    assert parse_rating("Hài lòng PA-0003") == (Rating.satisfied, 3)
    assert parse_rating("chưa hài lòng") == (Rating.unsatisfied, None)
    assert parse_rating("hài lòng với thủ tục khai sinh") is None


def test_split_keeps_street_words_in_what() -> None:
    assert split_what_where("đèn đường hỏng") == ("đèn đường hỏng", None)
