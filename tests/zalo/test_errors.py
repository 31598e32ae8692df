"""Zalo envelopes and HTTP answers -> data or the right `ZaloError`."""

from __future__ import annotations

import httpx
import pytest

from app.errors import (
    ZaloAuthError,
    ZaloError,
    ZaloRateLimited,
    ZaloRecipientError,
    ZaloRequestError,
    ZaloTokenError,
    ZaloTransportError,
)
from app.zalo.errors import check_http_response, check_response, check_token_response


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (-216, ZaloTokenError),
        (-220, ZaloTokenError),
        (-124, ZaloTokenError),
        (-32, ZaloRateLimited),
        (-213, ZaloRecipientError),
        (-227, ZaloRecipientError),
        (-230, ZaloRecipientError),
        (-232, ZaloRecipientError),
        (-244, ZaloRecipientError),
        (-201, ZaloRequestError),
        (-210, ZaloRequestError),
        (-223, ZaloRequestError),
        (-240, ZaloRequestError),
        (-999, ZaloRequestError),
    ],
)
def test_error_code_maps_to_exception(code: int, expected: type[ZaloError]) -> None:
    with pytest.raises(expected) as caught:
        check_response({"error": code, "message": "something"})
    assert type(caught.value) is expected
    assert caught.value.code == code
    assert caught.value.reason == f"zalo:{code}"


def test_transient_flags_follow_the_tree() -> None:
    assert ZaloRateLimited("x").transient and ZaloTransportError("x").transient
    assert not ZaloRecipientError("x").transient and not ZaloTokenError("x").transient


def test_success_returns_data() -> None:
    assert check_response({"error": 0, "message": "Success", "data": {"message_id": "m"}}) == {
        "message_id": "m"
    }


def test_success_without_data_object_returns_empty_dict() -> None:
    assert check_response({"error": 0, "message": "Success"}) == {}
    assert check_response({"error": 0, "data": None}) == {}


def test_numeric_string_code_is_read() -> None:
    with pytest.raises(ZaloRecipientError):
        check_response({"error": "-230", "message": "no interaction"})


@pytest.mark.parametrize(
    "payload",
    [None, [], "error", 42, {}, {"message": "no code"}, {"error": "abc"}, {"error": True}],
)
def test_malformed_envelope_is_request_error_without_code(payload: object) -> None:
    with pytest.raises(ZaloRequestError) as caught:
        check_response(payload)
    assert caught.value.code is None


def _response(status: int, *, json: object = None, text: str | None = None) -> httpx.Response:
    request = httpx.Request("POST", "https://z.test/x")
    if text is not None:
        return httpx.Response(status, text=text, request=request)
    return httpx.Response(status, json=json, request=request)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_5xx_is_transport_error(status: int) -> None:
    with pytest.raises(ZaloTransportError):
        check_http_response(_response(status, text="Bad gateway"))


def test_http_429_is_rate_limited() -> None:
    with pytest.raises(ZaloRateLimited):
        check_http_response(_response(429))


def test_body_that_is_not_json_is_transport_error_with_cause() -> None:
    with pytest.raises(ZaloTransportError) as caught:
        check_http_response(_response(200, text="<html>proxy</html>"))
    assert caught.value.__cause__ is not None


def test_http_4xx_without_envelope_is_request_error() -> None:
    with pytest.raises(ZaloRequestError) as caught:
        check_http_response(_response(404, json={"error": 0}))
    assert caught.value.code is None


def test_http_4xx_with_error_code_uses_the_code() -> None:
    with pytest.raises(ZaloRecipientError):
        check_http_response(_response(400, json={"error": -230, "message": "x"}))


def test_token_endpoint_error_is_auth_error() -> None:
    with pytest.raises(ZaloAuthError) as caught:
        check_token_response(_response(200, json={"error": -118, "error_name": "Invalid grant"}))
    assert caught.value.code == -118
    assert "Invalid grant" in str(caught.value)


def test_token_endpoint_rate_limit_is_transient() -> None:
    with pytest.raises(ZaloRateLimited):
        check_token_response(_response(200, json={"error": -32, "message": "limit"}))


def test_token_endpoint_accepts_top_level_or_enveloped_success() -> None:
    pair = {"access_token": "a", "refresh_token": "r", "expires_in": "90000"}
    assert check_token_response(_response(200, json=pair)) == pair
    enveloped = {"error": 0, "data": pair}
    assert check_token_response(_response(200, json=enveloped)) == pair


def test_token_endpoint_garbage_is_auth_error() -> None:
    with pytest.raises(ZaloAuthError):
        check_token_response(_response(200, json=["nope"]))
