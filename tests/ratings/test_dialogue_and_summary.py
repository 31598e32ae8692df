"""Reading a score, and the console's tables of ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.dialogue.reply import MAX_BUTTONS
from app.dialogue.texts import BUTTON_TITLE_LIMIT
from app.ratings.dialogue import ScoreAnswer, question, read_score
from app.ratings.summary import UNKNOWN_COUNTER, summarise, to_csv

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đánh giá 5 sao H26.12-251201-0001", ScoreAnswer(5, "H26.12-251201-0001")),
        ("danh gia 1 sao LH-12", ScoreAnswer(1, "LH-12")),
        ("đánh giá 3", ScoreAnswer(3, None)),
        ("đánh giá 6 sao", None),
        ("đánh giá dịch vụ", None),
        ("5 sao", None),
    ],
)
def test_read_score(text: str, expected: ScoreAnswer | None) -> None:
    assert read_score(text) == expected


def test_the_question_has_five_short_buttons() -> None:
    reply = question("Dạ, hồ sơ X đã được trả kết quả.", "X")
    assert len(reply.buttons) == MAX_BUTTONS
    assert all(len(b.title) <= BUTTON_TITLE_LIMIT for b in reply.buttons)
    assert all(read_score(b.payload) is not None for b in reply.buttons)


@dataclass
class Row:
    score: int | None
    rated_at: datetime | None
    procedure_code: str | None = None
    procedure_name: str | None = None
    counter: str | None = None
    subject_kind: str = "visit"
    subject_ref: str = "LH-1"
    comment: str | None = None
    oa_id: str = "oa-1"


def test_groups_per_procedure_counter_and_local_month() -> None:
    rows = [
        Row(5, datetime(2026, 11, 30, 18, 0, tzinfo=UTC), "1.001193", "Khai sinh", "Quầy 1"),
        Row(3, datetime(2026, 11, 30, 16, 0), "1.001193", "Khai sinh", "Quầy 2"),  # naive: UTC
        Row(4, datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
        Row(None, None),
    ]
    summary = summarise(rows, HANOI)
    assert summary.total is not None and (summary.total.count, summary.total.average) == (3, 4.0)
    khai_sinh = summary.by_procedure[0]
    assert (khai_sinh.label, khai_sinh.count, khai_sinh.average) == ("Khai sinh (1.001193)", 2, 4.0)
    assert khai_sinh.per_score == (0, 0, 1, 0, 1)
    assert [g.label for g in summary.by_counter] == ["(không theo quầy)", "Quầy 1", "Quầy 2"]
    assert summary.by_counter[0].label == UNKNOWN_COUNTER
    # 18:00 UTC on 30/11 is already 1 December in Hà Nội.
    assert [(g.label, g.count) for g in summary.by_month] == [("12/2026", 2), ("11/2026", 1)]
    assert "2026-12-01 01:00" in to_csv(rows[:1], HANOI)
