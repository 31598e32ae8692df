"""Vietnamese text folding: one canonical, diacritic-free, lower-case form for every spelling.

Residents type with or without diacritics, in NFC or NFD, with emoji and stray punctuation;
`normalize` maps all of these to the same plain string so the rest of matching compares words.
"""

from __future__ import annotations

import re
import unicodedata

# đ is a letter of its own in Unicode, not d plus a mark, so decomposition alone keeps it.
# U+00D0/U+00F0 (eth) are what some keyboards and fonts produce for Đ/đ.
_LETTER_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


class _CharFolds(dict[int, str | None]):
    """What each decomposed character becomes, worked out the first time it is seen: a
    combining mark nothing, a letter or a digit itself, anything else (punctuation, emoji,
    symbols) a space that separates words. As a `str.translate` table it folds a whole text in
    one pass in C (reading the catalogue and its phrasings calls this thousands of times)."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        folded = None if unicodedata.combining(char) else char if char.isalnum() else " "
        self[code] = folded
        return folded


_CHAR_FOLDS = _CharFolds()


def _fold_once(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTER_FOLDS).casefold())
    return " ".join(decomposed.translate(_CHAR_FOLDS).split())


# Words that fold like a word of another meaning, read apart when written with their marks:
# thuế (a tax, other agencies' business) folds like thuê (to rent: cho thuê đất), đói (hungry)
# like đổi (to change). Without diacritics they stay ambiguous, as before.
TONE_TWINS = {"thuế": "thuevu", "đói": "doibung"}
_TONE_TWIN = re.compile(r"(?<!\w)(" + "|".join(TONE_TWINS) + r")(?!\w)")


_TWIN_MARKS = ("ế", "ó", "Ế", "Ó")
"""The marked letter of each twin: a text without any is left as it is (cheaply)."""


def _read_tone_twins(text: str) -> str:
    if text.isascii():
        return text
    nfc = unicodedata.normalize("NFC", text)
    if not any(mark in nfc for mark in _TWIN_MARKS):
        return text
    return _TONE_TWIN.sub(lambda m: TONE_TWINS[m.group(1)], nfc.lower())


def normalize(text: str) -> str:
    """Lower-case, diacritics folded (đ -> d), punctuation and symbols -> space, spaces collapsed.

    Idempotent: `normalize(normalize(x)) == normalize(x)`. A few exotic characters change again
    when folded a second time (casefolding can yield letters that decompose further), so the
    folding is repeated until it is stable.
    """
    folded = _fold_once(_read_tone_twins(text))
    for _ in range(4):
        again = _fold_once(folded)
        if again == folded:
            break
        folded = again
    return folded
