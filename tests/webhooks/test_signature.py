"""The webhook signature against the reference's test vector, in every header form."""

from __future__ import annotations

import pytest

from webhooks.signature import compute_signature, signature_header, verify_signature

APP_ID = "1234567890123456789"
SECRET = "TEST_OA_SECRET_KEY"
TIMESTAMP = "1730000000000"
BODY = (
    '{"app_id":"1234567890123456789","sender":{"id":"246845883529197922"},'
    '"user_id_by_app":"552177279717587730","recipient":{"id":"388613280878808645"},'
    '"event_name":"user_send_text","message":{"text":"Xin chào phường",'
    '"msg_id":"96d3cdf3af150460909"},"timestamp":"1730000000000"}'
).encode()
EXPECTED = "f040ff6c7b088f932deee69bb89a978da78bf2636d0944f60160188103ec1160"


def test_reference_vector() -> None:
    assert compute_signature(APP_ID, BODY, TIMESTAMP, SECRET) == EXPECTED


@pytest.mark.parametrize(
    "header", [EXPECTED, f"mac={EXPECTED}", f"MAC={EXPECTED.upper()}", f"  mac= {EXPECTED} "]
)
def test_accepts_bare_hex_and_mac_prefix(header: str) -> None:
    assert verify_signature(BODY, header, timestamp=TIMESTAMP, app_id=APP_ID, oa_secret_key=SECRET)


@pytest.mark.parametrize(
    ("body", "header", "timestamp", "app_id", "secret"),
    [
        (BODY, None, TIMESTAMP, APP_ID, SECRET),
        (BODY, "", TIMESTAMP, APP_ID, SECRET),
        (BODY, "mac=" + "0" * 64, TIMESTAMP, APP_ID, SECRET),
        (BODY.replace(b"Xin", b"Xim"), EXPECTED, TIMESTAMP, APP_ID, SECRET),
        (BODY, EXPECTED, "1730000000001", APP_ID, SECRET),
        (BODY, EXPECTED, TIMESTAMP, APP_ID, "OTHER_KEY"),
        (BODY, EXPECTED, TIMESTAMP, "", SECRET),
        (BODY, EXPECTED, TIMESTAMP, APP_ID, ""),
    ],
)
def test_rejects_anything_else(
    body: bytes, header: str | None, timestamp: str, app_id: str, secret: str
) -> None:
    assert not verify_signature(
        body, header, timestamp=timestamp, app_id=app_id, oa_secret_key=secret
    )


def test_reserialised_json_does_not_verify() -> None:
    """The hash is over the raw bytes: pretty-printing the same JSON breaks it."""
    import json

    pretty = json.dumps(json.loads(BODY), ensure_ascii=True, indent=1).encode()
    assert not verify_signature(
        pretty, EXPECTED, timestamp=TIMESTAMP, app_id=APP_ID, oa_secret_key=SECRET
    )


def test_header_helper_round_trips() -> None:
    header = signature_header(APP_ID, BODY, TIMESTAMP, SECRET)
    assert header == f"mac={EXPECTED}"


def test_a_non_ascii_header_is_refused_not_an_error() -> None:
    header = "mac=\xff" + EXPECTED[1:]
    assert not verify_signature(
        BODY, header, timestamp=TIMESTAMP, app_id=APP_ID, oa_secret_key=SECRET
    )


def test_the_timestamp_is_found_in_the_raw_bytes() -> None:
    from webhooks.signature import signed_timestamp, timestamp_candidates

    assert timestamp_candidates(BODY) == [TIMESTAMP]
    assert timestamp_candidates(b'{"timestamp":1730000000000}') == ["1730000000000"]
    # Text that merely mentions a timestamp is escaped inside its JSON string: not a key.
    assert timestamp_candidates(b'{"text":"{\\"timestamp\\":\\"5\\"}"}') == [""]
    assert signed_timestamp(BODY, EXPECTED, app_id=APP_ID, oa_secret_key=SECRET) == TIMESTAMP
    assert signed_timestamp(BODY, "0" * 64, app_id=APP_ID, oa_secret_key=SECRET) is None
