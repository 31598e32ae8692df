"""What a catalogue change would do before it is saved: which grouped unanswered questions it would
now answer, and which answers it would take away (a catalogue example, an answered group).

Pure: two matchers (today's and one built from the changed catalogue) and the questions in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.catalogue.models import Catalogue
from app.matching.evaluate import LabelledQuestion, Outcome, SupportsMatch
from app.matching.grouping import QuestionGroup
from app.matching.normalize import normalize
from app.matching.result import MatchResult

PhraseField = Literal["aliases", "examples"]


def with_phrase(catalogue: Catalogue, code: str, phrase: str, field: PhraseField) -> Catalogue:
    """`catalogue` with `phrase` added to the aliases or examples of procedure `code`.

    Raises KeyError for an unknown code.
    """
    procedure = catalogue.procedure(code)
    if procedure is None:
        raise KeyError(code)
    if normalize(phrase) in {normalize(p) for p in getattr(procedure, field)}:
        return catalogue  # already there: adding it again changes nothing an admin would save
    changed = procedure.model_copy(update={field: (*getattr(procedure, field), phrase)})
    procedures = tuple(changed if p.code == code else p for p in catalogue.procedures)
    return catalogue.model_copy(update={"procedures": procedures})


def steered_to(result: MatchResult) -> str | None:
    """Where the resident is sent: the answer, the first option of a clarification, or None."""
    return Outcome(LabelledQuestion(result.text, frozenset()), result).answered


_RANK = {"none": 0, "clarify": 1, "procedure": 2, "intent": 2}
"""How well a question is served: not at all, by asking, by answering."""


@dataclass(frozen=True)
class GroupChange:
    group: QuestionGroup
    before: str | None
    """Where the group's questions were steered (the most common target), None: fallback."""
    after: str | None
    answered: int
    """How many of the group's questions the change would serve better: answer one it asks
    about, or ask about one it falls back on."""


@dataclass(frozen=True)
class LostExample:
    question: LabelledQuestion
    after: str | None


@dataclass(frozen=True)
class ChangePreview:
    now_answered: tuple[GroupChange, ...]
    """Groups that were not answered and would be."""
    redirected: tuple[GroupChange, ...]
    """Groups that were steered somewhere and would be steered elsewhere."""
    lost_examples: tuple[LostExample, ...]
    """Catalogue examples that reach their procedure today and would not."""

    @property
    def questions_answered(self) -> int:
        return sum(c.answered for c in self.now_answered)


def _most_common(labels: Sequence[str | None]) -> str | None:
    found = [label for label in labels if label is not None]
    if not found:
        return None
    return max(sorted(set(found)), key=found.count)


def preview_change(
    before: SupportsMatch,
    after: SupportsMatch,
    groups: Sequence[QuestionGroup],
    examples: Sequence[LabelledQuestion] = (),
) -> ChangePreview:
    """Match every question of every group, and every example, with both matchers."""
    now_answered: list[GroupChange] = []
    redirected: list[GroupChange] = []
    for group in groups:
        old_results = [before.match(text) for text in group.texts]
        new_results = [after.match(text) for text in group.texts]
        better = sum(
            1
            for old, new in zip(old_results, new_results, strict=True)
            if _RANK[new.kind] > _RANK[old.kind]
        )
        change = GroupChange(
            group,
            _most_common([steered_to(r) for r in old_results]),
            _most_common([steered_to(r) for r in new_results]),
            better,
        )
        if change.answered:
            now_answered.append(change)
        elif change.before is not None and change.after != change.before:
            redirected.append(change)
    lost = []
    for question in examples:
        old = steered_to(before.match(question.text))
        new = steered_to(after.match(question.text))
        if old in question.expected and new not in question.expected:
            lost.append(LostExample(question, new))
    now_answered.sort(key=lambda c: -c.answered)
    return ChangePreview(tuple(now_answered), tuple(redirected), tuple(lost))
