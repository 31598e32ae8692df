"""FakeZalo as a real HTTP server on loopback, for tests that run the service in other processes.

The server is a small ASGI app that hands each request to a `FakeZalo`'s router (the same
model of Zalo the in-process tests use), run by uvicorn in a thread of the test process, so
the test reads `fake.sent_messages`, `fake.requests_to(...)` etc. directly::

    with FakeZaloServer() as server:
        env = server.environment()   # ZALO_API_BASE_URL / ZALO_OAUTH_BASE_URL / tokens
        ...
        server.fake.sent_texts("u1")
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from tests.support.fake_zalo import TOKEN_PATH, FakeZalo

Scope = dict[str, Any]
Receive = Any
Send = Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FakeZaloServer:
    def __init__(self, *, app_id: str, token_delay_seconds: float = 0.0) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.fake = FakeZalo(
            api_base_url=f"{self.base_url}/api",
            oauth_base_url=f"{self.base_url}/oauth",
            app_id=app_id,
        )
        self.token_delay_seconds = token_delay_seconds
        """A slow token endpoint widens the window in which two refreshes could overlap."""
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
        # The fake's bookkeeping is not thread-safe; uvicorn runs it on one loop anyway.
        async with self._lock:
            try:
                response = await self.fake.router.async_handler(request)
            except AssertionError as exc:
                response = httpx.Response(404, text=str(exc))
        payload = response.content
        headers = [(b"content-type", response.headers.get("content-type", "").encode())]
        headers.append((b"content-length", str(len(payload)).encode()))
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": payload})
