"""Zalo's webhook signature (reference §2): sha256(app_id + raw_body + timestamp + oa_secret_key).

Plain SHA-256 of the concatenation, not HMAC, over the body exactly as received. The header may
carry a `mac=` prefix or bare hex (unconfirmed which); both are accepted.

The timestamp inside the body is part of the signed string, so it is found with a bounded scan
of the raw bytes (`timestamp_candidates`), never by parsing the JSON: nothing an unauthenticated
sender writes reaches a JSON parser.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

SIGNATURE_HEADER = "X-ZEvent-Signature"

MAX_TIMESTAMP_CANDIDATES = 4
"""A Zalo event has one `timestamp` key; nested objects rarely add another."""

# A "timestamp" key (after `{` or `,`, so never text inside a JSON string, where quotes are
# escaped) and its value: a JSON string, a number or a literal.
_TIMESTAMP = re.compile(
    rb'[{,]\s*"timestamp"\s*:\s*'
    rb'("(?:[^"\\]|\\.){0,1024}"|-?[0-9][0-9.eE+-]{0,1023}|true|false|null)'
)


def compute_signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    digest = hashlib.sha256()
    digest.update(app_id.encode())
    digest.update(raw_body)
    digest.update(timestamp.encode())
    digest.update(oa_secret_key.encode())
    return digest.hexdigest()


def signature_header(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The header value Zalo would send; tests sign their payloads with this."""
    return "mac=" + compute_signature(app_id, raw_body, timestamp, oa_secret_key)


def verify_signature(
    raw_body: bytes, header: str | None, *, timestamp: str, app_id: str, oa_secret_key: str
) -> bool:
    if not header or not app_id or not oa_secret_key or not timestamp.isascii():
        return False
    value = header.strip()
    if value[:4].lower() == "mac=":
        value = value[4:].strip()
    if not value.isascii():
        return False  # a header byte outside ASCII is never hex (and compare_digest refuses it)
    expected = compute_signature(app_id, raw_body, timestamp, oa_secret_key)
    return hmac.compare_digest(expected.encode(), value.lower().encode())


def timestamp_candidates(raw_body: bytes) -> list[str]:
    """The values of the body's "timestamp" keys as the signature uses them (`str(value)`),
    found without parsing the body; `[""]` when it has none (the signature then covers "")."""
    found: list[str] = []
    for match in _TIMESTAMP.finditer(raw_body):
        try:
            value = json.loads(match.group(1))
        except ValueError:
            continue
        text = str(value)
        if text not in found:
            found.append(text)
        if len(found) == MAX_TIMESTAMP_CANDIDATES:
            break
    return found or [""]


def signed_timestamp(
    raw_body: bytes, header: str | None, *, app_id: str, oa_secret_key: str
) -> str | None:
    """The body's timestamp that makes `header` a valid signature, or None if none does.

    The caller checks, once it has parsed the body, that this is the top-level timestamp.
    """
    if not header:
        return None
    for timestamp in timestamp_candidates(raw_body):
        if verify_signature(
            raw_body, header, timestamp=timestamp, app_id=app_id, oa_secret_key=oa_secret_key
        ):
            return timestamp
    return None
