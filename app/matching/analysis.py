"""From raw text to weighted words: lexicon expansion, typo repair, detail cues and stopwords.

The same `LexiconRules.terms` runs on the catalogue and on questions, so both sides use one
vocabulary; only questions go through `Corrector` (typos, telex leftovers, run-together words).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from app.catalogue.intents import Lexicon
from app.matching.aspects import Aspect, cue_spans
from app.matching.normalize import normalize

Words = tuple[str, ...]


def _words(text: str) -> Words:
    return tuple(normalize(text).split())


CLAUSE_BREAK = "|"
"""Stands between two clauses of a question. Normalised text never holds it (not alphanumeric),
so no lexicon phrase spans a break and typo repair leaves it alone."""
QUESTION_BREAK = "?"
"""A clause break after a question mark."""
BREAKS = frozenset({CLAUSE_BREAK, QUESTION_BREAK})
_CLAUSE_END = re.compile(r"([,;:!?\n]+|(?<!\d)\.+|\.+(?!\d))")
QUESTION_WORDS = frozenset(
    # Words that make a clause a question once abbreviations are read ("ko" -> "khong"),
    # in the North, the South ("hông", "hen") and the Centre ("răng", "mô", "rứa").
    [
        "khong",
        "hong",
        "hok",
        "hem",
        "chua",
        "sao",
        "gi",
        "dau",
        "nao",
        "bao",
        "may",
        "nhieu",
        "ha",
        "hen",
        "rang",
        "mo",
        "rua",
        "chang",
    ]
)


SET_ASIDE_ENDINGS = (("de", "sau"), ("tinh", "sau"), ("hoi", "sau"))
"""A clause ending "thì để sau", "tính sau", "hỏi sau" puts its topic aside: "chuyện sang tên
sổ đỏ thì để sau, trước mắt cho tôi hỏi làm giấy chứng tử" asks about the death only."""


def clause_words(text: str) -> list[str]:
    """Normalised words, each clause of `text` followed by a break token (the last one only
    when it ended with a question mark). A clause set aside (SET_ASIDE_ENDINGS) is left out."""
    words: list[str] = []
    parts = _CLAUSE_END.split(text)
    for clause, end in itertools.zip_longest(parts[0::2], parts[1::2], fillvalue=""):
        folded = normalize(clause).split()
        if tuple(folded[-2:]) in SET_ASIDE_ENDINGS and len(folded) > 2:
            continue
        if folded:
            words.extend(folded)
            words.append(QUESTION_BREAK if "?" in end else CLAUSE_BREAK)
        elif "?" in end and words:
            words[-1] = QUESTION_BREAK
    if words and words[-1] == CLAUSE_BREAK:
        words.pop()
    return words


OLD_AGE = 60
"""From this age a person is old for the purposes of social support (Luật Người cao tuổi)."""
_AGE_BEFORE = frozenset({"ngoai", "tren", "hon", "gan", "da"})
_AGE_AFTER = frozenset({"tuoi", "t"})


def mark_old_age(words: Sequence[str]) -> list[str]:
    """`ngoài 80`, `77 tuổi` -> `cao tuoi`: an old person's age says what a story is about
    (pension-like allowances) better than any word in it."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        after = words[i + 1] if i + 1 < len(words) else ""
        aged = word.isdigit() and OLD_AGE <= int(word) < 130
        if aged and (after in _AGE_AFTER or (out and out[-1] in _AGE_BEFORE)):
            if out and out[-1] in _AGE_BEFORE:
                out.pop()
            out.extend(("cao", "tuoi"))
            i += 2 if after in _AGE_AFTER else 1
            continue
        out.append(word)
        i += 1
    return out


def _question_clauses(words: Sequence[str]) -> tuple[list[int], set[int]]:
    """Each word's clause number, and the clauses that ask: those ending with a question mark
    and the last one holding a question word or a detail cue (else simply the last one)."""
    clause_of: list[int] = []
    asked: set[int] = set()
    clause = 0
    for word in words:
        clause_of.append(clause)
        if word in BREAKS:
            if word == QUESTION_BREAK:
                asked.add(clause)
            clause += 1
    last_question = None
    for start, _end, aspect in cue_spans(words):
        if aspect is not None:
            last_question = clause_of[start]
    for i, word in enumerate(words):
        if word in QUESTION_WORDS and (last_question is None or clause_of[i] > last_question):
            last_question = clause_of[i]
    asked.add(last_question if last_question is not None else clause_of[-1] if words else 0)
    return clause_of, asked


PURPOSE_WORD = "de"


def without_purposes(words: Sequence[str]) -> list[str]:
    """`words` (as clause_words gives them) less each purpose, from "để" to the clause's end:
    "giám hộ cho em để lo giấy tờ đi học" asks about guardianship, not school."""
    kept: list[str] = []
    aside = False
    for word in words:
        if word in BREAKS:
            aside = False
        elif word == PURPOSE_WORD:
            aside = True
        if not aside:
            kept.append(word)
    return kept


def asked_words(words: Sequence[str]) -> list[str]:
    """The words of the clauses that ask (`words` as clause_words gives them), less each
    purpose: in "vợ bệnh nằm viện, có được xin vô hộ nghèo không" the story is the hospital,
    the question the poor household."""
    clause_of, asked = _question_clauses(words)
    in_question = [w for w, clause in zip(words, clause_of, strict=True) if clause in asked]
    return without_purposes(in_question)


MAX_READINGS = 6
AMBIGUOUS_READING_PRIOR = 0.93
"""A reading that uses a less likely meaning of an ambiguous abbreviation starts a little lower."""


@dataclass(frozen=True, slots=True)
class Term:
    word: str
    detail: bool = False
    """A word that asks for a detail (phí, mất bao lâu, ở đâu) or a bare number: it may help
    break a tie but must not decide which procedure a question is about."""
    aside: bool = False
    """Said in passing, after "để" (in order to): in "xác nhận độc thân để kết hôn" the topic is
    the xác nhận, not the kết hôn."""
    story: bool = False
    """In a clause of a longer message that is not its question: "mẹ tôi ngoài 80, ở với tôi,
    không có lương, ..., phải làm sao" tells a story before it asks."""


