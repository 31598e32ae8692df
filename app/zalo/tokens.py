"""OA access tokens: OAuth v4 calls, where the pair is kept, and refreshing it safely.

Zalo's refresh token is single-use and every refresh invalidates the previous access token
(reference §6.7-6.8), so `TokenManager` lets one coroutine refresh at a time and saves the new
pair before anyone uses it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

import httpx

from app.errors import ZaloAuthError, ZaloError, ZaloTransportError
from app.zalo.errors import check_token_response

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TokenPair:
    """An OA access token with the single-use refresh token issued alongside it.

    `expires_at` is timezone-aware, or `None` when unknown (a pair seeded from the
    environment): such a token is used until Zalo rejects it.
    """

    access_token: str
    refresh_token: str
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.expires_at is not None and self.expires_at.utcoffset() is None:
            raise ValueError("TokenPair.expires_at must be timezone-aware")

    def __repr__(self) -> str:
        # Tokens are secrets: keep them out of logs and tracebacks.
        return f"TokenPair(access_token=***, refresh_token=***, expires_at={self.expires_at!r})"

    def expires_within(self, margin: timedelta, now: datetime) -> bool:
        if not self.access_token:
            return True  # seeded with a refresh token only: refresh before the first use
        return self.expires_at is not None and self.expires_at - margin <= now

    @classmethod
    def from_token_response(cls, data: Mapping[str, Any], now: datetime) -> TokenPair:
        """Build a pair from the token endpoint's answer; `expires_in` may be "90000" or 90000."""
        access_token = data.get("access_token")
        refresh_token = data.get("refresh_token")
        if not isinstance(access_token, str) or not access_token:
            raise ZaloAuthError("token endpoint answered without an access_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise ZaloAuthError("token endpoint answered without a refresh_token")
        seconds = _parse_expires_in(data.get("expires_in"))
        if seconds is None:
            # The old refresh token is already spent: keep the pair rather than fail.
            logger.warning("zalo.token.expires_in_unreadable")
            return cls(access_token, refresh_token, None)
        return cls(access_token, refresh_token, now + timedelta(seconds=seconds))


def _parse_expires_in(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = int(value)
    elif isinstance(value, str):
        try:
            seconds = int(value.strip())
        except ValueError:
            return None
    else:
        return None
    return seconds if seconds > 0 else None


class TokenStore(Protocol):
    """Where the current pair lives between restarts (storage implements it)."""

    def load(self) -> TokenPair | None: ...

    def save(self, pair: TokenPair) -> None: ...


@runtime_checkable
class LockingTokenStore(TokenStore, Protocol):
    """A store shared by several processes: `refresh_lock()` holds a lock that every other
    process's refresh waits for, and yields the store to re-read and save under it. The saved
    pair must be durable (committed) when the context exits without error."""

    def refresh_lock(self) -> AbstractAsyncContextManager[TokenStore]: ...


@asynccontextmanager
async def _unlocked(store: TokenStore) -> AsyncIterator[TokenStore]:
    yield store


@dataclass(frozen=True)
class TokenHealth:
    """What /readyz reports: the outcome of the last refresh this process attempted."""

    last_refresh_at: datetime | None = None
    last_error_code: int | None = None
    last_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.last_error is None


class MemoryTokenStore:
    """A `TokenStore` for tests and the simulator."""

    def __init__(self, pair: TokenPair | None = None) -> None:
        self.pair = pair
        self.saves: list[TokenPair] = []

    def load(self) -> TokenPair | None:
        return self.pair

    def save(self, pair: TokenPair) -> None:
        self.pair = pair
        self.saves.append(pair)


# --- OAuth v4 (reference §6) ---------------------------------------------------------------


def new_pkce_pair() -> tuple[str, str]:
    """Return `(code_verifier, code_challenge)`: 32 random bytes and their S256 challenge,
    both base64url without padding (the verifier is 43 characters)."""
    verifier = _b64url(secrets.token_bytes(32))
    challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def consent_url(
    oauth_base_url: str, app_id: str, redirect_uri: str, challenge: str, state: str
) -> str:
    """The page where an OA admin grants the app access (reference §6.2).

    There is no `code_challenge_method` parameter; `redirect_uri` must equal the callback URL
    registered in the app console, or Zalo answers -14003.
    """
    query = urlencode(
        {
            "app_id": app_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "state": state,
        }
    )
    return f"{oauth_base_url.rstrip('/')}/v4/oa/permission?{query}"


class OAuthClient:
    """Calls `POST {oauth_base_url}/v4/oa/access_token` (form-encoded, header `secret_key`)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        oauth_base_url: str,
        app_id: str,
        app_secret: str,
        clock: Clock = utc_now,
    ) -> None:
        self._http = http
        self._url = f"{oauth_base_url.rstrip('/')}/v4/oa/access_token"
        self._app_id = app_id
        self._app_secret = app_secret
        self._clock = clock

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Trade the single-use refresh token for a new pair (reference §6.5)."""
        return await self._request_pair(
            {"app_id": self._app_id, "refresh_token": refresh_token, "grant_type": "refresh_token"},
            event="refresh",
        )

    async def exchange_code(self, code: str, code_verifier: str) -> TokenPair:
        """Trade the authorization code from the consent callback for a pair (reference §6.4)."""
        return await self._request_pair(
            {
                "app_id": self._app_id,
                "code": code,
                "grant_type": "authorization_code",
                "code_verifier": code_verifier,
            },
            event="exchange_code",
        )

    async def _request_pair(self, form: dict[str, str], *, event: str) -> TokenPair:
        try:
            response = await self._http.post(
                self._url, data=form, headers={"secret_key": self._app_secret}
            )
        except httpx.HTTPError as exc:
            logger.warning("zalo.oauth.%s.transport_error %s", event, type(exc).__name__)
            raise ZaloTransportError(f"token endpoint unreachable: {type(exc).__name__}") from exc
        try:
            data = check_token_response(response)
        except ZaloError as exc:
            logger.error("zalo.oauth.%s.failed code=%s", event, exc.code)
            raise
        pair = TokenPair.from_token_response(data, self._clock())
        logger.info("zalo.oauth.%s.ok", event)
        return pair


# --- Keeping the pair fresh --------------------------------------------------------------


class Refresher(Protocol):
    async def refresh(self, refresh_token: str) -> TokenPair: ...


class TokenManager:
    """Hands out the current access token and refreshes it, one refresh at a time.

    The pair comes from `store`, or from `initial` (ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN)
    while the store is empty. The manager caches it and re-reads the store before every
    refresh, so a pair refreshed by another process is picked up instead of spending the
    (already used) refresh token again. Cross-process exclusion is the store's business.
    """

    def __init__(
        self,
        store: TokenStore,
        oauth: Refresher,
        *,
        initial: TokenPair | None = None,
        refresh_margin: timedelta = timedelta(minutes=10),
        clock: Clock = utc_now,
        on_health: Callable[[TokenHealth], None] | None = None,
        oa_id: str | None = None,
    ) -> None:
        self.oa_id = oa_id
        """The OA (key of the stored pair) this manager serves, for logs and /readyz."""
        self._store = store
        self._oauth = oauth
        self._initial = initial
        self._margin = refresh_margin
        self._clock = clock
        self._lock = asyncio.Lock()
        self._pair: TokenPair | None = None
        self._health = TokenHealth()
        self._on_health = on_health
        self._failed_token: str | None = None

    @property
    def health(self) -> TokenHealth:
        return self._health

    @health.setter
    def health(self, value: TokenHealth) -> None:
        """`on_health` hears of every change of state (ok, or which error), e.g. to share it
        with the other processes through the database."""
        before = self._health
        self._health = value
        changed = (before.ok, before.last_error_code, before.last_error) != (
            value.ok,
            value.last_error_code,
            value.last_error,
        )
        if changed and not value.ok:
            logger.error(
                "zalo.token.unusable: replies are held until an OA admin reconnects the OA "
                "(wardbot zalo connect)",
                extra={"code": value.last_error_code, "reason": value.last_error},
            )
        elif changed and not before.ok:
            logger.info("zalo.token.usable_again")
        if changed and self._on_health is not None:
            try:
                self._on_health(value)
            except Exception:
                logger.exception("zalo.token.health_not_recorded")

    async def access_token(self) -> str:
        """The token to send now, refreshed first if it expires within `refresh_margin`."""
        pair = self._pair or self._reload()
        if not pair.expires_within(self._margin, self._clock()):
            return pair.access_token
        try:
            return await self._refresh_unless_replaced(pair.access_token)
        except ZaloError as exc:
            # A failed early refresh need not fail the send while the old token still works.
            if exc.transient and not pair.expires_within(timedelta(0), self._clock()):
                logger.warning("zalo.token.early_refresh_failed %s", exc.reason)
                return pair.access_token
            raise

    async def refresh_after_rejection(self, rejected_token: str) -> str:
        """Zalo rejected `rejected_token`: return a token worth retrying with.

        If another coroutine (or process) already replaced it, that token is returned;
        otherwise the pair is refreshed once and saved before the new token is returned.
        """
        return await self._refresh_unless_replaced(rejected_token)

    async def refresh_if_due(self) -> bool:
        """Refresh now if the pair expires within the margin (the background refresher's
        call); False when nothing was due. Raises what the refresh raised."""
        pair = self._reload()
        if not pair.expires_within(self._margin, self._clock()):
            if not self.health.ok and pair.access_token != self._failed_token:
                # Another process, or a new consent, replaced the pair since our failure.
                self.health = TokenHealth(self._clock())
            return False
        await self._refresh_unless_replaced(pair.access_token)
        return True

    async def _refresh_unless_replaced(self, seen_token: str) -> str:
        # The asyncio lock serialises this process's coroutines; the store's lock (if it has
        # one) serialises processes sharing the database, so the single-use refresh token is
        # spent once and everyone else re-reads the pair saved under the lock.
        async with self._lock:
            new_pair: TokenPair | None = None
            self._failed_token = seen_token
            try:
                async with self._exclusive() as store:
                    current = self._reload(store)
                    if current.access_token != seen_token:
                        logger.info("zalo.token.reused_newer")
                        self.health = TokenHealth(self._clock())
                        return current.access_token
                    if not current.refresh_token:
                        raise ZaloAuthError(
                            "no refresh token: an OA admin must authorise the app again"
                        )
                    logger.info("zalo.token.refreshing")
                    new_pair = await self._oauth.refresh(current.refresh_token)
                    # The old refresh token is spent: the new pair must be stored before use.
                    store.save(new_pair)
            except ZaloError as exc:
                self.health = TokenHealth(self._clock(), exc.code, exc.reason)
                raise
            except Exception:
                if new_pair is not None:
                    logger.critical("zalo.token.save_failed: the new token pair is lost")
                    self.health = TokenHealth(self._clock(), None, "save_failed")
                raise
            assert new_pair is not None
            self._pair = new_pair
            self.health = TokenHealth(self._clock())
            logger.info("zalo.token.refreshed")
            return new_pair.access_token

    def _exclusive(self) -> AbstractAsyncContextManager[TokenStore]:
        if isinstance(self._store, LockingTokenStore):
            return self._store.refresh_lock()
        return _unlocked(self._store)

    def _reload(self, store: TokenStore | None = None) -> TokenPair:
        pair = (store or self._store).load() or self._initial
        if pair is None or not (pair.access_token or pair.refresh_token):
            self.health = TokenHealth(self._clock(), None, "no_token")
            raise ZaloAuthError("no Zalo token: an OA admin must authorise the app")
        self._pair = pair
        return pair
