"""Replies first under the app's request budget: an announcement fan-out while residents ask.

    .venv/bin/python bench/bench_rate_budget.py [--recipients 1000] [--limit 200] [--speed 4]
        [--processes 2] [--questions-per-minute 30] [--database-url URL]

Runs `--processes` copies of the service's background work (each built by
`app.main.build_services` on its own database handle, as separate worker processes would be)
in one event loop, against a fake Zalo (an `httpx.MockTransport`) that allows `--limit`
requests a minute for the whole app and answers -32 beyond, in fixed minutes like Zalo's
("reset every minute"). One urgent announcement goes to `--recipients` residents while new
residents ask questions (`--questions-per-minute`, app time); each question goes to one of
the processes the way the webhook hands it over (`Services.intake.accept`).

Scaled: the default is Zalo's 4,000 requests a minute and a 20,000-recipient announcement
divided by 20 (200 a minute, 1,000 recipients: about five minutes of saturated budget, as at
full scale), with time running `--speed` times faster than the wall clock for the budget and
the fake Zalo. Scaled down because the service's own work (several commits per delivery)
cannot send 4,000 a minute from one event loop on a small machine: then the budget would not
be what limits the fan-out. `--limit 4000 --recipients 20000 --speed 1` runs full scale.

Printed: reply latency p50/p99/max from the webhook hand-over to the reply's send request
reaching Zalo (wall clock, and app time = wall x speed, which overstates the service's own
processing `--speed` times); how long replies and announcement sends waited for the budget
(app time); requests a minute Zalo received (each full fixed minute, and the busiest 60 s
anywhere); the -32 answers; how far the fan-out got. Asserts nothing. `--zalo-limit` below
`--limit` makes the fake Zalo stricter than the budget, to show the shared back-off at work.

SQLite under a temporary directory by default; `--database-url` names an empty PostgreSQL
database to use instead (e.g. postgresql+psycopg://wardbot:wardbot@127.0.0.1:5432/NAME).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings  # noqa: E402
from app.jobs.background import Background  # noqa: E402
from app.main import build_services  # noqa: E402
from app.services import Services  # noqa: E402
from app.storage.announcements import (  # noqa: E402
    AnnouncementDraft,
    announcement_status,
    create_announcement,
)
from app.storage.budget import budget_state  # noqa: E402
from app.storage.database import Database  # noqa: E402
from app.storage.groups import import_memberships  # noqa: E402
from app.zalo.budget import Priority, RateBudget  # noqa: E402
from bench.workload import ANNOUNCEMENT, QUESTIONS  # noqa: E402
from tests.support.webhook import APP_ID, OA_ID, OA_SECRET, text_event  # noqa: E402
from webhooks.events import stored_message  # noqa: E402

API_BASE_URL = "https://zalo.bench"
OAUTH_BASE_URL = "https://oauth.zalo.bench"
MESSAGE_PATH = "/v3.0/oa/message/cs"


@dataclass
class FastTime:
    """Unix time running `speed` times faster than the wall clock, from now on."""

    speed: float
    start_wall: float = field(default_factory=time.perf_counter)
    start_unix: float = field(default_factory=time.time)

    def clock(self) -> float:
        return self.start_unix + (time.perf_counter() - self.start_wall) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


@dataclass
class RateLimitedZalo:
    """Zalo's OA API as far as this benchmark needs it: `limit` requests per fixed minute
    of app time for the whole app, -32 beyond; `latency` seconds (app time) per answer."""

    time: FastTime
    limit: int
    latency: float
    per_minute: Counter[int] = field(default_factory=Counter)
    accepted: list[float] = field(default_factory=list)
    """App time of every request Zalo accepted."""
    rate_limited: int = 0
    first_request: dict[str, float] = field(default_factory=dict)
    """Wall time of the first message request to each user."""
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def handle(self, request: httpx.Request) -> httpx.Response:
        wall, now = time.perf_counter(), self.time.clock()
        if request.url.host != httpx.URL(API_BASE_URL).host:
            return httpx.Response(404)
        minute = int(now // 60)
        self.per_minute[minute] += 1
        if self.per_minute[minute] > self.limit:
            self.rate_limited += 1
            return _envelope(-32, "Your application/OA reached limit call api")
        self.accepted.append(now)
        data: dict[str, Any] = {}
        if request.url.path == MESSAGE_PATH:
            user_id = json.loads(request.content)["recipient"]["user_id"]
            self.first_request.setdefault(user_id, wall)
            data = {"message_id": f"bench-{next(self.ids)}", "user_id": user_id}
        await self.time.sleep(self.latency)
        return httpx.Response(200, json={"error": 0, "message": "Success", "data": data})


def _envelope(code: int, message: str) -> httpx.Response:
    return httpx.Response(200, json={"error": code, "message": message})


def settings_for(database_url: str, limit: int) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "procedures_path": ROOT / "procedures.yaml",
        "intents_path": ROOT / "intents",
        "zalo_app_id": APP_ID,
        "zalo_oa_id": OA_ID,
        "zalo_app_secret": "bench-app-secret",
        "zalo_oa_secret_key": OA_SECRET,
        "zalo_access_token": "bench-access-token",
        "zalo_refresh_token": "bench-refresh-token",
        "zalo_api_base_url": API_BASE_URL,
        "zalo_oauth_base_url": OAUTH_BASE_URL,
        "app_rate_per_minute": limit,
        "webhook_max_age_minutes": 0,
        "catalogue_poll_seconds": 0,
        "catalogue_watch_files": False,
        "token_refresh_interval_seconds": 3600,
    }
    return Settings(_env_file=None, **values)


def prepare(database_url: str, recipients: int) -> int:
    """The members and one urgent announcement to all of them (urgent: the quiet hours do
    not stop it, whatever time the benchmark runs)."""
    db = Database(database_url)
    db.create_schema()
    now = datetime.now(UTC)
    members = ((f"member-{i:06d}", f"tdp-{i % 12 + 1}") for i in range(recipients))
    import_memberships(db, OA_ID, members, now)
    draft = AnnouncementDraft(
        oa_id=OA_ID,
        text=ANNOUNCEMENT,
        group_ids=tuple(f"tdp-{i}" for i in range(1, 13)),
        urgent=True,
    )
    announcement_id = create_announcement(db, draft, now)
    db.close()
    return announcement_id


async def ask_questions(
    processes: list[Services], fast: FastTime, per_minute: float, stop: asyncio.Event
) -> dict[str, float]:
    """New residents ask, at random moments (app time); returns each asker's hand-over time."""
    asked: dict[str, float] = {}
    rng = random.Random(7)
    for n in itertools.count():
        if stop.is_set():
            break
        await fast.sleep(rng.expovariate(per_minute / 60))
        user_id = f"asker-{n:05d}"
        msg_id = f"bench-msg-{n}"
        payload = json.dumps(text_event(user_id, QUESTIONS[n % len(QUESTIONS)], msg_id))
        asked[user_id] = time.perf_counter()
        await processes[n % len(processes)].intake.accept(
            oa_id=OA_ID,
            event_key=msg_id,
            event_name="user_send_text",
            user_id=user_id,
            payload=payload,
            message=stored_message("user_send_text", payload),
        )
    return asked


