"""A fake Zalo (OA Open API + OAuth v4) behind the real HTTP seam, built on respx.

It answers like Zalo does (errors with HTTP 200, reference §0), records every request, plays
back scripted failures, and fails the test on any request it does not know.

Fixture::

    @pytest.fixture
    def fake_zalo() -> Iterator[FakeZalo]:
        with FakeZalo() as fake:   # patches httpx globally; verify() runs on exit
            yield fake

    @pytest.mark.anyio
    async def test_reply(fake_zalo: FakeZalo) -> None:
        async with httpx.AsyncClient() as http:
            zalo = fake_zalo.client(http)        # a ZaloClient wired to the fake
            await zalo.send_reply("u1", Reply("Xin chào"))
        assert fake_zalo.sent_texts("u1") == ["Xin chào"]

Only async httpx clients are supported. While started, the fake intercepts every httpx
request made through httpcore (any `httpx.AsyncClient()`, including ones the app builds in
its lifespan); `fake.transport()` gives an explicit `httpx.MockTransport` instead.

Endpoints (paths relative to `api_base_url`, default https://openapi.zalo.test, and
`oauth_base_url`, default https://oauth.zalo.test):
    POST /v3.0/oa/message/cs          -> {"message_id": "fake-msg-<n>", "user_id", "quota"};
                                         -201 without recipient.user_id, -210 over 2000 chars
    POST /v2.0/oa/tag/tagfollower     -> updates `fake.tags`
    POST /v2.0/oa/tag/rmfollowerfromtag
    GET  /v3.0/oa/user/getlist        -> pages of `fake.followers`, filtered by tag_name
    GET  /v3.0/oa/user/detail         -> a profile built from `fake.display_names` and tags
    POST /v4/oa/access_token (OAuth)  -> refresh_token / authorization_code grants
Anything else raises `AssertionError` in the caller and is kept in `unexpected_requests`,
which makes `verify()` (run on exit) fail even if the caller swallowed the error.

Each API request is answered in this order:
    1. a scripted network failure (`fail_next_http`, `fail_next_timeout`), if one is queued
       for this path or for any path;
    2. -216 if the `access_token` header is not `valid_access_token`;
    3. a scripted answer (`queue_error`, `queue_response`) for this path or any path;
    4. the default success.
The OAuth endpoint skips step 2 and checks the `secret_key` header and `app_id` instead.

Tokens: the fake starts with `valid_access_token == "access-0"` and
`valid_refresh_token == "refresh-0"`; `current_pair()` returns them as a `TokenPair`. A
refresh with the valid refresh token (or a code exchange) issues "access-<n>"/"refresh-<n>"
(n counts the pairs issued), after which the old access token is rejected with -216 and the
old refresh token with -118 (single use, reference §6.7). `revoke_access_token()` makes the
fake reject the current access token (models expiry) until the next refresh.

Several OAs of one app (a province's deployment): `fake.add_oa(oa_id)` gives that OA its own
pair ("access-<oa>-0"/"refresh-<oa>-0", returned as a `TokenPair`; `fake.pair_of(oa_id)` the
current one). A request is answered as the OA whose valid access token it carries (recorded
as `ZaloRequest.oa_id` and `FakeMessage.oa_id`; DEFAULT_OA for the pair above); a refresh
with an OA's refresh token renews that OA's pair only ("access-<oa>-<n>"), counted in
`fake.refreshes_by_oa[oa_id]`. `revoke_access_token(oa_id, refresh_too=False)` revokes one
OA's token.

Inspecting:
    fake.requests                 every request, as `ZaloRequest(method, path, headers, json,
                                  form, query)`; `fake.requests_to(path)` filters by path
    fake.sent_messages            accepted messages: `FakeMessage(user_id, text, buttons,
                                  message_id, body)`, buttons as sent on the wire
    fake.sent_texts(user_id=None) texts of the accepted messages, in order
    fake.refresh_count            successful refreshes
    fake.rejected_tokens          access tokens answered with -216, one entry per request
    fake.sleeps                   backoff delays requested by clients built with client()

Scripting:
    fake.queue_error(path, code, message=None, times=1)   e.g. ("/v3.0/oa/message/cs", -230)
    fake.queue_response(path, payload, times=1)          a raw JSON answer
    fake.fail_next_http(status=500, path=None, times=1)
    fake.fail_next_timeout(path=None, times=1)
    fake.revoke_access_token()
    fake.grant_code(code, code_challenge=None)           a code for exchange_code (single use)
`path=None` means "the next request to any endpoint".

Announcement faults (all on POST /v3.0/oa/message/cs unless said otherwise):
    fake.recipient_errors[user_id] = code     Zalo refuses that user every time, e.g. -213,
                                              -227, -244
    fake.outside_window                       users answered with -230 (no interaction in 7
                                              days) until `fake.interact(user_id)`
    fake.inject_faults(rate, seed=0, kinds=("http_500", "timeout", "rate_limit"),
                       latency=None)
                                              each message request fails with probability
                                              `rate` (seeded, so runs repeat), before Zalo
                                              accepts anything; kind "lost_answer" instead
                                              accepts the message and then times out (the
                                              ambiguous case). `latency=(low, high)` delays
                                              every message request by a seeded random number
                                              of seconds in that range. `inject_faults(0)`
                                              ends the storm.
    fake.accept_then_timeout(times=1, user_id=None)
                                              Zalo accepts the message (it is in
                                              `sent_messages`) but the client sees a timeout:
                                              the ambiguous case
    fake.on_accept = callback                 called with each accepted `FakeMessage`, e.g. to
                                              record Zalo's `oa_send_text` echo
    fake.outcomes                             `FakeOutcome(user_id, outcome)` per message
                                              request answered by the model above or accepted:
                                              "accepted", "accepted_timeout", "zalo:<code>",
                                              "zalo:-32", "http_500", "timeout" (scripted
                                              failures and token rejections are not listed)

Building clients: `fake.client(http, store=None, attempts=3)`, `fake.token_manager(http,
store=None)`, `fake.oauth_client(http)`; all point at the fake, and client() records
backoff in `fake.sleeps` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl

import anyio.lowlevel
import httpx
import respx

from app.zalo.client import RetryPolicy, ZaloClient
from app.zalo.tokens import MemoryTokenStore, OAuthClient, TokenManager, TokenPair, TokenStore

API_BASE_URL = "https://openapi.zalo.test"
OAUTH_BASE_URL = "https://oauth.zalo.test"
TOKEN_PATH = "/v4/oa/access_token"
MESSAGE_CS_PATH = "/v3.0/oa/message/cs"
DEFAULT_OA = "(default)"
"""The OA of the fake's first pair (`valid_access_token`), in `ZaloRequest.oa_id`."""
FAULT_KINDS = ("http_500", "timeout", "rate_limit", "lost_answer")

