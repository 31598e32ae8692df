"""Two real server processes on one PostgreSQL database and one fake Zalo (a real HTTP server).

Proves what several workers or hosts rely on: a message delivered to both processes (Zalo
retries) is answered once, an expired token is refreshed once between them, and an
announcement reaches each recipient once although both processes run the delivery worker.
Runs only against PostgreSQL (WARDBOT_TEST_DATABASE_URL, as `make unit-pg` sets it).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.storage.database import Database
from app.storage.events import list_events
from app.storage.tables import EventStatus
from app.storage.tokens import DatabaseTokenStore
from app.zalo.tokens import TokenPair
from tests.support.databases import postgres
from tests.support.fake_zalo import MESSAGE_CS_PATH, TOKEN_PATH
from tests.support.fake_zalo_server import FakeZaloServer, free_port
from tests.support.webhook import APP_ID, OA_ID, OA_SECRET, encode, follow_event, text_event
from webhooks.signature import SIGNATURE_HEADER, signature_header

ROOT = Path(__file__).resolve().parents[1]
API_TOKEN = "two-process-api-token"

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres() is None,
        reason="needs PostgreSQL: set WARDBOT_TEST_DATABASE_URL (`make unit-pg` does)",
    ),
]


class Server:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / f"server-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "app",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)


@pytest.fixture
def zalo() -> Iterator[FakeZaloServer]:
    with FakeZaloServer(app_id=APP_ID, token_delay_seconds=1.0) as server:
        yield server


@pytest.fixture
def database_url() -> str:
    pg = postgres()
    assert pg is not None
    # Unmigrated: both processes start together and must not both migrate.
    return pg.create(migrated=False)


@pytest.fixture
def servers(
    tmp_path: Path, zalo: FakeZaloServer, database_url: str
) -> Iterator[tuple[Server, Server]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WARDBOT_", "ZALO_", "DATABASE_URL"))
    }
    env.update(zalo.environment())
    env.update(
        DATABASE_URL=database_url,
        ZALO_OA_SECRET_KEY=OA_SECRET,
        ZALO_OA_ID=OA_ID,
        WARDBOT_API_TOKEN=API_TOKEN,
        WARDBOT_PROCEDURES=str(ROOT / "procedures.yaml"),
        WARDBOT_INTENTS=str(ROOT / "intents"),
        WARDBOT_TOKEN_REFRESH_INTERVAL="0.3",
        WARDBOT_SEND_RATE="50",
    )
    pair = (Server(env, tmp_path), Server(env, tmp_path))
    try:
        deadline = time.monotonic() + 60
        for server in pair:
            server.wait_ready(deadline)
        yield pair
    finally:
        # Graceful shutdown: uvicorn drains, the lifespan stops the workers, and the process
        # ends with SIGTERM's status (uvicorn re-raises the signal) or 0.
        codes = [server.stop() for server in pair]
        logs = [server.log.read_text() for server in pair]
        assert all(code in (0, -signal.SIGTERM) for code in codes), (codes, logs)
        assert all("Application shutdown complete" in log for log in logs), logs
        assert not any('"level": "error"' in log for log in logs), logs


def _fresh(payload: dict[str, Any]) -> dict[str, Any]:
    """Stamp an event with the current time, inside the servers' default replay window."""
    return {**payload, "timestamp": str(int(time.time() * 1000))}


async def _post(http: httpx.AsyncClient, server: Server, payload: dict[str, Any]) -> None:
    body = encode(payload)
    signature = signature_header(APP_ID, body, str(payload["timestamp"]), OA_SECRET)
    response = await http.post(
        f"{server.url}/webhooks/zalo",
        content=body,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
    )
    assert response.status_code == 200, response.text


def _wait_handled(db: Database, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = list_events(db)
        if len(events) >= count and all(
            e.status in (EventStatus.done, EventStatus.ignored) for e in events
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"events not handled: {Counter(e.status for e in list_events(db))}")


async def test_two_processes_share_one_database(
    servers: tuple[Server, Server], zalo: FakeZaloServer, database_url: str
) -> None:
    a, b = servers
    fake = zalo.fake
    db = Database(database_url)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            # 1. Each message delivered three times, spread over both processes, at once.
            users = [f"resident-{i}" for i in range(20)]
            events = [_fresh(text_event(user, "xin chào")) for user in users]
            await asyncio.gather(*(_post(http, server, e) for e in events for server in (a, b, b)))
            _wait_handled(db, len(users))
            replies = {user: fake.sent_texts(user) for user in users}
            assert len(list_events(db)) == len(users)
            assert replies[users[0]], "no reply at all"
            assert all(texts == replies[users[0]] for texts in replies.values()), replies

            # 2. Both processes see an expired token at once: one refresh between them.
            assert fake.refresh_count == 0
            token = fake.current_pair()
            expired = datetime.now(UTC) - timedelta(minutes=1)
            DatabaseTokenStore(db, OA_ID).save(
                TokenPair(token.access_token, token.refresh_token, expired)
            )
            await asyncio.sleep(3)  # several refresher ticks in each process
            assert len(fake.requests_to("/oauth" + TOKEN_PATH)) == 1
            assert fake.refresh_count == 1
            stored = DatabaseTokenStore(db, OA_ID).load()
            assert stored is not None and stored.access_token == fake.valid_access_token
            before = len(fake.requests_to("/api" + MESSAGE_CS_PATH))
            await _post(http, a, _fresh(text_event("after-refresh-a", "xin chào")))
            await _post(http, b, _fresh(text_event("after-refresh-b", "xin chào")))
            _wait_handled(db, len(users) + 2)
            used = {
                r.headers.get("access_token")
                for r in fake.requests_to("/api" + MESSAGE_CS_PATH)[before:]
            }
            assert used == {fake.valid_access_token}
            for server in servers:
                ready = (await http.get(f"{server.url}/readyz")).json()
                assert ready["status"] == "ready", ready

            # 3. An announcement to every follower, with the worker running in both.
            followers = [f"follower-{i}" for i in range(30)]
            await asyncio.gather(
                *(
                    _post(http, (a, b)[i % 2], _fresh(follow_event(user)))
                    for i, user in enumerate(followers)
                )
            )
            _wait_handled(db, len(users) + 2 + len(followers))
            notice = "Thông báo: cắt nước ngày mai từ 8 giờ đến 11 giờ."
            created = await http.post(
                f"{a.url}/api/announcements",
                json={"text": notice, "all": True, "urgent": True},
                headers={"Authorization": f"Bearer {API_TOKEN}"},
            )
            assert created.status_code == 201, created.text
            announcement_id = created.json()["id"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status = (
                    await http.get(
                        f"{b.url}/api/announcements/{announcement_id}",
                        headers={"Authorization": f"Bearer {API_TOKEN}"},
                    )
                ).json()
                if status.get("done"):
                    break
                await asyncio.sleep(0.2)
            received = Counter(m.user_id for m in fake.sent_messages if notice in m.text)
            assert received == dict.fromkeys(followers, 1), (received, status)
    finally:
        db.close()