def time_the_budget(fast: FastTime) -> dict[Priority, list[float]]:
    """Record how long each acquisition of the budget waits (app seconds), by priority.
    Instrumentation for this benchmark only: it wraps `RateBudget.acquire` in place."""
    waits: dict[Priority, list[float]] = {Priority.reply: [], Priority.bulk: []}
    acquire = RateBudget.acquire

    async def timed(self: RateBudget, priority: Priority) -> None:
        started = fast.clock()
        await acquire(self, priority)
        waits[priority].append(fast.clock() - started)

    RateBudget.acquire = timed  # type: ignore[method-assign]
    return waits


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def busiest_60s(times: list[float]) -> int:
    ordered, busiest, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= 60:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


async def run(args: argparse.Namespace, database_url: str) -> None:
    announcement_id = prepare(database_url, args.recipients)
    fast = FastTime(args.speed)
    zalo_limit = args.zalo_limit or args.limit
    zalo = RateLimitedZalo(fast, zalo_limit, args.latency_ms / 1000)
    settings = settings_for(database_url, args.limit)
    budget_waits = time_the_budget(fast)
    async with httpx.AsyncClient(transport=httpx.MockTransport(zalo.handle)) as http:
        processes = [
            build_services(settings, http, budget_time=(fast.clock, fast.sleep))
            for _ in range(args.processes)
        ]
        backgrounds = [Background(services, settings) for services in processes]
        started_wall, started_app = time.perf_counter(), fast.clock()
        for background in backgrounds:
            background.start()
        stop = asyncio.Event()
        asking = asyncio.create_task(
            ask_questions(processes, fast, args.questions_per_minute, stop)
        )
        deadline = started_wall + args.max_seconds
        status = None
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.5)
            status = announcement_status(processes[0].db, announcement_id)
            if status is not None and status.done:
                break
        stop.set()
        asked = await asking
        await asyncio.sleep(2)  # the last questions' answers
        elapsed_wall, elapsed_app = time.perf_counter() - started_wall, fast.clock() - started_app
        for background in backgrounds:
            await background.stop()
        budget = budget_state(processes[0].db, APP_ID)
        for services in processes:
            services.db.close()

    latencies = [
        zalo.first_request[user] - at for user, at in asked.items() if user in zalo.first_request
    ]
    unanswered = len(asked) - len(latencies)
    full_minutes = sorted(zalo.per_minute)[1:-1] or sorted(zalo.per_minute)
    accepted_per_minute = [min(zalo.per_minute[m], zalo_limit) for m in full_minutes]
    sent = status.as_json()["sent"] if status is not None else 0

    print(f"database              {database_url.split(':')[0]}, {args.processes} processes")
    print(
        f"budget                {args.limit} requests/min for the app, Zalo allows {zalo_limit}; "
        f"time x{args.speed:g} (fake Zalo latency {args.latency_ms:.0f} ms app time)"
    )
    print(
        f"fan-out               {sent}/{args.recipients} sent in {elapsed_app / 60:.1f} app-min "
        f"({elapsed_wall:.0f} s wall)" + ("" if status and status.done else ", not finished")
    )
    print(f"questions             {len(asked)} asked, {unanswered} without a reply request")
    if latencies:
        print(
            "reply latency wall    "
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )
        app_ms = [value * args.speed * 1000 for value in latencies]
        print(
            "reply latency app     "
            f"p50 {statistics.median(app_ms):.0f} ms, p99 {percentile(app_ms, 0.99):.0f} ms, "
            f"max {max(app_ms):.0f} ms (wall x{args.speed:g})"
        )
    for priority, waits in budget_waits.items():
        if waits:
            print(
                f"budget wait {priority.value:<9} "
                f"p50 {statistics.median(waits) * 1000:.0f} ms, "
                f"p99 {percentile(waits, 0.99) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms "
                f"app time ({len(waits)} requests)"
            )
    print(
        "requests/min at Zalo  "
        + ", ".join(str(n) for n in accepted_per_minute)
        + f" (full fixed minutes); busiest 60 s anywhere {busiest_60s(zalo.accepted)}"
    )
    print(
        f"-32 answers           {zalo.rate_limited} (budget row counted "
        f"{budget.rate_limited if budget is not None else 0})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=200, help="requests a minute for the app")
    parser.add_argument("--speed", type=float, default=4.0, help="app time per wall second")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--questions-per-minute", type=float, default=30.0, help="app time")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="Zalo's, app time")
    parser.add_argument("--max-seconds", type=float, default=100.0, help="wall-clock cap")
    parser.add_argument(
        "--zalo-limit",
        type=int,
        default=None,
        help="what the fake Zalo allows a minute (default: --limit); lower shows the -32 back-off",
    )
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.database_url:
        asyncio.run(run(args, args.database_url))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, f"sqlite:///{Path(tmp) / 'bench.db'}"))


if __name__ == "__main__":
    main()