Handler = Callable[[httpx.Request, "ZaloRequest"], dict[str, Any]]


@dataclass(frozen=True)
class ZaloRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    oa_id: str | None = None
    """The OA whose valid access token the request carries (None: no valid token)."""


@dataclass(frozen=True)
class FakeMessage:
    user_id: str
    text: str
    buttons: tuple[dict[str, Any], ...]
    message_id: str
    body: dict[str, Any]
    oa_id: str | None = None
    """The OA whose token sent it (DEFAULT_OA for the fake's first pair)."""


@dataclass(frozen=True)
class FakeOutcome:
    user_id: str | None
    outcome: str


@dataclass
class _Scripted:
    stage: Literal["network", "answer"]
    path: str | None
    respond: Callable[[httpx.Request], httpx.Response]


class FakeZalo:
    """See the module docstring."""

    def __init__(
        self,
        *,
        api_base_url: str = API_BASE_URL,
        oauth_base_url: str = OAUTH_BASE_URL,
        app_id: str = "fake-app-id",
        app_secret: str = "fake-app-secret",
        expires_in: str = "90000",
    ) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self.oauth_base_url = oauth_base_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.expires_in = expires_in

        self.valid_access_token: str | None = "access-0"
        self.valid_refresh_token: str | None = "refresh-0"
        self.refresh_count = 0
        self.rejected_tokens: list[str] = []
        self.requests: list[ZaloRequest] = []
        self.sent_messages: list[FakeMessage] = []
        self.unexpected_requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.followers: list[str] = []
        self.tags: dict[str, set[str]] = {}
        self.display_names: dict[str, str] = {}
        self.recipient_errors: dict[str, int] = {}
        self.outside_window: set[str] = set()
        self.on_accept: Callable[[FakeMessage], None] | None = None
        self.outcomes: list[FakeOutcome] = []
        self._fault_rate = 0.0
        self._fault_kinds: tuple[str, ...] = ()
        self._fault_random = random.Random(0)
        self._latency: tuple[float, float] | None = None
        self._latency_random = random.Random(0)
        self._lose_responses: list[str | None] = []

        self._message_ids = itertools.count(1)
        self._script: list[_Scripted] = []
        self._codes: dict[str, str | None] = {}
        self._issued_pairs = 0
        self._oa_pairs: dict[str, list[str | None]] = {}
        """OA id -> [access token, refresh token] (None: revoked)."""
        self.refreshes_by_oa: dict[str, int] = {}

        self.router = respx.MockRouter(assert_all_mocked=True, assert_all_called=False)
        api: dict[tuple[str, str], Handler] = {
            ("POST", MESSAGE_CS_PATH): self._message_cs,
            ("POST", "/v2.0/oa/tag/tagfollower"): self._tag_follower,
            ("POST", "/v2.0/oa/tag/rmfollowerfromtag"): self._remove_from_tag,
            ("GET", "/v3.0/oa/user/getlist"): self._user_list,
            ("GET", "/v3.0/oa/user/detail"): self._user_detail,
        }
        for (method, path), handler in api.items():
            self.router.route(method=method, url=f"{self.api_base_url}{path}").mock(
                side_effect=self._api_endpoint(handler)
            )
        self.router.route(method="POST", url=f"{self.oauth_base_url}{TOKEN_PATH}").mock(
            side_effect=self._token_endpoint
        )
        self.router.route().mock(side_effect=self._unexpected)

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> FakeZalo:
        self.router.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.router.stop(quiet=exc_type is not None)
        if exc_type is None:
            self.verify()

    def verify(self) -> None:
        """Fail if any request went to an endpoint the fake does not know."""
        if self.unexpected_requests:
            listed = ", ".join(f"{r.method} {r.url}" for r in self.unexpected_requests)
            raise AssertionError(f"FakeZalo: unexpected requests: {listed}")

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.router.async_handler)

    # --- building clients ------------------------------------------------------------------

    def current_pair(self) -> TokenPair:
        assert self.valid_access_token and self.valid_refresh_token
        expires_at = datetime.now(UTC) + timedelta(seconds=int(self.expires_in))
        return TokenPair(self.valid_access_token, self.valid_refresh_token, expires_at)

    def add_oa(self, oa_id: str) -> TokenPair:
        """Another OA of the app, with its own token pair (returned)."""
        self._oa_pairs[oa_id] = [f"access-{oa_id}-0", f"refresh-{oa_id}-0"]
        self.refreshes_by_oa[oa_id] = 0
        return self.pair_of(oa_id)

    def pair_of(self, oa_id: str) -> TokenPair:
        access, refresh = self._oa_pairs[oa_id]
        assert access and refresh
        expires_at = datetime.now(UTC) + timedelta(seconds=int(self.expires_in))
        return TokenPair(access, refresh, expires_at)

    def _token_owner(self, token: str | None) -> str | None:
        if token is None:
            return None
        if token == self.valid_access_token:
            return DEFAULT_OA
        return next((oa for oa, pair in self._oa_pairs.items() if pair[0] == token), None)

    def oauth_client(self, http: httpx.AsyncClient) -> OAuthClient:
        return OAuthClient(
            http, oauth_base_url=self.oauth_base_url, app_id=self.app_id, app_secret=self.app_secret
        )

    def token_manager(
        self, http: httpx.AsyncClient, store: TokenStore | None = None
    ) -> TokenManager:
        """A manager whose store (a fresh `MemoryTokenStore` by default) holds the valid pair."""
        if store is None:
            store = MemoryTokenStore(self.current_pair())
        return TokenManager(store, self.oauth_client(http))

    def client(
        self, http: httpx.AsyncClient, *, store: TokenStore | None = None, attempts: int = 3
    ) -> ZaloClient:
        async def record_sleep(delay: float) -> None:
            self.sleeps.append(delay)

        return ZaloClient(
            http,
            api_base_url=self.api_base_url,
            tokens=self.token_manager(http, store),
            retry=RetryPolicy(attempts=attempts, sleep=record_sleep),
        )

    # --- scripting ---------------------------------------------------------------------

    def queue_error(
        self, path: str | None, code: int, message: str | None = None, *, times: int = 1
    ) -> None:
        body = {"error": code, "message": message or f"FakeZalo error {code}"}
        self._push("answer", path, lambda request: httpx.Response(200, json=body), times)

    def queue_response(self, path: str | None, payload: Any, *, times: int = 1) -> None:
        self._push("answer", path, lambda request: httpx.Response(200, json=payload), times)

    def fail_next_http(self, status: int = 500, path: str | None = None, *, times: int = 1) -> None:
        self._push("network", path, lambda request: httpx.Response(status, text="error"), times)

    def fail_next_timeout(self, path: str | None = None, *, times: int = 1) -> None:
        def timeout(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("FakeZalo: timed out", request=request)

        self._push("network", path, timeout, times)

    def inject_faults(
        self,
        rate: float,
        *,
        seed: int = 0,
        kinds: tuple[str, ...] = ("http_500", "timeout", "rate_limit"),
        latency: tuple[float, float] | None = None,
    ) -> None:
        """Fail each message request with probability `rate`; see the module docstring."""
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self._fault_rate, self._fault_kinds = rate, kinds
        self._fault_random = random.Random(seed)
        self._latency = latency
        self._latency_random = random.Random(seed + 1)

    def accept_then_timeout(self, times: int = 1, user_id: str | None = None) -> None:
        self._lose_responses.extend([user_id] * times)

    def interact(self, user_id: str) -> None:
        """The user wrote to the OA: Zalo's 7-day window is open again."""
        self.outside_window.discard(user_id)

    def accepted_per_user(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self.sent_messages:
            counts[message.user_id] = counts.get(message.user_id, 0) + 1
        return counts

    def revoke_access_token(self, oa_id: str | None = None, *, refresh_too: bool = False) -> None:
        """`oa_id`: that OA's token only; `refresh_too`: its refresh token as well (an admin
        must consent again)."""
        if oa_id is not None:
            self._oa_pairs[oa_id][0] = None
            if refresh_too:
                self._oa_pairs[oa_id][1] = None
            return
        self.valid_access_token = None

    def grant_code(self, code: str, code_challenge: str | None = None) -> None:
        self._codes[code] = code_challenge

    def _push(
        self,
        stage: Literal["network", "answer"],
        path: str | None,
        respond: Callable[[httpx.Request], httpx.Response],
        times: int,
    ) -> None:
        self._script.extend(_Scripted(stage, path, respond) for _ in range(times))

    def _scripted(self, stage: str, request: httpx.Request) -> httpx.Response | None:
        for index, entry in enumerate(self._script):
            if entry.stage == stage and entry.path in (None, request.url.path):
                del self._script[index]
                return entry.respond(request)
        return None

    # --- inspecting --------------------------------------------------------------------

    def requests_to(self, path: str) -> list[ZaloRequest]:
        return [r for r in self.requests if r.path == path]

    def sent_texts(self, user_id: str | None = None) -> list[str]:
        return [m.text for m in self.sent_messages if user_id in (None, m.user_id)]

    # --- request handling ----------------------------------------------------------------

    def _record(self, request: httpx.Request) -> ZaloRequest:
        content_type = request.headers.get("content-type", "")
        body_text = request.content.decode("utf-8") if request.content else ""
        json_body = json.loads(body_text) if "json" in content_type and body_text else None
        form = dict(parse_qsl(body_text)) if "form-urlencoded" in content_type else {}
        data = request.url.params.get("data")
        recorded = ZaloRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            json=json_body,
            form=form,
            query=json.loads(data) if data else {},
            oa_id=self._token_owner(request.headers.get("access_token")),
        )
        self.requests.append(recorded)
        return recorded

    def _api_endpoint(
        self, handler: Handler
    ) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
        async def endpoint(request: httpx.Request) -> httpx.Response:
            # Yield like real I/O would, so concurrent callers interleave.
            await anyio.lowlevel.checkpoint()
            recorded = self._record(request)
            if (failure := self._scripted("network", request)) is not None:
                return failure
            token = recorded.headers.get("access_token")
            if recorded.oa_id is None:
                self.rejected_tokens.append(token or "")
                return _envelope_error(-216, "Access token is invalid")
            if self._latency is not None and recorded.path == MESSAGE_CS_PATH:
                await asyncio.sleep(self._latency_random.uniform(*self._latency))
            fault = self._random_fault(request, recorded)
            if isinstance(fault, httpx.Response):
                return fault
            if (answer := self._scripted("answer", request)) is not None:
                return answer
            answer_json = {"error": 0, "message": "Success", **handler(request, recorded)}
            if self._lose_response(recorded, answer_json, lose=fault == "lost_answer"):
                raise httpx.ReadTimeout("FakeZalo: accepted, answer lost", request=request)
            return httpx.Response(200, json=answer_json)

        return endpoint

    def _random_fault(
        self, request: httpx.Request, recorded: ZaloRequest
    ) -> httpx.Response | str | None:
        """The injected failure's answer; "lost_answer" when Zalo is to accept the message
        and the answer be lost; None when this request goes through."""
        if recorded.path != MESSAGE_CS_PATH or not self._fault_rate:
            return None
        if self._fault_random.random() >= self._fault_rate:
            return None
        kind = self._fault_random.choice(self._fault_kinds)
        if kind == "lost_answer":
            return kind
        self.outcomes.append(FakeOutcome(_recipient(recorded), kind))
        if kind == "timeout":
            raise httpx.ReadTimeout("FakeZalo: injected timeout", request=request)
        if kind == "rate_limit":
            self.outcomes[-1] = FakeOutcome(_recipient(recorded), "zalo:-32")
            return _envelope_error(-32, "Your application/OA reached limit call api")
        return httpx.Response(500, text="FakeZalo: injected 500")

    def _lose_response(
        self, recorded: ZaloRequest, answer: dict[str, Any], *, lose: bool = False
    ) -> bool:
        if recorded.path != MESSAGE_CS_PATH or answer.get("error") != 0:
            return False
        user_id = _recipient(recorded)
        if lose and "data" in answer:
            self.outcomes[-1] = FakeOutcome(user_id, "accepted_timeout")
            return True
        for index, wanted in enumerate(self._lose_responses):
            if wanted in (None, user_id):
                del self._lose_responses[index]
                self.outcomes[-1] = FakeOutcome(user_id, "accepted_timeout")
                return True
        return False

    async def _token_endpoint(self, request: httpx.Request) -> httpx.Response:
        await anyio.lowlevel.checkpoint()
        recorded = self._record(request)
        if (failure := self._scripted("network", request)) is not None:
            return failure
        if (answer := self._scripted("answer", request)) is not None:
            return answer
        form = recorded.form
        secret_ok = recorded.headers.get("secret_key") == self.app_secret
        if not secret_ok or form.get("app_id") != self.app_id:
            # Made-up code: the fake only needs the client to see an error here.
            return _token_error(-14002, "FakeZalo: wrong secret_key header or app_id")
        grant = form.get("grant_type")
        if grant == "refresh_token":
            owner = next(
                (oa for oa, pair in self._oa_pairs.items() if pair[1] == form.get("refresh_token")),
                None,
            )
            if owner is not None:
                return self._issue_oa_pair(owner)
            if not form.get("refresh_token") or form["refresh_token"] != self.valid_refresh_token:
                return _token_error(-118, "Invalid grant")
            self.refresh_count += 1
            return self._issue_pair()
        if grant == "authorization_code":
            code = form.get("code", "")
            if code not in self._codes:
                return _token_error(-118, "Invalid grant")
            challenge = self._codes.pop(code)
            if challenge is not None and _s256(form.get("code_verifier", "")) != challenge:
                return _token_error(-118, "Invalid grant: code_verifier does not match")
            return self._issue_pair()
        return _token_error(-14002, f"FakeZalo: unknown grant_type {grant!r}")

    def _issue_pair(self) -> httpx.Response:
        self._issued_pairs += 1
        n = self._issued_pairs
        self.valid_access_token = f"access-{n}"
        self.valid_refresh_token = f"refresh-{n}"
        return httpx.Response(
            200,
            json={
                "access_token": self.valid_access_token,
                "refresh_token": self.valid_refresh_token,
                "expires_in": self.expires_in,
            },
        )

    def _issue_oa_pair(self, oa_id: str) -> httpx.Response:
        self.refresh_count += 1
        self.refreshes_by_oa[oa_id] += 1
        n = self.refreshes_by_oa[oa_id]
        access, refresh = f"access-{oa_id}-{n}", f"refresh-{oa_id}-{n}"
        self._oa_pairs[oa_id] = [access, refresh]
        return httpx.Response(
            200,
            json={"access_token": access, "refresh_token": refresh, "expires_in": self.expires_in},
        )

    def _unexpected(self, request: httpx.Request) -> httpx.Response:
        self.unexpected_requests.append(request)
        raise AssertionError(f"FakeZalo: unexpected request {request.method} {request.url}")

    # --- endpoints -------------------------------------------------------------------------

    def _message_cs(self, request: httpx.Request, recorded: ZaloRequest) -> dict[str, Any]:
        body = recorded.json if isinstance(recorded.json, dict) else {}
        user_id = (body.get("recipient") or {}).get("user_id")
        message = body.get("message") or {}
        text = message.get("text")
        if not isinstance(user_id, str) or not user_id:
            return {"error": -201, "message": "user_id is invalid!"}
        if not isinstance(text, str) or not text:
            return {"error": -201, "message": "text is invalid!"}
        if len(text) > 2000:
            return {"error": -210, "message": "Parameter exceeds allowable limit"}
        refusal = self.recipient_errors.get(user_id)
        if refusal is None and user_id in self.outside_window:
            refusal = -230
        if refusal is not None:
            self.outcomes.append(FakeOutcome(user_id, f"zalo:{refusal}"))
            return {"error": refusal, "message": f"FakeZalo: user refused ({refusal})"}
        payload = (message.get("attachment") or {}).get("payload") or {}
        message_id = f"fake-msg-{next(self._message_ids)}"
        buttons = tuple(payload.get("buttons") or ())
        accepted = FakeMessage(user_id, text, buttons, message_id, body, recorded.oa_id)
        self.sent_messages.append(accepted)
        self.outcomes.append(FakeOutcome(user_id, "accepted"))
        if self.on_accept is not None:
            self.on_accept(accepted)
        return {
            "data": {
                "message_id": message_id,
                "user_id": user_id,
                "sent_time": "1730000000123",
                "quota": {"quota_type": "reply"},
            }
        }

    def _tag_follower(self, request: httpx.Request, recorded: ZaloRequest) -> dict[str, Any]:
        body = recorded.json or {}
        self.tags.setdefault(body["user_id"], set()).add(body["tag_name"])
        return {}

    def _remove_from_tag(self, request: httpx.Request, recorded: ZaloRequest) -> dict[str, Any]:
        body = recorded.json or {}
        self.tags.get(body["user_id"], set()).discard(body["tag_name"])
        return {}

    def _user_list(self, request: httpx.Request, recorded: ZaloRequest) -> dict[str, Any]:
        query = recorded.query
        offset, count = int(query.get("offset", 0)), int(query.get("count", 0))
        if not 0 < count <= 50:
            return {"error": -201, "message": "count is invalid!"}
        tag = query.get("tag_name")
        users = [u for u in self.followers if tag is None or tag in self.tags.get(u, set())]
        page = users[offset : offset + count]
        return {
            "data": {
                "total": len(users),
                "count": len(page),
                "offset": offset,
                "users": [{"user_id": u} for u in page],
            }
        }

    def _user_detail(self, request: httpx.Request, recorded: ZaloRequest) -> dict[str, Any]:
        user_id = str(recorded.query.get("user_id", ""))
        return {
            "data": {
                "user_id": user_id,
                "user_id_by_app": f"app-{user_id}",
                "display_name": self.display_names.get(user_id, f"User {user_id}"),
                "user_alias": self.display_names.get(user_id, f"User {user_id}"),
                "is_sensitive": False,
                "user_last_interaction_date": "30/10/2026",
                "user_is_follower": user_id in self.followers,
                "avatar": f"https://avatar.zalo.test/{user_id}.jpg",
                "tags_and_notes_info": {
                    "notes": [],
                    "tag_names": sorted(self.tags.get(user_id, ())),
                },
            }
        }


def _envelope_error(code: int, message: str) -> httpx.Response:
    return httpx.Response(200, json={"error": code, "message": message})


def _token_error(code: int, name: str) -> httpx.Response:
    return httpx.Response(
        200, json={"error": code, "error_name": name, "error_reason": name, "ref_doc": ""}
    )


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _recipient(recorded: ZaloRequest) -> str | None:
    body = recorded.json if isinstance(recorded.json, dict) else {}
    user_id = (body.get("recipient") or {}).get("user_id")
    return user_id if isinstance(user_id, str) else None
