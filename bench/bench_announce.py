"""Fan one announcement out to 10,000 residents against a local fake Zalo; print the pacing.

    .venv/bin/python bench/bench_announce.py [--recipients 10000] [--rate 200] [--latency-ms 30]

The fake Zalo is a small HTTP server on 127.0.0.1 in a child process (so it does not share the
worker's CPU), answering `/v3.0/oa/message/cs` like Zalo after `--latency-ms`. The worker is the
production one: SQLite under a temporary directory, the real `ZaloClient` over real sockets, the
token bucket at `--rate`. Printed: the achieved rate as a share of the configured one (over the
whole run, and in the steady middle 80%), how many messages Zalo received, the worker's CPU use,
and peak memory (the process's peak RSS before and after the fan-out). `--tracemalloc` adds the
peak of Python allocations, but tracing slows the worker about threefold, so the rate printed
in that mode is not the worker's. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.announcements.delivery import AnnouncementWorker, DeliveryPolicy, TokenBucket  # noqa: E402
from app.outbox import Outbox  # noqa: E402
from app.storage.announcements import (  # noqa: E402
    AnnouncementDraft,
    announcement_status,
    create_announcement,
)
from app.storage.database import Database  # noqa: E402
from app.storage.groups import import_memberships  # noqa: E402
from app.zalo.client import RetryPolicy, ZaloClient  # noqa: E402
from app.zalo.tokens import MemoryTokenStore, TokenManager, TokenPair  # noqa: E402

OA = "bench-oa"
TOKEN = "bench-access-token"
TEXT = (
    "Thông báo: từ 8h00 đến 11h00 sáng thứ Ba, phường cắt nước để sửa đường ống trên đường "
    "Nguyễn Trãi. Bà con chủ động dự trữ nước. Xin cảm ơn."
)


# --- the fake Zalo, in its own process ---------------------------------------------------------


def serve_fake_zalo(sock: socket.socket, latency: float, pipe: Connection) -> None:
    import uvicorn

    received: list[float] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/stats":
            answer: dict[str, Any] = {"times": received}
        else:
            await asyncio.sleep(latency)
            user_id = json.loads(body)["recipient"]["user_id"]
            received.append(time.monotonic())
            answer = {
                "error": 0,
                "message": "Success",
                "data": {"message_id": f"m{len(received)}", "user_id": user_id},
            }
        payload = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    pipe.send("ready")
    server.run(sockets=[sock])


# --- the worker side ---------------------------------------------------------------------------


def prepare(db: Database, recipients: int) -> tuple[int, float]:
    now = datetime.now(UTC)
    members = ((f"resident-{i:05d}", f"tdp-{i % 12 + 1}") for i in range(recipients))
    import_memberships(db, OA, members, now)
    started = time.perf_counter()
    draft = AnnouncementDraft(
        oa_id=OA, text=TEXT, group_ids=tuple(f"tdp-{i}" for i in range(1, 13))
    )
    announcement_id = create_announcement(db, draft, now)
    return announcement_id, time.perf_counter() - started


async def fan_out(db: Database, base_url: str, rate: float, announcement_id: int) -> float:
    async with httpx.AsyncClient(timeout=10) as http:
        tokens = TokenManager(MemoryTokenStore(TokenPair(TOKEN, "unused")), _NoRefresh())
        client = ZaloClient(
            http, api_base_url=base_url, tokens=tokens, retry=RetryPolicy(attempts=1)
        )
        worker = AnnouncementWorker(
            db,
            Outbox(db, client),
            limiter=TokenBucket(rate),
            policy=DeliveryPolicy(quiet_hours=None),  # the bench may run at night
            concurrency=min(32, max(2, int(rate / 2))),
        )
        started = time.perf_counter()
        while True:
            await worker.run_once()
            status = announcement_status(db, announcement_id)
            assert status is not None
            if status.done:
                return time.perf_counter() - started
            await asyncio.sleep(0.05)


class _NoRefresh:
    async def refresh(self, refresh_token: str) -> TokenPair:
        raise RuntimeError("the fake Zalo never rejects the token")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="messages per second")
    parser.add_argument("--latency-ms", type=float, default=30.0, help="fake Zalo answer delay")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations (slow)"
    )
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve_fake_zalo, args=(sock, args.latency_ms / 1000, child), daemon=True
    )
    server.start()
    parent.recv()
    base_url = f"http://127.0.0.1:{port}"
    _wait_for(base_url)

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.create_schema()
        announcement_id, create_seconds = prepare(db, args.recipients)
        rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.tracemalloc:
            tracemalloc.start()
        cpu_before = time.process_time()
        elapsed = asyncio.run(fan_out(db, base_url, args.rate, announcement_id))
        cpu_seconds = time.process_time() - cpu_before
        traced_peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
        tracemalloc.stop()
        status = announcement_status(db, announcement_id)
        db.close()

    times = sorted(httpx.get(f"{base_url}/stats").json()["times"])
    server.terminate()
    server.join()
    assert status is not None
    sent = status.as_json()["sent"]
    whole = len(times) / elapsed
    low, high = times[len(times) // 10], times[len(times) * 9 // 10]
    steady = (len(times) * 9 // 10 - len(times) // 10) / (high - low)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"recipients            {args.recipients}")
    print(f"create announcement   {create_seconds * 1000:.0f} ms (one row per recipient)")
    print(
        f"configured rate       {args.rate:.1f} msg/s (fake Zalo latency {args.latency_ms:.0f} ms)"
    )
    print(f"fan-out time          {elapsed:.1f} s")
    print(f"Zalo received         {len(times)} messages; report says sent={sent}")
    print(f"achieved, whole run   {whole:.1f} msg/s = {whole / args.rate:.1%} of configured")
    print(f"achieved, middle 80%  {steady:.1f} msg/s = {steady / args.rate:.1%} of configured")
    print(f"worker CPU            {cpu_seconds / elapsed:.0%} of one core during the fan-out")
    print(
        f"peak RSS              {rss_before_mb:.1f} MiB before the fan-out, {peak_rss_mb:.1f} after"
    )
    if traced_peak is not None:
        print(f"peak traced memory    {traced_peak / 1024 / 1024:.1f} MiB of Python objects")
        print("                      (tracing slows the worker: the rates above are not its own)")


def _wait_for(base_url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(f"{base_url}/stats", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the fake Zalo did not start")


if __name__ == "__main__":
    main()
