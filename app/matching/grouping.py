"""Group similar unanswered questions: which phrasings recur, and what they are near."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from app.matching.normalize import normalize

SIMILARITY = 80.0
"""token_set_ratio at or above which two questions count as the same question."""


@dataclass(frozen=True)
class AskedQuestion:
    text: str
    nearest: tuple[tuple[str, float], ...] = ()
    """(procedure code or intent id, score) the matcher saw, best first."""


@dataclass
class QuestionGroup:
    representative: str
    texts: list[str] = field(default_factory=list)
    nearest: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def count(self) -> int:
        return len(self.texts)

    def top_nearest(self, limit: int = 3) -> list[str]:
        ranked = sorted(self.nearest.items(), key=lambda item: (-item[1], item[0]))
        return [identifier for identifier, _ in ranked[:limit]]


def group_questions(questions: Sequence[AskedQuestion]) -> list[QuestionGroup]:
    """Greedy single pass: each question joins the first group whose representative is similar.

    Deterministic for a given order; largest groups first.
    """
    groups: list[tuple[str, QuestionGroup]] = []
    for question in questions:
        key = normalize(question.text)
        if not key:
            continue
        target = next(
            (g for rep, g in groups if fuzz.token_set_ratio(key, rep) >= SIMILARITY), None
        )
        if target is None:
            target = QuestionGroup(question.text)
            groups.append((key, target))
        target.texts.append(question.text)
        for identifier, score in question.nearest[:3]:
            target.nearest[identifier] += score
    ordered = [g for _, g in groups]
    ordered.sort(key=lambda g: -g.count)
    return ordered
