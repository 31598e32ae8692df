"""The split deployment as real processes: `wardbot serve` with WARDBOT_RUN_WORKER=false only
records webhook events, `wardbot worker` processes answer them, on one database (SQLite, or
PostgreSQL when WARDBOT_TEST_DATABASE_URL is set) and one fake Zalo (a real HTTP server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.storage.database import Database
from app.storage.events import list_events
from app.storage.tables import EventStatus
from tests.support.databases import database_url
from tests.support.fake_zalo_server import FakeZaloServer, free_port
from tests.support.webhook import APP_ID, OA_ID, OA_SECRET, encode, text_event
from webhooks.signature import SIGNATURE_HEADER, signature_header

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


class Process:
    """`python -m app <args>` with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, name: str) -> None:
        self.log = cwd / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", *args],
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.log.name} exited: {self.output()[-3000:]}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[dict[str, str], FakeZaloServer]]:
    with FakeZaloServer(app_id=APP_ID) as zalo:
        values = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("WARDBOT_", "ZALO_", "DATABASE_URL"))
        }
        values.update(zalo.environment())
        values.update(
            DATABASE_URL=database_url(tmp_path),
            ZALO_OA_SECRET_KEY=OA_SECRET,
            ZALO_OA_ID=OA_ID,
            WARDBOT_PROCEDURES=str(ROOT / "procedures.yaml"),
            WARDBOT_INTENTS=str(ROOT / "intents"),
            WARDBOT_INBOX_POLL_SECONDS="0.2",
        )
        yield values, zalo


def _serve(env: dict[str, str], cwd: Path) -> tuple[Process, str]:
    port = free_port()
    server = Process(
        ["serve", "--host", "127.0.0.1", "--port", str(port)],
        {**env, "WARDBOT_RUN_WORKER": "false"},
        cwd,
        "serve",
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        server.alive()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not start: {server.output()[-3000:]}")


def _post(url: str, payload: dict[str, Any]) -> None:
    payload = {**payload, "timestamp": str(int(time.time() * 1000))}
    body = encode(payload)
    signature = signature_header(APP_ID, body, str(payload["timestamp"]), OA_SECRET)
    response = httpx.post(
        f"{url}/webhooks/zalo",
        content=body,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def _statuses(db: Database) -> Counter[EventStatus]:
    return Counter(e.status for e in list_events(db))


def _wait_handled(db: Database, workers: list[Process], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            worker.alive()
        if set(_statuses(db)) == {EventStatus.done}:
            return
        time.sleep(0.1)
    raise AssertionError(f"events not handled: {_statuses(db)}")


def _wait_logged(process: Process, line: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while line not in process.output():
        process.alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"{line!r} never logged: {process.output()[-3000:]}")
        time.sleep(0.1)


def _stopped_cleanly(process: Process, *ends_with: str) -> None:
    code = process.stop()
    log = process.output()
    assert code in (0, -signal.SIGTERM), (code, log[-3000:])
    assert '"level": "error"' not in log, log[-3000:]
    for line in ends_with:
        assert line in log, log[-3000:]


def test_an_ingest_only_server_and_worker_processes(
    tmp_path: Path, env: tuple[dict[str, str], FakeZaloServer]
) -> None:
    values, zalo = env
    fake = zalo.fake
    server, url = _serve(values, tmp_path)
    db = Database(values["DATABASE_URL"])
    try:
        # 1. The web process records (each message delivered twice) and answers nothing.
        users = [f"resident-{i}" for i in range(8)]
        for user in users:
            event = text_event(user, "chứng thực bản sao")
            _post(url, event)
            _post(url, event)
        assert _statuses(db) == {EventStatus.received: len(users)}
        assert fake.sent_messages == []

        # 2. A worker answers every one of them, once.
        worker = Process(["worker"], values, tmp_path, "worker-1")
        _wait_handled(db, [worker])
        answers = {user: fake.sent_texts(user) for user in users}
        assert answers[users[0]], "no answer at all"
        assert all(texts == answers[users[0]] for texts in answers.values()), answers
        _stopped_cleanly(worker, "wardbot worker stopped")

        # 3. Messages arriving with no worker wait; two workers starting together answer
        #    each once.
        late = [f"late-{i}" for i in range(6)]
        for user in late:
            _post(url, text_event(user, "chứng thực bản sao"))
        assert _statuses(db)[EventStatus.received] == len(late)
        workers = [Process(["worker"], values, tmp_path, f"worker-{i}") for i in (2, 3)]
        _wait_handled(db, workers)
        assert {user: fake.sent_texts(user) for user in late} == dict.fromkeys(
            late, answers[users[0]]
        )
        for worker in workers:
            # One worker may have answered everything before the other finished starting.
            _wait_logged(worker, "wardbot worker ready")
            _stopped_cleanly(worker, "wardbot worker ready", "wardbot worker stopped")
    finally:
        db.close()
        _stopped_cleanly(server, "Application shutdown complete")
