"""Intents asked in words of their own: the cue families of intents.yaml (`cues`).

"chiều mấy giờ thì ngưng nhận hồ sơ" names no procedure and resembles no phrase of office hours
closely, yet it holds a time and a word about receiving papers; the rule
"mấy giờ | chiều + nhận hồ sơ | ngưng" says that this is what office hours are asked with. Cue
words are read through the lexicon like everything else, so "sđt" and "số điện thoại" agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.matching.analysis import Words
from app.matching.normalize import normalize


@dataclass(frozen=True, slots=True)
class _Cue:
    owner: int
    rule: int
    group: int
    words: Words


class CueTable:
    """Every intent's cue rules, indexed by their phrases' first words for one pass over a
    message."""

    def __init__(
        self,
        rules: Mapping[int, Sequence[Sequence[Sequence[str]]]],
        read: Callable[[Sequence[str]], Words],
    ) -> None:
        """`rules`: owner -> its rules -> a rule's groups -> a group's words or phrases;
        `read`: how the lexicon reads a phrase (LexiconRules.read)."""
        self._groups: dict[tuple[int, int], int] = {}
        self._by_first: dict[str, list[_Cue]] = {}
        for owner, owner_rules in rules.items():
            for r, groups in enumerate(owner_rules):
                cues = [
                    _Cue(owner, r, g, words)
                    for g, group in enumerate(groups)
                    for words in {read(normalize(phrase).split()) for phrase in group}
                    if words
                ]
                if {cue.group for cue in cues} != set(range(len(groups))):
                    continue  # a group the lexicon reads as nothing could never be found
                self._groups[owner, r] = len(groups)
                for cue in cues:
                    self._by_first.setdefault(cue.words[0], []).append(cue)

    def fired(self, words: Sequence[str]) -> dict[int, set[int]]:
        """The owners one of whose rules finds every group in `words`, each with the positions
        the found phrases cover."""
        found: dict[tuple[int, int], dict[int, set[int]]] = {}
        for i, word in enumerate(words):
            for cue in self._by_first.get(word, ()):
                end = i + len(cue.words)
                if tuple(words[i:end]) == cue.words:
                    by_group = found.setdefault((cue.owner, cue.rule), {})
                    by_group.setdefault(cue.group, set()).update(range(i, end))
        fired: dict[int, set[int]] = {}
        for (owner, rule), by_group in found.items():
            if len(by_group) == self._groups[owner, rule]:
                fired.setdefault(owner, set()).update(*by_group.values())
        return fired


def rest(words: Sequence[str], covered: Iterable[int], ignored: frozenset[str]) -> set[str]:
    """The words of `words` outside `covered` positions, less the `ignored` ones."""
    skip = set(covered)
    return {w for i, w in enumerate(words) if i not in skip and w not in ignored}
