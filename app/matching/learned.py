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

Whether a message is the ward's business at all is a question of its own (`Opinion`): a
two-class model, every in-scope document pooled against the out-of-scope ones, gives P(none);
the owners' model, taught the in-scope documents alone, shares the rest among the owners. As one
class among ninety, the out-of-scope messages (a few hundred, on every topic) had outweighed the
owners on any word they share with them ("ở đâu", "hồ sơ", "bao nhiêu tiền"): every such line
taught made in-scope questions look out of scope. Pooled, both sides know those words alike and
only the topic tells them apart.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence

from app.matching.analysis import BREAKS

NONE = -1
"""The owner index of the out-of-scope class."""
IN_SCOPE = 0
"""The scope model's other class: every in-scope document."""
SMOOTHING = 1.0
"""Laplace smoothing: a word an owner's phrases never use still costs it, not everything."""
SCOPE_SMOOTHING = 0.1
"""The scope model's: both of its classes are large, so a word's rate in each, more than its
mere presence, tells them apart (round 3: 1.0 left 6 of blind-3's 53 out-of-scope messages
unrejected that 0.1 rejects, with blind-1, blind-2 and the 5-fold no worse)."""
MAX_OWNERS_PER_FEATURE = 100
"""Beyond this many owners a feature is too common to tell them apart; the owners it is most
typical of keep it (the real catalogue's 89 owners never reach the cap; in the 2,000-procedure
bench a message's features then speak for about a thousand owners, not two)."""
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
        smoothing: float = SMOOTHING,
        priors: bool = False,
    ) -> None:
        """`documents`: (owner index, or NONE, and the words as LexiconRules.read gives them).
        Owners without any document are still scored (from smoothing alone: they never win);
        NONE is a class only when a document has it. With `priors`, a class is as likely
        beforehand as its share of the documents; otherwise every class is."""
        self._stopwords = stopwords
        counts: dict[str, dict[int, int]] = {}
        totals: Counter[int] = Counter()
        sizes: Counter[int] = Counter()
        for owner, words in documents:
            found = features(words, stopwords)
            sizes[owner] += 1
            totals[owner] += len(found)
            for feature in found:
                by_owner = counts.setdefault(feature, {})
                by_owner[owner] = by_owner.get(owner, 0) + 1
        vocabulary = len(counts)
        classes = (*range(owners), NONE) if NONE in totals else range(owners)
        norm = {c: math.log(totals[c] + smoothing * vocabulary) for c in classes}
        lowest = min(norm.values())
        # How much less likely than the best-documented class each class makes every feature.
        self._spread = {c: n - lowest for c, n in norm.items()}
        # How much less likely beforehand than the best-documented class (priors), in nats.
        most = max(sizes.values(), default=1)
        self._prior = {
            c: math.log(most / sizes[c]) if priors and sizes[c] else 0.0 for c in self._spread
        }
        self._mass: dict[int, float] = {}
        # log P(f|c) = log(n + a) - norm(c) = log(a) + gain - norm(c); log(a) is the same for
        # every class, so only the gain of the owners that use a feature is kept.
        self._gains = {
            feature: tuple(
                (owner, math.log((n + smoothing) / smoothing))
                for owner, n in _most_used(by_owner, MAX_OWNERS_PER_FEATURE)
            )
            for feature, by_owner in counts.items()
        }

    def posterior(self, words: Sequence[str]) -> Posterior:
        """P(owner | words) for every owner and NONE; uniform when no word is known."""
        known = [f for f in features(words, self._stopwords) if f in self._gains]
        evidence: dict[int, float] = {}
        for feature in known:
            for owner, gain in self._gains[feature]:
                evidence[owner] = evidence.get(owner, 0.0) + gain
        return Posterior(self, evidence, len(known))

    def _unseen(self, owner: int, size: int) -> float:
        """log P(words | owner) less that of the best-documented class, for an owner that
        uses none of the `size` features."""
        return -size * self._spread[owner] - self._prior[owner]

    def _total_unseen(self, size: int) -> float:
        """The sum of exp(_unseen) over every class: what the partition would be if no class
        used any feature. Depends on `size` alone, so it is worked out once per size."""
        mass = self._mass.get(size)
        if mass is None:
            mass = math.fsum(math.exp(self._unseen(c, size)) for c in self._spread)
            self._mass[size] = mass  # the same value whichever thread writes it
        return mass


