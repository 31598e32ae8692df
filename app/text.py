"""Text that every database and every later step accepts: invalid code points replaced.

A client that cuts an emoji in half sends a lone surrogate (JSON `\\udfff`): Python decodes it,
but neither SQLite nor PostgreSQL can store it, nor can it be encoded as UTF-8. PostgreSQL's
text type also refuses NUL. Both are replaced by U+FFFD (the replacement character) where text
enters the service, so the resident is still answered.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_INVALID = re.compile("[\ud800-\udfff\x00]")


def clean_text(text: str) -> str:
    """`text` with lone surrogates and NUL replaced by U+FFFD (unchanged, and fast, if none)."""
    return _INVALID.sub(REPLACEMENT, text)


def needs_cleaning(text: str) -> bool:
    return _INVALID.search(text) is not None


def clean_json(value: Any) -> Any:
    """Every string (keys too) of a parsed JSON value cleaned by `clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value
