"""What residents read about rating the service: pure texts and parsing.

Like a report's rating (app.reports.dialogue), the question's buttons send the answer back as
the resident's own text, naming the subject ("Đánh giá 5 sao H26.12-251201-0001"), so an
answer is matched to its question even when several are open.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.dialogue.reply import Button, ButtonKind, Reply
from app.matching.normalize import normalize

SCORES = range(1, 6)
SKIP_TITLE = "Không góp ý"
_SKIPS = {"khong gop y", "khong", "ko", "k", "thoi", "khong co", "bo qua"}
COMMENT_MAX_CHARS = 1000


@dataclass(frozen=True)
class ScoreAnswer:
    score: int
    ref: str | None
    """The subject the button named; None when the resident typed only the score."""


def read_score(text: str) -> ScoreAnswer | None:
    """ "Đánh giá 4 sao LH-12" -> (4, "LH-12"); "đánh giá 5" -> (5, None)."""
    tokens = text.split()
    if len(tokens) < 3 or normalize(" ".join(tokens[:2])) != "danh gia":
        return None
    if not tokens[2].isdigit() or int(tokens[2]) not in SCORES:
        return None
    rest = tokens[3:]
    if rest and normalize(rest[0]) == "sao":
        rest = rest[1:]
    ref = " ".join(rest).strip(" -–:") or None
    return ScoreAnswer(int(tokens[2]), ref)


def is_skip(text: str) -> bool:
    return normalize(text) in _SKIPS


def question(lead: str, ref: str) -> Reply:
    """Ask for a score; `lead` says what is rated (one sentence, ending with a full stop)."""
    return Reply(
        f"{lead} Anh/chị vui lòng đánh giá mức độ hài lòng với việc phục vụ của phường, từ 1 "
        "sao (rất không hài lòng) đến 5 sao (rất hài lòng) ạ.",
        tuple(Button(f"{n} sao", ButtonKind.query, f"Đánh giá {n} sao {ref}") for n in SCORES),
    )


def thanks_for_score(score: int) -> Reply:
    return Reply(
        f"Dạ, em cảm ơn anh/chị đã đánh giá {score}/5 ạ. Nếu có góp ý để phường phục vụ tốt "
        f"hơn, anh/chị nhắn ngay trong tin tiếp theo, hoặc bấm “{SKIP_TITLE}”.",
        (Button(SKIP_TITLE, ButtonKind.query, SKIP_TITLE),),
    )


ALREADY_RATED = Reply("Dạ, anh/chị đã đánh giá rồi, em cảm ơn anh/chị ạ.")
COMMENT_TAKEN = Reply("Dạ, em đã ghi nhận góp ý của anh/chị và chuyển tới phường. Em cảm ơn ạ.")
NO_COMMENT = Reply("Dạ, em cảm ơn anh/chị ạ.")
