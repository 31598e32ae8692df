"""OAuth v4 calls, PKCE, token pairs and the single-flight TokenManager."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.errors import ZaloAuthError, ZaloRateLimited, ZaloTransportError
from app.zalo.tokens import (
    MemoryTokenStore,
    TokenHealth,
    TokenManager,
    TokenPair,
    consent_url,
    new_pkce_pair,
)
from tests.support.fake_zalo import TOKEN_PATH, FakeZalo

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

pytestmark = pytest.mark.anyio


# --- TokenPair ---------------------------------------------------------------------------


@pytest.mark.parametrize("expires_in", ["90000", 90000, " 90000 ", 90000.0])
def test_expires_in_as_string_or_number(expires_in: object) -> None:
    data = {"access_token": "a", "refresh_token": "r", "expires_in": expires_in}
    pair = TokenPair.from_token_response(data, NOW)
    assert pair.expires_at == NOW + timedelta(seconds=90000)


@pytest.mark.parametrize("expires_in", [None, "soon", "", -5, True])
def test_unreadable_expires_in_keeps_the_pair_with_unknown_expiry(expires_in: object) -> None:
    data = {"access_token": "a", "refresh_token": "r", "expires_in": expires_in}
    assert TokenPair.from_token_response(data, NOW) == TokenPair("a", "r", None)


def test_token_response_without_tokens_is_auth_error() -> None:
    with pytest.raises(ZaloAuthError):
        TokenPair.from_token_response({"refresh_token": "r", "expires_in": "1"}, NOW)
    with pytest.raises(ZaloAuthError):
        TokenPair.from_token_response({"access_token": "a", "expires_in": "1"}, NOW)


def test_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TokenPair("a", "r", datetime(2026, 1, 1))


def test_repr_hides_tokens() -> None:
    text = repr(TokenPair("secret-access", "secret-refresh", NOW))
    assert "secret" not in text


# --- PKCE and consent URL ------------------------------------------------------------------


def test_pkce_pair() -> None:
    verifier, challenge = new_pkce_pair()
    assert len(verifier) == 43
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge == expected.rstrip(b"=").decode()
    assert "=" not in challenge
    assert new_pkce_pair()[0] != verifier


def test_consent_url() -> None:
    url = consent_url(
        "https://oauth.zaloapp.com/", "123", "https://bot.phuong.gov.vn/zalo/callback", "ch", "st"
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://oauth.zaloapp.com/v4/oa/permission"
    )
    assert parse_qs(parts.query) == {
        "app_id": ["123"],
        "redirect_uri": ["https://bot.phuong.gov.vn/zalo/callback"],
        "code_challenge": ["ch"],
        "state": ["st"],
    }
    assert "code_challenge_method" not in url


# --- OAuthClient --------------------------------------------------------------------------


async def test_refresh_posts_form_with_secret_key_header(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    pair = await fake_zalo.oauth_client(http).refresh("refresh-0")

    (request,) = fake_zalo.requests_to(TOKEN_PATH)
    assert request.method == "POST"
    assert request.headers["secret_key"] == "fake-app-secret"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in request.headers
    assert request.form == {
        "app_id": "fake-app-id",
        "refresh_token": "refresh-0",
        "grant_type": "refresh_token",
    }
    assert (pair.access_token, pair.refresh_token) == ("access-1", "refresh-1")
    assert pair.expires_at is not None and pair.expires_at > datetime.now(UTC)


async def test_reused_refresh_token_is_auth_error(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    oauth = fake_zalo.oauth_client(http)
    await oauth.refresh("refresh-0")
    with pytest.raises(ZaloAuthError) as caught:
        await oauth.refresh("refresh-0")
    assert caught.value.code == -118


async def test_exchange_code_sends_verifier(fake_zalo: FakeZalo, http: httpx.AsyncClient) -> None:
    verifier, challenge = new_pkce_pair()
    fake_zalo.grant_code("auth-code", challenge)

    pair = await fake_zalo.oauth_client(http).exchange_code("auth-code", verifier)

    (request,) = fake_zalo.requests_to(TOKEN_PATH)
    assert request.headers["secret_key"] == "fake-app-secret"
    assert request.form == {
        "app_id": "fake-app-id",
        "code": "auth-code",
        "grant_type": "authorization_code",
        "code_verifier": verifier,
    }
    assert pair.access_token == fake_zalo.valid_access_token


async def test_exchange_with_wrong_verifier_is_auth_error(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.grant_code("auth-code", new_pkce_pair()[1])
    with pytest.raises(ZaloAuthError):
        await fake_zalo.oauth_client(http).exchange_code("auth-code", new_pkce_pair()[0])


async def test_token_endpoint_timeout_is_transport_error(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.fail_next_timeout(TOKEN_PATH)
    with pytest.raises(ZaloTransportError) as caught:
        await fake_zalo.oauth_client(http).refresh("refresh-0")
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)


# --- TokenManager ------------------------------------------------------------------------


class FakeRefresher:
    """Counts refreshes; issues access-N/refresh-N; optionally fails or pauses."""

    def __init__(self, clock_now: datetime = NOW) -> None:
        self.calls: list[str] = []
        self.fail_with: Exception | None = None
        self.gate: asyncio.Event | None = None
        self._now = clock_now

    async def refresh(self, refresh_token: str) -> TokenPair:
        self.calls.append(refresh_token)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        n = len(self.calls)
        return TokenPair(f"access-{n}", f"refresh-{n}", self._now + timedelta(hours=25))


def _manager(
    store: MemoryTokenStore,
    refresher: FakeRefresher,
    *,
    initial: TokenPair | None = None,
    now: datetime = NOW,
) -> TokenManager:
    return TokenManager(store, refresher, initial=initial, clock=lambda: now)


async def test_uses_stored_token_while_fresh() -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0", NOW + timedelta(hours=1)))
    refresher = FakeRefresher()
    assert await _manager(store, refresher).access_token() == "access-0"
    assert refresher.calls == []


async def test_seeds_from_initial_when_store_is_empty_and_unknown_expiry_is_valid() -> None:
    store = MemoryTokenStore()
    refresher = FakeRefresher()
    manager = _manager(store, refresher, initial=TokenPair("env-access", "env-refresh"))
    assert await manager.access_token() == "env-access"
    assert refresher.calls == []


async def test_store_wins_over_initial() -> None:
    store = MemoryTokenStore(TokenPair("stored", "stored-r"))
    manager = _manager(store, FakeRefresher(), initial=TokenPair("env-access", "env-refresh"))
    assert await manager.access_token() == "stored"


async def test_no_token_at_all_is_auth_error() -> None:
    with pytest.raises(ZaloAuthError):
        await _manager(MemoryTokenStore(), FakeRefresher()).access_token()


async def test_no_token_at_all_is_reported_as_unhealthy() -> None:
    heard: list[TokenHealth] = []
    manager = TokenManager(MemoryTokenStore(), FakeRefresher(), on_health=heard.append)
    with pytest.raises(ZaloAuthError):
        await manager.access_token()
    assert (manager.health.ok, manager.health.last_error) == (False, "no_token")
    assert [h.last_error for h in heard] == ["no_token"]


async def test_seeded_with_a_refresh_token_only_refreshes_before_first_use() -> None:
    refresher = FakeRefresher()
    manager = _manager(MemoryTokenStore(), refresher, initial=TokenPair("", "env-refresh"))
    assert await manager.access_token() == "access-1"
    assert refresher.calls == ["env-refresh"]


async def test_health_changes_are_reported_once_each_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0", NOW - timedelta(minutes=1)))
    refresher = FakeRefresher()
    refresher.fail_with = ZaloAuthError("dead", code=-118)
    heard: list[TokenHealth] = []
    manager = TokenManager(store, refresher, clock=lambda: NOW, on_health=heard.append)
    for _ in range(2):
        with pytest.raises(ZaloAuthError):
            await manager.refresh_if_due()
    assert [(h.ok, h.last_error_code) for h in heard] == [(False, -118)]
    assert any(r.levelname == "ERROR" and "unusable" in r.getMessage() for r in caplog.records)
    refresher.fail_with = None
    assert await manager.refresh_if_due() is True
    assert [(h.ok, h.last_error_code) for h in heard] == [(False, -118), (True, None)]


async def test_refreshes_ahead_of_expiry_and_saves() -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0", NOW + timedelta(minutes=5)))
    refresher = FakeRefresher()

    assert await _manager(store, refresher).access_token() == "access-1"

    assert refresher.calls == ["refresh-0"]
    assert store.pair is not None and store.pair.access_token == "access-1"


async def test_transient_early_refresh_failure_falls_back_to_unexpired_token() -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0", NOW + timedelta(minutes=5)))
    refresher = FakeRefresher()
    refresher.fail_with = ZaloTransportError("down")
    assert await _manager(store, refresher).access_token() == "access-0"


async def test_early_refresh_auth_failure_is_raised() -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0", NOW + timedelta(minutes=5)))
    refresher = FakeRefresher()
    refresher.fail_with = ZaloAuthError("dead", code=-118)
    with pytest.raises(ZaloAuthError):
        await _manager(store, refresher).access_token()


async def test_expired_token_with_failing_refresh_is_raised() -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0", NOW - timedelta(minutes=1)))
    refresher = FakeRefresher()
    refresher.fail_with = ZaloRateLimited("slow down", code=-32)
    with pytest.raises(ZaloRateLimited):
        await _manager(store, refresher).access_token()


async def test_rejection_refreshes_once_and_saves_before_returning() -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0"))
    refresher = FakeRefresher()
    manager = _manager(store, refresher)

    token = await manager.refresh_after_rejection("access-0")

    assert token == "access-1"
    assert [p.access_token for p in store.saves] == ["access-1"]
    assert await manager.access_token() == "access-1"


async def test_rejection_of_an_already_replaced_token_reuses_the_new_one() -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0"))
    refresher = FakeRefresher()
    manager = _manager(store, refresher)
    await manager.access_token()
    # Another process refreshed and saved a new pair in the shared store.
    store.save(TokenPair("access-9", "refresh-9"))

    assert await manager.refresh_after_rejection("access-0") == "access-9"
    assert refresher.calls == []


async def test_concurrent_rejections_refresh_once() -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-0"))
    refresher = FakeRefresher()
    refresher.gate = asyncio.Event()
    manager = _manager(store, refresher)

    tasks = [asyncio.create_task(manager.refresh_after_rejection("access-0")) for _ in range(5)]
    await asyncio.sleep(0.01)
    refresher.gate.set()
    tokens = await asyncio.gather(*tasks)

    assert tokens == ["access-1"] * 5
    assert refresher.calls == ["refresh-0"]
    assert len(store.saves) == 1


async def test_failed_save_means_the_new_token_is_not_used() -> None:
    class BrokenStore(MemoryTokenStore):
        def save(self, pair: TokenPair) -> None:
            raise OSError("disk full")

    store = BrokenStore(TokenPair("access-0", "refresh-0"))
    manager = _manager(store, FakeRefresher())
    with pytest.raises(OSError):
        await manager.refresh_after_rejection("access-0")
    assert await manager.access_token() == "access-0"


async def test_missing_refresh_token_is_auth_error() -> None:
    manager = _manager(MemoryTokenStore(), FakeRefresher(), initial=TokenPair("env-access", ""))
    with pytest.raises(ZaloAuthError):
        await manager.refresh_after_rejection("env-access")
