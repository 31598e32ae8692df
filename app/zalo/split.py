"""Split a long answer into messages that fit Zalo's 2000-character text limit (reference §3.2)."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

TEXT_LIMIT: Final = 2000
"""Zalo rejects longer texts with -210 ([PILOT] in reference §3.2); counted after NFC (§7)."""

# Preferred cut points, best first. Each match is whitespace that disappears at the cut.
_BOUNDARIES: Final = (
    re.compile(r"\n[^\S\n]*\n\s*"),  # paragraph: a blank line
    re.compile(r"\n\s*"),  # line
    re.compile(r"(?<=[.!?…;:])\s+"),  # sentence (or clause) end
    re.compile(r"\s+"),  # word
)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split `text` (NFC-normalised first) into parts of at most `limit` characters.

    Cuts at the last paragraph break that keeps the part within `limit`, else the last line
    break, sentence end, or space; only a single word longer than `limit` is cut mid-word.
    Parts are NFC, never empty, and joined back they lose only the whitespace at the cut
    points (and at both ends of the text). Whitespace-only text gives `[]`.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = unicodedata.normalize("NFC", text).strip()
    parts: list[str] = []
    while len(rest) > limit:
        cut, resume = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[resume:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, limit: int) -> tuple[int, int]:
    """Where the first part ends and the next begins; `text` starts with non-whitespace."""
    for boundary in _BOUNDARIES:
        best: re.Match[str] | None = None
        for match in boundary.finditer(text):
            if match.start() > limit:
                break
            if match.start() > 0:
                best = match
        if best is not None:
            return best.start(), best.end()
    # One word longer than the limit: cut it, but not between a letter and its combining mark.
    cut = limit
    while cut > 1 and unicodedata.combining(text[cut]):
        cut -= 1
    if cut <= 1:
        cut = limit
    return cut, cut
