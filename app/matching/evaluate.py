"""Score a matcher against labelled questions (a TSV file, or every procedure's `examples`).

A question is answered right when the result's id is expected, either as a confident answer or
as the first alternative of a clarification. A confident answer with a wrong id is the costly
mistake and is counted on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.catalogue.models import Catalogue
from app.matching.result import MatchResult

NONE_LABEL = "none"
INTENT_PREFIX = "intent:"


class SupportsMatch(Protocol):
    def match(self, text: str) -> MatchResult: ...


@dataclass(frozen=True)
class LabelledQuestion:
    text: str
    expected: frozenset[str]
    """Procedure codes, `intent:<id>` labels, or just `none` for an out-of-scope line."""
    source: str = ""
    """Where the question came from (`file.tsv:12`, `1.001193 examples[0]`)."""

    @property
    def in_scope(self) -> bool:
        return NONE_LABEL not in self.expected


@dataclass(frozen=True)
class Outcome:
    question: LabelledQuestion
    result: MatchResult

    @property
    def answered(self) -> str | None:
        """The label the resident would be steered to: the answer, or the first suggestion."""
        if self.result.kind in ("procedure", "intent"):
            return _label(self.result.kind, self.result.id)
        if self.result.kind == "clarify" and self.result.alternatives:
            first = self.result.alternatives[0]
            return _label(first.kind, first.id)
        return None

    @property
    def correct(self) -> bool:
        if not self.question.in_scope:
            return self.result.kind == "none"
        return self.answered in self.question.expected

    @property
    def wrong_and_confident(self) -> bool:
        confident = self.result.kind in ("procedure", "intent")
        return confident and self.answered not in self.question.expected


@dataclass(frozen=True)
class EvalReport:
    outcomes: tuple[Outcome, ...]

    @property
    def in_scope(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.question.in_scope)

    @property
    def out_of_scope(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.question.in_scope)

    @property
    def accuracy(self) -> float:
        """Share of in-scope questions steered to an expected id."""
        return _share((o.correct for o in self.in_scope), if_none=1.0)

    @property
    def wrong_confident_rate(self) -> float:
        """Share of all questions answered confidently with a wrong id (out-of-scope included)."""
        return _share((o.wrong_and_confident for o in self.outcomes), if_none=0.0)

    @property
    def rejection_rate(self) -> float:
        """Share of out-of-scope questions answered `none`."""
        return _share((o.correct for o in self.out_of_scope), if_none=1.0)

    @property
    def clarify_rate(self) -> float:
        """Share of in-scope questions that needed a clarification (right or not)."""
        return _share((o.result.kind == "clarify" for o in self.in_scope), if_none=0.0)

    @property
    def confusions(self) -> tuple[Outcome, ...]:
        """In-scope questions steered to a wrong id."""
        return tuple(o for o in self.in_scope if not o.correct and o.result.kind != "none")

    @property
    def wrongly_rejected(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.in_scope if o.result.kind == "none")

    @property
    def wrongly_accepted(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.out_of_scope if not o.correct)

    def summary(self) -> str:
        return (
            f"{len(self.outcomes)} questions ({len(self.in_scope)} in scope): "
            f"accuracy {self.accuracy:.1%}, wrong and confident {self.wrong_confident_rate:.1%}, "
            f"out-of-scope rejected {self.rejection_rate:.1%}, clarified {self.clarify_rate:.1%}"
        )


def _share(flags: Iterable[bool], *, if_none: float) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else if_none


def _label(kind: str, identifier: str | None) -> str | None:
    if identifier is None:
        return None
    return f"{INTENT_PREFIX}{identifier}" if kind == "intent" else identifier


def evaluate(matcher: SupportsMatch, questions: Sequence[LabelledQuestion]) -> EvalReport:
    return EvalReport(tuple(Outcome(q, matcher.match(q.text)) for q in questions))


def read_labelled_tsv(path: Path) -> list[LabelledQuestion]:
    """`expected<TAB>text` lines; `#` starts a comment line. Raises ValueError naming the line."""
    questions: list[LabelledQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        expected, tab, text = line.partition("\t")
        labels = frozenset(label.strip() for label in expected.split("|") if label.strip())
        if not tab or not text.strip() or not labels:
            raise ValueError(f"{path}:{number}: expected 'label<TAB>question'")
        if NONE_LABEL in labels and len(labels) > 1:
            raise ValueError(f"{path}:{number}: 'none' cannot be combined with other labels")
        questions.append(LabelledQuestion(text.strip(), labels, f"{path.name}:{number}"))
    return questions


def example_questions(catalogue: Catalogue) -> list[LabelledQuestion]:
    """Every procedure's `examples`, each expected to reach its own procedure."""
    return [
        LabelledQuestion(text, frozenset({p.code}), f"{p.code} examples[{i}]")
        for p in catalogue.procedures
        for i, text in enumerate(p.examples)
    ]