class Posterior:
    """P(owner | words): worked out for the owners the words speak for (a feature they use),
    and only when asked for any other, so a catalogue of thousands costs what a few owners do."""

    def __init__(self, scorer: LearnedScorer, evidence: dict[int, float], size: int) -> None:
        self._scorer = scorer
        self._size = size
        # Log-likelihoods relative to the best-documented class using none of the features.
        self._scores = {o: e + scorer._unseen(o, size) for o, e in evidence.items()}
        self._top = max(0.0, *self._scores.values()) if self._scores else 0.0
        unseen = scorer._total_unseen(size) - math.fsum(
            math.exp(scorer._unseen(o, size)) for o in self._scores
        )
        self._total = math.fsum(math.exp(s - self._top) for s in self._scores.values()) + max(
            0.0, unseen
        ) * math.exp(-self._top)

    def __getitem__(self, owner: int) -> float:
        score = self._scores.get(owner)
        if score is None:
            if owner not in self._scorer._spread:
                return 0.0  # NONE in a model taught no out-of-scope document
            score = self._scorer._unseen(owner, self._size)
        return math.exp(score - self._top) / self._total

    def likely(self, floor: float) -> list[tuple[int, float]]:
        """The owners (NONE included) with at least probability `floor`, most likely first."""
        if math.exp(-self._top) / self._total >= floor:
            # So little is known that an owner no feature speaks for may reach the floor.
            found = [(o, self[o]) for o in self._scorer._spread]
        else:
            least = self._top + math.log(floor * self._total) if floor > 0 else -math.inf
            found = [(o, self[o]) for o, score in self._scores.items() if score >= least]
        return sorted(
            ((o, p) for o, p in found if p >= floor), key=lambda item: (-item[1], item[0])
        )

    def preferred(self) -> tuple[int, float]:
        """The most likely owner (NONE included) and its probability."""
        scores = self._scores
        best = max(scores, key=scores.__getitem__, default=None)
        if best is None or scores[best] < 0.0:
            # An owner no feature speaks for may be likelier: look at them all (rare).
            best = max(self._scorer._spread, key=self.__getitem__)
        return best, self[best]


class Opinion:
    """The learned opinion on a message: P(none) from the scope model, and each owner's share
    of the rest from the owners' model, P(owner) = (1 - P(none)) * P(owner | in scope)."""

    def __init__(self, owners: Posterior, scope: Posterior) -> None:
        self._owners = owners
        self._none = scope[NONE]
        self._rest = 1.0 - self._none

    def __getitem__(self, owner: int) -> float:
        return self._none if owner == NONE else self._rest * self._owners[owner]

    def likely(self, floor: float) -> list[tuple[int, float]]:
        """The owners (NONE included) with at least probability `floor`, most likely first."""
        found = (
            [(o, self._rest * p) for o, p in self._owners.likely(floor / self._rest)]
            if self._rest > 0
            else []
        )
        if self._none >= floor:
            found.append((NONE, self._none))
        return sorted(found, key=lambda item: (-item[1], item[0]))

    def preferred(self) -> tuple[int, float]:
        """The most likely owner (NONE included) and its probability."""
        owner, p = self._owners.preferred()
        p *= self._rest
        return (NONE, self._none) if self._none >= p else (owner, p)


def _most_used(by_owner: dict[int, int], limit: int) -> Iterable[tuple[int, int]]:
    if len(by_owner) <= limit:
        return by_owner.items()
    return sorted(by_owner.items(), key=lambda item: (-item[1], item[0]))[:limit]
