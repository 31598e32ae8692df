"""FakeZalo as a real HTTP server on loopback, for tests that run the service in other processes.

The server is a small ASGI app that hands each request to a `FakeZalo`'s router (the same
model of Zalo the in-process tests use), run by uvicorn in a thread of the test process, so
the test reads `fake.sent_messages`, `fake.requests_to(...)` etc. directly::

    with FakeZaloServer() as server:
        env = server.environment()   # ZALO_API_BASE_URL / ZALO_OAUTH_BASE_URL / tokens
        ...
        server.fake.sent_texts("u1")

For a benchmark (bench/bench_province.py) the server can also play Zalo's app-wide request
limit: `limit_per_minute` requests to the OA API per fixed minute of the wall clock ("reset
every minute", reference §7), answered -32 beyond; `on_answer` is told of every API request
(arrival time, path, recipient of a message, Zalo's error code); `keep_history=False` stops
the fake from keeping every request and message (tens of thousands in a benchmark);
`latency_seconds` delays every API answer.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from tests.support.fake_zalo import MESSAGE_CS_PATH, TOKEN_PATH, FakeZalo

Scope = dict[str, Any]
Receive = Any
Send = Any

AnswerHook = Callable[[float, str, "str | None", int], None]
"""(arrival time in Unix seconds, path under the API base, message recipient, Zalo's error)."""
RATE_LIMITED = {"error": -32, "message": "Your application/OA reached limit call api"}
"""Zalo's answer over the app's limit (reference §3 error table, §7), with HTTP 200."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FakeZaloServer:
    def __init__(
        self,
        *,
        app_id: str,
        token_delay_seconds: float = 0.0,
        limit_per_minute: int | None = None,
        on_answer: AnswerHook | None = None,
        keep_history: bool = True,
        latency_seconds: float = 0.0,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.fake = FakeZalo(
            api_base_url=f"{self.base_url}/api",
            oauth_base_url=f"{self.base_url}/oauth",
            app_id=app_id,
        )
        self.token_delay_seconds = token_delay_seconds
        """A slow token endpoint widens the window in which two refreshes could overlap."""
        self.limit_per_minute = limit_per_minute
        self.requests_per_minute: Counter[int] = Counter()
        """API requests received in each fixed minute (Unix time // 60), -32 ones included."""
        self.rate_limited = 0
        self.on_answer = on_answer
        self.keep_history = keep_history
        self.latency_seconds = latency_seconds
        """How long each API answer takes (Zalo is across the internet)."""
        self._lock = asyncio.Lock()
        self._server = uvicorn.Server(
            uvicorn.Config(
                self._app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                interface="asgi3",
                lifespan="off",
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="fake-zalo", daemon=True)

    def environment(self) -> dict[str, str]:
        pair = self.fake.current_pair()
        return {
            "ZALO_API_BASE_URL": self.fake.api_base_url,
            "ZALO_OAUTH_BASE_URL": self.fake.oauth_base_url,
            "ZALO_APP_ID": self.fake.app_id,
            "ZALO_APP_SECRET": self.fake.app_secret,
            "ZALO_ACCESS_TOKEN": pair.access_token,
            "ZALO_REFRESH_TOKEN": pair.refresh_token,
        }

    def __enter__(self) -> FakeZaloServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Zalo server did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = scope.get("query_string", b"").decode()
        url = f"{self.base_url}{scope['path']}" + (f"?{query}" if query else "")
        request = httpx.Request(
            scope["method"],
            url,
            headers=[(k.decode(), v.decode()) for k, v in scope["headers"]],
            content=body,
        )
        if scope["path"].endswith(TOKEN_PATH) and self.token_delay_seconds:
            await asyncio.sleep(self.token_delay_seconds)
        response = await self._answer(request, str(scope["path"]), body)
        payload = response.content
        headers = [(b"content-type", response.headers.get("content-type", "").encode())]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": payload})

    async def _answer(self, request: httpx.Request, path: str, body: bytes) -> httpx.Response:
        arrived = time.time()
        api = request.url.host == httpx.URL(self.fake.api_base_url).host and path.startswith(
            httpx.URL(self.fake.api_base_url).path
        )
        if api and self.limit_per_minute is not None:
            minute = int(arrived // 60)
            self.requests_per_minute[minute] += 1
            if self.requests_per_minute[minute] > self.limit_per_minute:
                self.rate_limited += 1
                response = httpx.Response(200, json=RATE_LIMITED)
                self._tell(arrived, path, body, response)
                return response
        if api and self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        # The fake's bookkeeping is not thread-safe; uvicorn runs it on one loop anyway.
        async with self._lock:
            try:
                response = await self.fake.router.async_handler(request)
            except AssertionError as exc:
                response = httpx.Response(404, text=str(exc))
            if not self.keep_history:
                self.fake.requests.clear()
                self.fake.sent_messages.clear()
                self.fake.outcomes.clear()
        if api:
            self._tell(arrived, path, body, response)
        return response

    def _tell(self, arrived: float, path: str, body: bytes, response: httpx.Response) -> None:
        if self.on_answer is None:
            return
        api_path = path[len(httpx.URL(self.fake.api_base_url).path) :]
        recipient = None
        if api_path == MESSAGE_CS_PATH and body:
            recipient = (json.loads(body).get("recipient") or {}).get("user_id")
        try:
            code = int(response.json().get("error", 0))
        except ValueError:
            code = response.status_code  # not Zalo's envelope (e.g. a 404 for a wrong path)
        self.on_answer(arrived, api_path, recipient, code)