@dataclass(frozen=True, slots=True)
class Reading:
    words: Words
    prior: float


class LexiconRules:
    """The lexicon compiled for lookup: abbreviations, phrase rewrites and stopwords."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.abbreviations: dict[str, tuple[Words, ...]] = {}
        for key, value in lexicon.abbreviations.items():
            meanings = (value,) if isinstance(value, str) else value
            self.abbreviations[normalize(key)] = tuple(_words(m) for m in meanings)
        # Phrase keys are read the way a question is, so `dk ket hon` and `dang ky ket hon` agree.
        self.rewrites: dict[Words, Words] = {}
        for key, value in lexicon.phrases.items():
            self.rewrites[self._first_reading(_words(key))] = _words(value)
        single: set[str] = set()
        for stopword in lexicon.stopwords:
            words = _words(stopword)
            if len(words) == 1:
                single.add(words[0])
            elif words:
                self.rewrites.setdefault(words, ())
        self.stopwords = frozenset(single)
        self._longest = max((len(k) for k in self.rewrites), default=1)
        # A value may itself hold a listed phrase ("thủ tục cưới" -> "thủ tục kết hôn"): it is
        # rewritten once here, so a question needs only one pass.
        self.rewrites = {key: self.rewrite(value) for key, value in self.rewrites.items()}

    def _first_reading(self, words: Iterable[str]) -> Words:
        out: list[str] = []
        for word in words:
            readings = self.abbreviations.get(word)
            out.extend(readings[0] if readings else (word,))
        return tuple(out)

    def readings(self, words: Sequence[str]) -> list[Reading]:
        """Every way to read the abbreviations in `words`, most likely first.

        Only the first two ambiguous words branch, so there are at most MAX_READINGS.
        """
        options: list[tuple[Words, ...]] = [
            self.abbreviations.get(word) or ((word,),) for word in words
        ]
        ambiguous = [i for i, o in enumerate(options) if len(o) > 1][:2]
        if not ambiguous:
            return [Reading(self._first_reading(words), 1.0)]
        result: list[Reading] = []
        for choice in itertools.product(*(range(len(options[i])) for i in ambiguous)):
            picked = dict(zip(ambiguous, choice, strict=True))
            out: list[str] = []
            for i, option in enumerate(options):
                out.extend(option[picked.get(i, 0)])
            unusual = sum(1 for c in choice if c)
            result.append(Reading(tuple(out), AMBIGUOUS_READING_PRIOR**unusual))
        result.sort(key=lambda r: -r.prior)
        return result[:MAX_READINGS]

    def rewrite(self, words: Sequence[str]) -> Words:
        """Replace colloquial phrases and drop filler phrases, longest first, in one pass."""
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                key = tuple(words[i : i + size])
                if key in self.rewrites:
                    out.extend(self.rewrites[key])
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return tuple(out)

    def terms(self, words: Sequence[str]) -> list[Term]:
        """Rewritten words -> terms: detail cues marked, other stopwords dropped."""
        detail = [word.isdigit() for word in words]
        in_cue = [False] * len(words)
        for start, end, aspect in cue_spans(words):
            if aspect is None:
                continue
            in_cue[start:end] = [True] * (end - start)
            # "online", "VNeID" are details of a procedure but the very topic of the
            # online-services intent, so they keep their weight.
            if aspect is not Aspect.online:
                detail[start:end] = [True] * (end - start)
        purpose = self._purpose_start(words)
        clause_of, asked = _question_clauses(words)
        several = clause_of[-1] > 0 if words else False
        return [
            Term(word, is_detail, i >= purpose, several and clause_of[i] not in asked)
            for i, (word, is_detail, cue) in enumerate(zip(words, detail, in_cue, strict=True))
            if word not in BREAKS and (cue or word not in self.stopwords)
        ]

    def _purpose_start(self, words: Sequence[str]) -> int:
        """Where a purpose clause starts ("... để mua nhà"), or past the end. A message that
        opens with "để" states its topic that way ("để làm khai sinh cần gì"), and "để lại"
        (leave behind) is no purpose."""
        topic = next((i for i, word in enumerate(words) if word not in self.stopwords), None)
        if topic is None:
            return len(words)
        for j in range(topic + 1, len(words)):
            if words[j] == PURPOSE_WORD and words[j + 1 : j + 2] != ("lai",):
                return j + 1
        return len(words)

    def read(self, words: Sequence[str]) -> Words:
        """`words` (clause breaks kept) in their most likely reading, the lexicon's phrases
        applied: what the learned scorer reads."""
        return self.rewrite(self._first_reading(words))

    def analyse(self, text: str) -> list[Term]:
        """Catalogue text (trusted spelling) -> terms, using the most likely reading."""
        return self.terms(self.rewrite(self._first_reading(normalize(text).split())))

    def known_words(self) -> set[str]:
        """Every word the lexicon mentions: typo repair leaves these alone."""
        known = set(self.abbreviations) | set(self.stopwords)
        for readings in self.abbreviations.values():
            known.update(w for r in readings for w in r)
        for key, value in self.rewrites.items():
            known.update(key)
            known.update(value)
        return known

    def bigrams(self) -> set[tuple[str, str]]:
        """Word pairs the lexicon writes, for typo repair to confirm a guess against."""
        pairs: set[tuple[str, str]] = set()
        for key, value in self.rewrites.items():
            pairs.update(itertools.pairwise(key))
            pairs.update(itertools.pairwise(value))
        return pairs


_TELEX_VOWELS = (("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u"))
_TELEX_TONES = "sfrxj"
_TEENCODE = (
    ("f", "ph"),
    ("j", "gi"),
    ("z", "gi"),
    ("z", "d"),
    ("dz", "d"),
    ("w", "qu"),
    ("w", "u"),
    ("ch", "tr"),
    ("tr", "ch"),
    ("k", "c"),
    ("c", "k"),
    ("s", "x"),
    ("x", "s"),
    ("l", "n"),
    ("n", "l"),
    ("d", "gi"),
    ("gi", "d"),
    ("r", "d"),
    ("d", "r"),
    ("y", "i"),
    ("i", "y"),
)
_DIGITS_AND_LETTERS = re.compile(r"^(\d+)([a-z]+)$|^([a-z]+)(\d+)$")
MIN_FUZZY_LENGTH = 3
MIN_SPLIT_LENGTH = 5
LONE_FIX_LENGTH = 7
"""A word this long may be repaired without a neighbour confirming it: few words are this close."""


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Corrector:
    """Repairs words a question spells in a way the vocabulary does not know.

    A repair is accepted only when it makes a word pair the catalogue or the lexicon uses
    ("khai sin" -> "khai sinh"), so an unrelated word is not pulled into the domain
    ("giá xăng" stays out); telex leftovers ("kys", "ddawng") are decoded without that check.
    """

    def __init__(
        self,
        vocabulary: Counter[str],
        known: set[str],
        bigrams: set[tuple[str, str]],
        abbreviations: dict[str, tuple[Words, ...]],
    ) -> None:
        self._frequency = vocabulary
        self._known = known | set(vocabulary)
        self._bigrams = bigrams
        self._abbreviations = abbreviations
        self._by_deletion: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) >= MIN_FUZZY_LENGTH - 1 and not word.isdigit():
                for key in _deletes(word) | {word}:
                    self._by_deletion.setdefault(key, set()).add(word)

    def is_known(self, word: str) -> bool:
        return word in self._known

    def correct(self, words: Sequence[str]) -> list[str]:
        out: list[str] = []
        for i, word in enumerate(words):
            if self.is_known(word) or word.isdigit() or word in BREAKS:
                out.append(word)
                continue
            left = self._edge(out[-1], last=True) if out else None
            right = self._edge(words[i + 1], last=False) if i + 1 < len(words) else None
            out.extend(self._repair(word, left, right))
        return out

    def _edge(self, word: str, *, last: bool) -> str | None:
        """The word a neighbour presents to a bigram check (an abbreviation's expansion)."""
        readings = self._abbreviations.get(word)
        if readings and readings[0]:
            return readings[0][-1] if last else readings[0][0]
        return word if word in self._known else None

    def _pairs_with(self, word: str, left: str | None, right: str | None) -> int:
        return int((left, word) in self._bigrams) + int((word, right) in self._bigrams)

    def _repair(self, word: str, left: str | None, right: str | None) -> list[str]:
        decoded = self._untelex(word)
        if decoded is not None:
            return [decoded]
        split = self._split(word)
        if split is not None:
            return split
        candidates = self._near(word)
        if not candidates:
            return [word]
        ranked = sorted(
            candidates,
            key=lambda c: (
                -self._pairs_with(c, left, right),
                OSA.distance(word, c),
                -self._frequency[c],
                c,
            ),
        )
        best = ranked[0]
        if self._pairs_with(best, left, right):
            return [best]
        lone = len(word) >= LONE_FIX_LENGTH and OSA.distance(word, best) == 1
        if lone and (len(ranked) == 1 or OSA.distance(word, ranked[1]) > 1):
            return [best]
        return [word]

    def _untelex(self, word: str) -> str | None:
        """`ddawngf` -> `dang`, `kys` -> `ky`, `d9ang8` -> `dang`: an IME that did not convert."""
        base = re.sub(r"\d", "", word) if re.search(r"[a-z]", word) else word
        base = base.replace("dd", "d")
        for pair, single in _TELEX_VOWELS:
            base = base.replace(pair, single)
        options = [base]
        # A tone key follows the vowel it marks, so never the first letter ("xo" is not "o").
        options += [
            base[:i] + base[i + 1 :] for i, ch in enumerate(base) if i and ch in _TELEX_TONES
        ]
        for option in options:
            if option != word and option in self._frequency:
                return option
        return None

    def _split(self, word: str) -> list[str] | None:
        """Run-together words: `khaisinh` -> `khai sinh`, `17tuoi` -> `17 tuoi`, `dkks`."""
        match = _DIGITS_AND_LETTERS.match(word)
        if match:
            return [part for part in match.groups() if part]
        for i in range(2, len(word) - 1):
            head, tail = word[:i], word[i:]
            if head in self._abbreviations and tail in self._abbreviations:
                return [head, tail]
            if len(word) >= MIN_SPLIT_LENGTH and (head, tail) in self._bigrams:
                return [head, tail]
        return None

    def _near(self, word: str) -> set[str]:
        if len(word) < MIN_FUZZY_LENGTH:
            return set()
        edits: set[str] = set()
        for key in _deletes(word) | {word}:
            edits |= self._by_deletion.get(key, set())
        found = {c for c in edits if OSA.distance(word, c, score_cutoff=1) <= 1}
        # Teencode and regional spellings swap whole letter groups (f/ph, ch/tr, gi/d).
        for old, new in _TEENCODE:
            start = word.find(old)
            while start >= 0:
                variant = word[:start] + new + word[start + len(old) :]
                if variant in self._frequency:
                    found.add(variant)
                start = word.find(old, start + 1)
        found.discard(word)
        return found


ADVERTISING_WEAK_NEEDED = 2


class AdvertisingRule:
    """Tells an advertisement from a question by the lexicon's `advertising` cues.

    Cues are matched on whole words, longest first, so a `not_cues` phrase ("dịch vụ công")
    hides the cue it contains ("dịch vụ"). Run on the words as written (no typo repair).
    """

    def __init__(self, lexicon: Lexicon, rules: LexiconRules) -> None:
        cues = lexicon.advertising
        self._table: dict[Words, tuple[str | None, bool]] = {}
        for kind, phrases in (("strong", cues.strong), ("weak", cues.weak), (None, cues.not_cues)):
            for phrase in phrases:
                at_start = phrase.lstrip().startswith("^")
                words = rules.rewrite(_words(phrase.lstrip().removeprefix("^")))
                if words:
                    self._table[words] = (kind, at_start)
        self._longest = max((len(k) for k in self._table), default=1)

    def is_advertising(self, words: Sequence[str]) -> bool:
        """`words` as clause_words gives them (breaks mark where a sentence may start), read
        through the lexicon's phrases (LexiconRules.rewrite)."""
        weak: set[Words] = set()
        i = 0
        while i < len(words):
            for size in range(min(self._longest, len(words) - i), 0, -1):
                key = tuple(words[i : i + size])
                found = self._table.get(key)
                if found is None:
                    continue
                kind, at_start = found
                starts = i == 0 or words[i - 1] in BREAKS
                if kind is not None and (starts or not at_start):
                    if kind == "strong":
                        return True
                    weak.add(key)
                i += size
                break
            else:
                i += 1
        return len(weak) >= ADVERTISING_WEAK_NEEDED
