"""Webhook throughput: signed Zalo events per second on one uvicorn worker, next to a bare
FastAPI endpoint measured in the same run the same way, and the ratio between them.

    .venv/bin/python bench/bench_webhook.py [--seconds 8] [--concurrency 32]

Both servers run under uvicorn on loopback in their own process; the load loop (httpx,
`concurrency` requests in flight for a fixed time) runs in this one. The wardbot server runs
in simulator mode on a fresh SQLite file, so each event is verified, recorded (unique
msg_id), queued and then answered in the background of the same process, as in production,
without calling Zalo.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.webhook import APP_ID, OA_SECRET, encode, text_event  # noqa: E402
from webhooks.signature import SIGNATURE_HEADER, signature_header  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_bare(port: int) -> None:
    import uvicorn

    app = FastAPI()

    @app.post("/webhooks/zalo")
    async def bare(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"status": "accepted"})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def serve_wardbot(port: int, database: str, ack_only: bool) -> None:
    import uvicorn

    from app.config import Settings
    from app.jobs.tasks import EventQueue
    from app.main import create_app

    if ack_only:
        # Isolates the webhook path: events are verified and recorded but left for the next
        # start instead of being answered in this process (as a separate worker would).
        EventQueue.put = lambda self, item: None  # type: ignore[method-assign]

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{database}",
        procedures_path=ROOT / "procedures.yaml",
        intents_path=ROOT / "intents",
        zalo_app_id=APP_ID,
        zalo_oa_secret_key=OA_SECRET,
        run_worker=False,
        webhook_max_age_minutes=0,
        resident_messages_per_minute=1_000_000,
    )
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def _start(kind: str, port: int, database: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port), "--database", database],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{url}/webhooks/zalo", content=b"{}", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def _requests(count: int, prefix: str) -> list[tuple[bytes, dict[str, str]]]:
    prepared = []
    for i in range(count):
        payload = text_event(
            f"{prefix}-user-{i % 500}", "thủ tục đăng ký khai sinh", f"{prefix}-{i}"
        )
        body = encode(payload)
        header = signature_header(APP_ID, body, str(payload["timestamp"]), OA_SECRET)
        prepared.append((body, {"Content-Type": "application/json", SIGNATURE_HEADER: header}))
    return prepared


async def _load(url: str, seconds: float, concurrency: int, prefix: str) -> tuple[float, int]:
    prepared = _requests(200_000, prefix)
    position = 0
    done = errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal position, done, errors
            while time.perf_counter() < deadline:
                body, headers = prepared[position]
                position += 1
                response = await client.post("/webhooks/zalo", content=body, headers=headers)
                if response.status_code == 200:
                    done += 1
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return done / elapsed, errors


def measure(kind: str, seconds: float, concurrency: int) -> tuple[float, int]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = _start(kind, port, str(Path(tmp) / "bench.db"))
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_up(url)
            asyncio.run(_load(url, 1.0, concurrency, f"{kind}-warmup"))
            return asyncio.run(_load(url, seconds, concurrency, kind))
        finally:
            process.terminate()
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", choices=["bare", "wardbot", "wardbot-ack-only"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    if args.serve == "bare":
        serve_bare(args.port)
        return
    if args.serve in ("wardbot", "wardbot-ack-only"):
        serve_wardbot(args.port, args.database, ack_only=args.serve == "wardbot-ack-only")
        return
    bare, bare_errors = measure("bare", args.seconds, args.concurrency)
    full, full_errors = measure("wardbot", args.seconds, args.concurrency)
    ack, ack_errors = measure("wardbot-ack-only", args.seconds, args.concurrency)
    print(f"bare FastAPI endpoint            : {bare:7.0f} req/s  ({bare_errors} non-200)")
    print(f"wardbot, answering in-process    : {full:7.0f} req/s  ({full_errors} non-200)")
    print(f"wardbot, webhook path only       : {ack:7.0f} req/s  ({ack_errors} non-200)")
    print(f"ratio, answering in-process      : {full / bare:7.0%}  (aim: at least 60%)")
    print(f"ratio, webhook path only         : {ack / bare:7.0%}")


if __name__ == "__main__":
    main()
