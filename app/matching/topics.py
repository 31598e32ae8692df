"""Other bodies' topics: a message about a court case, a rite, a tax or a lost passport is
less likely the ward's business, however many procedure words it borrows.

The lexicon lists such topics by family (`elsewhere`: court, rites, scams, taxes...). A family
the question names pulls every score down (FOREIGN_TOPIC_PULL), one only the story around the
question names pulls less (STORY_TOPIC_PULL), and each family named pulls again. What a purpose
clause says ("để nộp cho tòa án") never pulls: it is why, not what. So a weak match falls out of
scope while a procedure named outright is still offered.

Two kinds of topic are dropped when the matcher is built, so an admin's catalogue and the
residents' phrasings keep the lists honest:
- a topic a catalogue phrase uses (what the ward's own procedures speak of is no other body's);
- a topic whose folded words the in-scope texts write with other diacritics ("bố láo" folds
  like "cán bộ lao động", "hôi thối" like "hỏi thời hạn"): folded, the two cannot be told apart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from app.matching.analysis import asked_words, without_purposes
from app.matching.normalize import normalize

FOREIGN_TOPIC_PULL = 0.7
"""What a message whose question names another body's topic keeps of its scores (round 8: 0.8
left weak matches standing, 0.6 lost in-scope lines)."""
STORY_TOPIC_PULL = 0.85
"""What it keeps when only the story around the question names one ("vợ bệnh nằm viện, có được
xin vô hộ nghèo không" asks about the poor household)."""


def accented_words(text: str) -> list[str]:
    """Lower-case words with their diacritics, split where `normalize` splits them."""
    nfc = unicodedata.normalize("NFC", text).casefold()
    return "".join(c if c.isalnum() else " " for c in nfc).split()


class ForeignTopics:
    """Built once from the lexicon's families and the in-scope texts; `pull` is pure."""

    def __init__(
        self,
        families: Mapping[str, Sequence[str]],
        catalogue: Iterable[str],
        in_scope: Iterable[str],
    ) -> None:
        """`catalogue`: the catalogue's phrases; `in_scope`: those and the residents' in-scope
        phrasings (for the diacritics check)."""
        claimed = f" {' | '.join(normalize(t) for t in catalogue)} "
        topics = {t for family in families.values() for t in family}
        others = _other_spellings(topics, in_scope)
        self._by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        """A topic's first folded word -> (its folded words, its family's number)."""
        for number, family in enumerate(families.values()):
            for topic in family:
                words = tuple(normalize(topic).split())
                if words and f" {' '.join(words)} " not in claimed and topic not in others:
                    self._by_first.setdefault(words[0], []).append((words, number))

    def pull(self, words: Sequence[str]) -> float:
        """What a message (`words` as clause_words gives them) keeps of its scores."""
        named = self._families_in(without_purposes(words))
        if not named:
            return 1.0
        asked = self._families_in(asked_words(words))
        return FOREIGN_TOPIC_PULL ** len(named & asked) * STORY_TOPIC_PULL ** len(named - asked)

    def _families_in(self, words: Sequence[str]) -> set[int]:
        found: set[int] = set()
        for i, word in enumerate(words):
            for topic, family in self._by_first.get(word, ()):
                if tuple(words[i : i + len(topic)]) == topic:
                    found.add(family)
        return found


def _other_spellings(topics: Iterable[str], texts: Iterable[str]) -> set[str]:
    """The topics whose folded words some text writes with other diacritics. A text written
    without any diacritics says nothing either way."""
    by_folded: dict[tuple[str, ...], set[str]] = {}
    for topic in topics:
        accented = " ".join(accented_words(topic))
        by_folded.setdefault(tuple(normalize(accented).split()), set()).add(accented)
    lengths: dict[str, set[int]] = {}
    for key in by_folded:
        lengths.setdefault(key[0], set()).add(len(key))
    clashing: set[str] = set()
    fold: dict[str, str] = {}
    for text in texts:
        words = accented_words(text)
        if all(w.isascii() for w in words):
            continue
        folded = [fold.get(w) or fold.setdefault(w, normalize(w)) for w in words]
        for i, first in enumerate(folded):
            for n in lengths.get(first, ()):
                spellings = by_folded.get(tuple(folded[i : i + n]))
                if spellings is None:
                    continue
                written = " ".join(words[i : i + n])
                if not written.isascii():
                    clashing.update(s for s in spellings if s != written)
    return {t for t in topics if " ".join(accented_words(t)) in clashing}
