"""A second opinion learned at load time: which owner (procedure, intent, or none) a message's
words are typical of, from every phrase the content holds and the residents' phrasings.

The phrase scorer (matcher.py) asks "which one phrase does this message resemble"; residents
often describe their situation in words no single phrase holds ("nhà ở cù lao, chồng mất, tôi
già đi không nổi"), each word typical of one procedure's phrasings. This is a multinomial naive
Bayes model over words (stopwords left out) and word pairs within a clause (stopwords kept:
"hỏi những gì", "mấy giờ" ask something), read through the same lexicon as the phrase scorer.
Out-of-scope messages are a class of their own, so "bảo hiểm thất nghiệp", "visa" or "giá vàng"
count against every procedure.

Scoring costs one pass over the message's features' postings plus one pass over the owners, so
it stays cheap in a catalogue of thousands; a feature shared by more owners than
MAX_OWNERS_PER_FEATURE tells them apart little and keeps only those it is most typical of.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from app.matching.analysis import BREAKS

NONE = -1
"""The owner index of the out-of-scope class."""
SMOOTHING = 1.0
"""Laplace smoothing: a word an owner's phrases never use still costs it, not everything."""
MAX_OWNERS_PER_FEATURE = 200
"""Beyond this many owners a feature is too common to tell them apart; the owners it is most
typical of keep it (the real catalogue's 89 owners never reach the cap)."""
PAIR = "\x1f"
"""Joins a word pair into one feature; normalised text never holds it."""


def features(words: Sequence[str], stopwords: frozenset[str]) -> set[str]:
    """Words that mean something, and every pair of neighbouring words within a clause."""
    found = {w for w in words if w not in BREAKS and w not in stopwords}
    found.update(
        f"{a}{PAIR}{b}" for a, b in itertools.pairwise(words) if a not in BREAKS and b not in BREAKS
    )
    return found


class LearnedScorer:
    """Trained once from labelled word sequences; `posterior` is pure and thread-safe."""

    def __init__(
        self,
        documents: Iterable[tuple[int, Sequence[str]]],
        owners: int,
        stopwords: frozenset[str],
    ) -> None:
        """`documents`: (owner index, or NONE, and the words as LexiconRules.read gives them).
        Owners without any document are still scored (from smoothing alone: they never win)."""
        self._stopwords = stopwords
        counts: dict[str, dict[int, int]] = {}
        totals: Counter[int] = Counter()
        for owner, words in documents:
            found = features(words, stopwords)
            totals[owner] += len(found)
            for feature in found:
                by_owner = counts.setdefault(feature, {})
                by_owner[owner] = by_owner.get(owner, 0) + 1
        vocabulary = len(counts)
        self._classes = (*range(owners), NONE)
        self._norm = {c: math.log(totals[c] + SMOOTHING * vocabulary) for c in self._classes}
        # log P(f|c) = log(n + a) - norm(c) = log(a) + gain - norm(c); log(a) is the same for
        # every class, so only the gain of the owners that use a feature is kept.
        self._gains = {
            feature: tuple(
                (owner, math.log((n + SMOOTHING) / SMOOTHING))
                for owner, n in _most_used(by_owner, MAX_OWNERS_PER_FEATURE)
            )
            for feature, by_owner in counts.items()
        }

    def posterior(self, words: Sequence[str]) -> Mapping[int, float]:
        """P(owner | words) for every owner and NONE; uniform when no word is known."""
        known = [f for f in features(words, self._stopwords) if f in self._gains]
        evidence: dict[int, float] = {}
        for feature in known:
            for owner, gain in self._gains[feature]:
                evidence[owner] = evidence.get(owner, 0.0) + gain
        size = len(known)
        scores = {c: evidence.get(c, 0.0) - size * self._norm[c] for c in self._classes}
        best = max(scores.values())
        exp = {c: math.exp(s - best) for c, s in scores.items()}
        total = sum(exp.values())
        return {c: e / total for c, e in exp.items()}


def _most_used(by_owner: dict[int, int], limit: int) -> Iterable[tuple[int, int]]:
    if len(by_owner) <= limit:
        return by_owner.items()
    return sorted(by_owner.items(), key=lambda item: (-item[1], item[0]))[:limit]
