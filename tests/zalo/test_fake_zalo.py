"""The fake itself: unknown requests must fail the test."""

from __future__ import annotations

import httpx
import pytest

from tests.support.fake_zalo import FakeZalo

pytestmark = pytest.mark.anyio


async def test_unexpected_endpoint_fails_the_caller_and_verify() -> None:
    fake = FakeZalo()
    with fake:
        async with httpx.AsyncClient() as http:
            with pytest.raises(AssertionError, match="unexpected request"):
                await http.get("https://openapi.zalo.test/v2.0/oa/getoa")
            with pytest.raises(AssertionError, match="unexpected request"):
                await http.get("https://example.com/")
        with pytest.raises(AssertionError, match="unexpected requests"):
            fake.verify()
        fake.unexpected_requests.clear()


async def test_explicit_transport_reaches_the_fake() -> None:
    fake = FakeZalo()
    async with httpx.AsyncClient(transport=fake.transport()) as http:
        sent = await fake.client(http).send_text("u1", "Xin chào")
    assert sent.message_id == "fake-msg-1"
    assert fake.sent_texts("u1") == ["Xin chào"]


async def test_refresh_rotates_tokens_and_rejects_the_old_ones() -> None:
    with FakeZalo() as fake:
        async with httpx.AsyncClient() as http:
            oauth = fake.oauth_client(http)
            await oauth.refresh("refresh-0")
            assert (fake.valid_access_token, fake.valid_refresh_token) == ("access-1", "refresh-1")
            response = await http.post(
                f"{fake.api_base_url}/v3.0/oa/message/cs",
                headers={"access_token": "access-0"},
                json={"recipient": {"user_id": "u1"}, "message": {"text": "x"}},
            )
            assert response.json()["error"] == -216
            response = await http.post(
                f"{fake.api_base_url}/v3.0/oa/message/cs",
                headers={"access_token": "access-1"},
                json={"recipient": {"user_id": "u1"}, "message": {"text": "x" * 2001}},
            )
            assert response.json()["error"] == -210
