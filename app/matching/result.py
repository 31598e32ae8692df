"""The outcome of matching one message: the contract between matching and dialogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CandidateKind = Literal["procedure", "intent"]
MatchKind = Literal["procedure", "intent", "clarify", "none"]


@dataclass(frozen=True)
class Candidate:
    kind: CandidateKind
    id: str
    """A procedure code or an intent id."""
    score: float
    """0-100, higher is better."""


@dataclass(frozen=True)
class MatchResult:
    """`procedure`/`intent`: confident in `id`. `clarify`: ask among `alternatives` (best first).
    `none`: nothing close enough; the dialogue falls back politely."""

    text: str
    kind: MatchKind
    id: str | None
    score: float
    alternatives: tuple[Candidate, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        """The `wardbot match --jsonl` line."""
        return {
            "text": self.text,
            "kind": self.kind,
            "id": self.id,
            "score": round(self.score, 2),
            "alternatives": [
                {"kind": c.kind, "id": c.id, "score": round(c.score, 2)} for c in self.alternatives
            ],
        }
