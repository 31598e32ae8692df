"""Zalo's webhook signature (reference §2): sha256(app_id + raw_body + timestamp + oa_secret_key).

Plain SHA-256 of the concatenation, not HMAC, over the body exactly as received. The header may
carry a `mac=` prefix or bare hex (unconfirmed which); both are accepted.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-ZEvent-Signature"


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
    if not header or not app_id or not oa_secret_key:
        return False
    value = header.strip()
    if value[:4].lower() == "mac=":
        value = value[4:].strip()
    expected = compute_signature(app_id, raw_body, timestamp, oa_secret_key)
    return hmac.compare_digest(expected, value.lower())
