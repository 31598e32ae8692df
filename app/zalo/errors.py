"""Turn Zalo's answers into data or a typed `ZaloError`: the one place that reads error codes.

Zalo reports most failures with HTTP 200 and a non-zero `error` in the envelope
`{"error": int, "message": str, "data": {...}}` (reference §0, §3.5). Decisions taken here:

- network failure, timeout, HTTP 5xx, or a body that is not JSON at all (a proxy or gateway
  page) -> `ZaloTransportError`: transient, the request may be retried;
- HTTP 429 -> `ZaloRateLimited`, like Zalo's own -32;
- JSON that is not an envelope (not an object, no integer `error`) -> `ZaloRequestError` with
  `code=None`: Zalo changed or we called the wrong thing; retrying will not help;
- any other non-2xx status without an error code in the body -> `ZaloRequestError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import httpx

from app.errors import (
    ZaloAuthError,
    ZaloError,
    ZaloRateLimited,
    ZaloRecipientError,
    ZaloRequestError,
    ZaloTokenError,
    ZaloTransportError,
)

ERROR_CLASSES: Final[Mapping[int, type[ZaloError]]] = {
    # Refresh the access token once, then retry once (reference §3.5).
    -216: ZaloTokenError,  # "Access token is invalid"; also seen for expired tokens
    -220: ZaloTokenError,  # "access_token is expired or removed"
    -124: ZaloTokenError,  # ZNS/ZBS table, not the OA table; kept in case a ZBS call is added
    # Transient: back off and retry.
    -32: ZaloRateLimited,  # "reached limit call api"
    # This user cannot receive this message; permanent for now, never retried.
    -213: ZaloRecipientError,  # not a follower (follower-only message types)
    -227: ZaloRecipientError,  # banned, or inactive for more than 45 days
    -230: ZaloRecipientError,  # no interaction in the last 7 days
    -232: ZaloRecipientError,  # "not interacted or interaction expired"; documented as = -230
    -244: ZaloRecipientError,  # the user restricted this message type
}
"""Zalo `error` code -> exception class. Codes not listed become `ZaloRequestError`.

Every code above is "M" confidence in reference §3.5 (a transcription of the official
`phu-luc/ma-loi` page, cross-checked with open-source clients); none is on the §9 list of
unconfirmed points. Change a mapping here and nowhere else.
"""

TOKEN_ENDPOINT_ERROR_CLASSES: Final[Mapping[int, type[ZaloError]]] = {
    -32: ZaloRateLimited,
}
"""Exceptions to "every token-endpoint error is `ZaloAuthError`" (reference §6, §3.5).

-118 (invalid grant: the refresh token is dead or reused) is only "L" confidence in the
reference, observed in production by one project; like -14003 (bad redirect_uri) it falls
through to `ZaloAuthError`, which means a human must re-authorise the OA.
"""


def check_response(payload: object) -> dict[str, Any]:
    """Return `data` of a successful Zalo envelope, or raise the matching `ZaloError`.

    A success without a `data` object returns `{}` (tag calls answer that way).
    """
    if not isinstance(payload, dict):
        raise ZaloRequestError(f"Zalo answered {type(payload).__name__}, not an envelope")
    code = _error_code(payload)
    if code is None:
        raise ZaloRequestError("Zalo answered JSON without an integer `error` field")
    if code != 0:
        cls = ERROR_CLASSES.get(code, ZaloRequestError)
        raise cls(_describe(code, payload), code=code)
    data = payload.get("data")
    return data if isinstance(data, dict) else {}


def check_http_response(response: httpx.Response) -> dict[str, Any]:
    """Check the HTTP layer of an OA API answer, then the envelope (see module docstring)."""
    payload = _decode(response)
    if not response.is_success and _error_code(payload) in (None, 0):
        raise ZaloRequestError(f"Zalo answered HTTP {response.status_code}")
    return check_response(payload)


def check_token_response(response: httpx.Response) -> dict[str, Any]:
    """Check an answer of the OAuth token endpoint, whose success is not enveloped.

    Success is `{"access_token", "refresh_token", "expires_in"}` at the top level (reference
    §6.6); a few clients read them from `data`, so an enveloped success is accepted too.
    Errors carry `error` (and `error_name`, `error_reason`): `ZaloAuthError` unless listed in
    `TOKEN_ENDPOINT_ERROR_CLASSES`.
    """
    payload = _decode(response)
    if not isinstance(payload, dict):
        raise ZaloAuthError(f"token endpoint answered {type(payload).__name__}, not an object")
    code = _error_code(payload)
    if code not in (None, 0):
        assert code is not None
        cls = TOKEN_ENDPOINT_ERROR_CLASSES.get(code, ZaloAuthError)
        raise cls(_describe(code, payload), code=code)
    if not response.is_success:
        raise ZaloAuthError(f"token endpoint answered HTTP {response.status_code}")
    if "access_token" not in payload and isinstance(payload.get("data"), dict):
        return dict(payload["data"])
    return payload


def _decode(response: httpx.Response) -> object:
    if response.status_code == 429:
        raise ZaloRateLimited("Zalo answered HTTP 429")
    if response.status_code >= 500:
        raise ZaloTransportError(f"Zalo answered HTTP {response.status_code}")
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ZaloTransportError(
            f"Zalo answered HTTP {response.status_code} with a body that is not JSON"
        ) from exc


def _error_code(payload: object) -> int | None:
    if not isinstance(payload, dict):
        return None
    code = payload.get("error")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str):
        try:
            return int(code)
        except ValueError:
            return None
    return None


def _describe(code: int, payload: dict[str, Any]) -> str:
    # Zalo's messages describe the failure ("User has not interacted ..."), never the content.
    text = payload.get("message") or payload.get("error_name") or payload.get("error_reason")
    return f"Zalo error {code}: {text}" if text else f"Zalo error {code}"
