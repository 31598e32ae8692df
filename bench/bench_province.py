"""A province on one deployment: 200 wards, 2 web and 2 worker processes, PostgreSQL, and a fake
Zalo that holds the app to 4,000 requests a minute, while one ward's 50,000-recipient
announcement fans out and residents of many wards ask questions.

    .venv/bin/python bench/bench_province.py [--wards 200] [--recipients 50000] [--minutes N]
        [--questions-per-minute 120] [--web 2] [--workers 2] [--limit 4000]
        [--database-url postgresql+psycopg://wardbot:wardbot@127.0.0.1:5432/postgres]

The real multi-process setup of issue 15, not a scaled model (bench/bench_rate_budget.py is
that): `--web` processes run `python -m app serve` (uvicorn, WARDBOT_RUN_WORKER=false: they
verify, record and answer 200) and `--workers` processes run `python -m app worker` (answers,
announcements, token refresh), all on one fresh PostgreSQL database created on the server
`--database-url` names (dropped at the end). The fake Zalo is tests/support/fake_zalo_server.py:
a real HTTP server on loopback that knows each OA's token, allows `--limit` API requests per
fixed minute for the whole app and answers -32 beyond, with `--zalo-latency-ms` per answer.

Set-up: `--wards` ward files (each its own OA id, name and groups) in a temporary
WARDBOT_WARDS folder; each OA's token pair stored in the database; `--recipients` members of
the first ward's groups (followers who wrote lately, tags in sync), and, once every process is
up, one urgent announcement to all of its groups. While it fans out, new residents of random
wards send signed `user_send_text` webhooks to the web processes in turn (a Poisson stream of
`--questions-per-minute`).

Printed: the process set-up and the machine's load; how far the fan-out got and its pace;
resident replies' latency p50/p99/max, from just before the webhook POST to the reply's first
send request reaching the fake Zalo; requests a minute the fake Zalo received, per full fixed
minute and in the busiest 60 s anywhere, split replies / announcement / other; the -32 answers.
It measures until the announcement is done or for `--minutes` of fan-out (then reports the
progress). Asserts nothing. `--json PATH` also writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from app.storage.announcements import (  # noqa: E402
    AnnouncementDraft,
    announcement_status,
    create_announcement,
)
from app.storage.database import Database  # noqa: E402
from app.storage.tables import Follower, GroupMembership  # noqa: E402
from app.storage.tokens import DatabaseTokenStore  # noqa: E402
from bench.workload import ANNOUNCEMENT, QUESTIONS  # noqa: E402
from tests.support.databases import PostgresDatabases  # noqa: E402
from tests.support.fake_zalo import MESSAGE_CS_PATH  # noqa: E402
from tests.support.fake_zalo_server import FakeZaloServer, free_port  # noqa: E402
from tests.support.webhook import APP_ID, OA_SECRET, encode, text_event  # noqa: E402
from webhooks.signature import SIGNATURE_HEADER, signature_header  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://wardbot:wardbot@127.0.0.1:5432/postgres"
OA_BASE = 7_000_000_000_000_000_000
GROUPS_PER_WARD = 12
ASKER, MEMBER = "asker-", "member-"


# --- the wards ---------------------------------------------------------------------------------


def oa_of(n: int) -> str:
    return str(OA_BASE + n)


def group_ids(n: int) -> list[str]:
    return [f"tdp-{n}-{g}" for g in range(1, GROUPS_PER_WARD + 1)]


def ward_file(template: str, n: int) -> str:
    """Ward n's file: the sample ward (wards/phuong-mau-a.yaml) with its own OA id, name,
    phones and `GROUPS_PER_WARD` residential groups."""
    head = template.split("  residential_groups:")[0]
    head = head.replace('"1000000000000000001"', f'"{oa_of(n)}"')
    head = head.replace("Mẫu A", f"Mẫu {n}").replace("0200 111", f"0200 {n % 1000:03d}")
    groups = "\n".join(
        f"  - {{id: {gid}, name: Tổ dân phố số {g} phường {n}, aliases: [TDP {g}]}}"
        for g, gid in enumerate(group_ids(n), start=1)
    )
    return f"{head}  residential_groups:\n{groups}\n"


def write_wards(folder: Path, count: int) -> None:
    folder.mkdir()
    template = (ROOT / "wards" / "phuong-mau-a.yaml").read_text(encoding="utf-8")
    for n in range(count):
        (folder / f"phuong-mau-{n:03d}.yaml").write_text(ward_file(template, n), encoding="utf-8")


def seed(db: Database, zalo: FakeZaloServer, wards: int, recipients: int) -> None:
    """Each OA's token pair (stored as `wardbot zalo tokens set --oa` does), and the first
    ward's members: followers who wrote in the last days, their group tags in sync."""
    for n in range(wards):
        DatabaseTokenStore(db, oa_of(n)).save(zalo.fake.add_oa(oa_of(n)))
    now = datetime.now(UTC)
    oa, groups = oa_of(0), group_ids(0)
    members = [f"{MEMBER}{i:06d}" for i in range(recipients)]
    with db.engine.begin() as connection:
        for start in range(0, recipients, 5000):
            chunk = members[start : start + 5000]
            connection.execute(
                insert(Follower),
                [
                    {
                        "oa_id": oa,
                        "user_id": user,
                        "following": True,
                        "followed_at": now - timedelta(days=30),
                        "last_interaction_at": now - timedelta(days=1),
                    }
                    for user in chunk
                ],
            )
            connection.execute(
                insert(GroupMembership),
                [
                    {
                        "oa_id": oa,
                        "user_id": user,
                        "group_id": groups[(start + i) % len(groups)],
                        "joined_at": now - timedelta(days=30),
                        "updated_at": now - timedelta(days=30),
                        "zalo_tag": f"TDP {(start + i) % len(groups) + 1}",
                        "zalo_tag_synced": True,
                    }
                    for i, user in enumerate(chunk)
                ],
            )


# --- the processes -----------------------------------------------------------------------------


class Process:
    """`python -m app <args>` with its output in a log file."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path,
        name: str,
        profile: Path | None = None,
    ) -> None:
        self.name = name
        self.log = cwd / f"{name}.log"
        python = [sys.executable]
        if profile is not None:
            python += ["-m", "cProfile", "-o", str(profile)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*python, "-m", "app", *args],
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time so far (Linux /proc), 0 when unknown."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)


def environment(
    args: argparse.Namespace, database_url: str, wards: Path, zalo: FakeZaloServer
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WARDBOT_", "ZALO_", "DATABASE_URL"))
    }
    env.update(
        DATABASE_URL=database_url,
        WARDBOT_ENV="development",
        WARDBOT_WARDS=str(wards),
        WARDBOT_PROCEDURES=str(ROOT / "procedures.yaml"),
        WARDBOT_INTENTS=str(ROOT / "intents"),
        WARDBOT_CATALOGUE_WATCH_FILES="false",
        WARDBOT_APP_RATE_PER_MINUTE=str(args.limit),
        WARDBOT_RUN_WORKER="false",
        ZALO_APP_ID=APP_ID,
        ZALO_APP_SECRET=zalo.fake.app_secret,
        ZALO_OA_SECRET_KEY=OA_SECRET,
        ZALO_API_BASE_URL=zalo.fake.api_base_url,
        ZALO_OAUTH_BASE_URL=zalo.fake.oauth_base_url,
    )
    if args.inbox_poll_seconds is not None:
        env["WARDBOT_INBOX_POLL_SECONDS"] = str(args.inbox_poll_seconds)
    return env


def start_processes(
    args: argparse.Namespace, env: dict[str, str], cwd: Path
) -> tuple[list[tuple[Process, str]], list[Process]]:
    """The web processes first (the first one stores the catalogue version), then workers."""
    web: list[tuple[Process, str]] = []
    for n in range(args.web):
        port = free_port()
        process = Process(
            ["serve", "--host", "127.0.0.1", "--port", str(port)], env, cwd, f"web-{n + 1}"
        )
        url = f"http://127.0.0.1:{port}"
        wait_healthy(process, url)
        web.append((process, url))
    profile = Path(args.profile_worker).resolve() if args.profile_worker else None
    workers = [
        Process(["worker"], env, cwd, f"worker-{n + 1}", profile if n == 0 else None)
        for n in range(args.workers)
    ]
    deadline = time.monotonic() + 120
    for worker in workers:
        while "wardbot worker ready" not in worker.log.read_text(errors="replace"):
            worker.alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{worker.name} did not start:\n{worker.tail()}")
            time.sleep(0.2)
    return web, workers


def wait_healthy(process: Process, url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        process.alive()
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not start:\n{process.tail()}")


# --- what the fake Zalo saw -------------------------------------------------------------------


@dataclass
class Seen:
    """Every API request the fake Zalo answered, as (arrival, kind, error code)."""

    requests: list[tuple[float, str, int]] = field(default_factory=list)
    first_reply: dict[str, float] = field(default_factory=dict)
    """Arrival of the first message request to each asker."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, arrived: float, path: str, recipient: str | None, code: int) -> None:
        if path == MESSAGE_CS_PATH and recipient is not None and recipient.startswith(ASKER):
            kind = "reply"
        elif path == MESSAGE_CS_PATH and recipient is not None and recipient.startswith(MEMBER):
            kind = "announcement"
        else:
            kind = "other"
        with self.lock:
            self.requests.append((arrived, kind, code))
            if kind == "reply":
                self.first_reply.setdefault(recipient or "", arrived)


# --- the residents ----------------------------------------------------------------------------


async def ask_questions(
    web_urls: list[str], wards: int, per_minute: float, stop: asyncio.Event
) -> tuple[dict[str, float], int]:
    """New residents of random wards ask; returns each asker's send time and failed posts."""
    asked: dict[str, float] = {}
    failed = 0
    rng = random.Random(15)
    pending: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(timeout=30) as http:

        async def post(url: str, user_id: str, payload: dict[str, Any]) -> None:
            nonlocal failed
            body = encode(payload)
            signature = signature_header(APP_ID, body, str(payload["timestamp"]), OA_SECRET)
            asked[user_id] = time.time()
            try:
                response = await http.post(
                    f"{url}/webhooks/zalo",
                    content=body,
                    headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
                )
                failed += response.status_code != 200
            except httpx.HTTPError:
                failed += 1

        for n in itertools.count():
            try:
                await asyncio.wait_for(stop.wait(), rng.expovariate(per_minute / 60))
                break
            except TimeoutError:
                pass
            ward = rng.randrange(wards)
            user_id = f"{ASKER}{n:05d}"
            payload = {
                **text_event(user_id, QUESTIONS[n % len(QUESTIONS)], f"bench-msg-{n}"),
                "recipient": {"id": oa_of(ward)},
                "timestamp": str(int(time.time() * 1000)),
            }
            task = asyncio.create_task(post(web_urls[n % len(web_urls)], user_id, payload))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)
    return asked, failed


async def watch_fan_out(
    db: Database,
    announcement_id: int,
    recipients: int,
    minutes: float | None,
    seen: Seen,
    processes: list[Process],
) -> tuple[float | None, float, int, bool]:
    """Until the announcement is done or `minutes` after its first send: (first send, end,
    settled, done). Prints progress every minute."""
    first: float | None = None
    next_print = time.time() + 60
    while True:
        await asyncio.sleep(2)
        for process in processes:
            process.alive()
        now = time.time()
        if first is None:
            with seen.lock:
                first = next((t for t, kind, _ in seen.requests if kind == "announcement"), None)
        status = await asyncio.to_thread(announcement_status, db, announcement_id)
        counts = status.as_json() if status is not None else {}
        settled = sum(int(counts.get(k, 0)) for k in ("sent", "failed", "deferred"))
        done = bool(status is not None and status.done)
        if now >= next_print:
            print(f"  ... {settled}/{recipients} settled, {now - (first or now):.0f} s of fan-out")
            next_print += 60
        if done or (minutes is not None and first is not None and now - first >= minutes * 60):
            return first, now, settled, done


# --- figures -----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def busiest_60s(times: list[float]) -> tuple[int, float]:
    """The most requests in any 60 s window, and where it starts."""
    ordered, busiest, at, start = sorted(times), 0, 0.0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 60:
            start += 1
        if end - start + 1 > busiest:
            busiest, at = end - start + 1, ordered[start]
    return busiest, at


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(
    args: argparse.Namespace,
    seen: Seen,
    asked: dict[str, float],
    failed_posts: int,
    window: tuple[float, float],
    settled: int,
    done: bool,
    cpu: dict[str, float],
    loads: list[str],
) -> dict[str, Any]:
    start, end = window
    with seen.lock:
        requests = list(seen.requests)
        first_reply = dict(seen.first_reply)
    during = {u: t for u, t in asked.items() if start <= t <= end}
    latencies = [first_reply[u] - t for u, t in during.items() if u in first_reply]
    unanswered = len(during) - len(latencies)
    minutes: dict[int, Counter[str]] = {}
    for at, kind, code in requests:
        counts = minutes.setdefault(int(at // 60), Counter())
        counts["received"] += 1
        counts[kind] += 1
        counts["-32"] += code == -32
    in_window = sorted(m for m in minutes if start <= m * 60 and (m + 1) * 60 <= end)
    busiest, busiest_at = busiest_60s([at for at, _, _ in requests])
    accepted = [at for at, _, code in requests if code != -32]
    busiest_accepted, _ = busiest_60s(accepted)
    codes = Counter(code for _, _, code in requests)
    sent = sum(1 for at, kind, code in requests if kind == "announcement" and code == 0)
    fan_out_minutes = (end - start) / 60
    figures: dict[str, Any] = {
        "setup": {
            "wards": args.wards,
            "web_processes": args.web,
            "worker_processes": args.workers,
            "database": "postgresql",
            "limit_per_minute": args.limit,
            "zalo_latency_ms": args.zalo_latency_ms,
            "recipients": args.recipients,
            "questions_per_minute": args.questions_per_minute,
            "cpus": os.cpu_count(),
            "load_average_samples": loads,
        },
        "fan_out": {
            "measured_minutes": round(fan_out_minutes, 2),
            "settled": settled,
            "accepted_by_zalo": sent,
            "done": done,
            "per_minute": round(settled / fan_out_minutes) if fan_out_minutes else 0,
        },
        "replies": {
            "asked_during_fan_out": len(during),
            "without_reply_request": unanswered,
            "failed_webhook_posts": failed_posts,
            "p50_ms": round(statistics.median(latencies) * 1000) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99) * 1000) if latencies else None,
            "max_ms": round(max(latencies) * 1000) if latencies else None,
        },
        "zalo": {
            "full_minutes": [
                {
                    "minute": datetime.fromtimestamp(m * 60, UTC).strftime("%H:%M"),
                    **{k: minutes[m][k] for k in ("received", "reply", "announcement", "other")},
                    "rate_limited": minutes[m]["-32"],
                }
                for m in in_window
            ],
            "busiest_60s_received": busiest,
            "busiest_60s_starts": datetime.fromtimestamp(busiest_at, UTC).strftime("%H:%M:%S"),
            "busiest_60s_accepted": busiest_accepted,
            "rate_limited": codes.get(-32, 0),
            "other_errors": {str(c): n for c, n in codes.items() if c not in (0, -32)},
        },
        "cpu_seconds": {name: round(seconds, 1) for name, seconds in cpu.items()},
    }
    print_figures(figures)
    return figures


def print_figures(f: dict[str, Any]) -> None:
    s, fan, rep, zalo = f["setup"], f["fan_out"], f["replies"], f["zalo"]
    print()
    print(
        f"setup          {s['wards']} wards, {s['web_processes']} web + "
        f"{s['worker_processes']} worker processes, PostgreSQL; fake Zalo allows "
        f"{s['limit_per_minute']}/min for the app, answers in {s['zalo_latency_ms']:g} ms"
    )
    print(
        f"machine        {s['cpus']} CPUs, load average (1/5/15 min) during the run: "
        + "; ".join(s["load_average_samples"])
    )
    print(
        f"fan-out        {fan['settled']}/{s['recipients']} settled in "
        f"{fan['measured_minutes']:.1f} min ({fan['per_minute']}/min), "
        + ("done" if fan["done"] else "not finished (measurement stopped)")
    )
    print(
        f"questions      {rep['asked_during_fan_out']} asked during the fan-out "
        f"(~{s['questions_per_minute']:g}/min over {s['wards']} wards), "
        f"{rep['without_reply_request']} without a reply request, "
        f"{rep['failed_webhook_posts']} webhook posts failed"
    )
    if rep["p50_ms"] is not None:
        print(
            f"reply latency  p50 {rep['p50_ms']} ms, p99 {rep['p99_ms']} ms, "
            f"max {rep['max_ms']} ms (webhook POST -> reply's send request at Zalo)"
        )
    print("requests/min   fixed minute: received (reply + announcement + other), -32")
    for m in zalo["full_minutes"]:
        print(
            f"  {m['minute']} UTC  {m['received']:5d} ({m['reply']} + {m['announcement']} + "
            f"{m['other']}), -32: {m['rate_limited']}"
        )
    print(
        f"busiest 60 s   {zalo['busiest_60s_received']} received from "
        f"{zalo['busiest_60s_starts']} UTC ({zalo['busiest_60s_accepted']} accepted at most)"
    )
    print(f"-32 answers    {zalo['rate_limited']}; other errors {zalo['other_errors'] or 'none'}")
    print(
        "CPU seconds    "
        + ", ".join(f"{name} {seconds:.0f}" for name, seconds in f["cpu_seconds"].items())
    )


# --- the run -----------------------------------------------------------------------------------


async def measure(
    args: argparse.Namespace,
    db: Database,
    web: list[tuple[Process, str]],
    workers: list[Process],
    seen: Seen,
) -> dict[str, Any]:
    processes = [p for p, _ in web] + workers
    loads = [load_average()]
    stop = asyncio.Event()

    async def fan_out() -> tuple[float | None, float, int, bool]:
        await asyncio.sleep(args.warmup_seconds)  # a few replies with nothing else going on
        draft = AnnouncementDraft(
            oa_id=oa_of(0), text=ANNOUNCEMENT, group_ids=tuple(group_ids(0)), urgent=True
        )
        created = time.perf_counter()
        announcement_id = await asyncio.to_thread(create_announcement, db, draft, datetime.now(UTC))
        print(
            f"announcement   created with {args.recipients} deliveries in "
            f"{time.perf_counter() - created:.1f} s"
        )
        sampling = asyncio.create_task(sample_load())
        try:
            return await watch_fan_out(
                db, announcement_id, args.recipients, args.minutes, seen, processes
            )
        finally:
            sampling.cancel()
            stop.set()

    async def sample_load() -> None:
        while True:
            await asyncio.sleep(60)
            loads.append(load_average())

    (asked, failed_posts), (first, end, settled, done) = await asyncio.gather(
        ask_questions([url for _, url in web], args.wards, args.questions_per_minute, stop),
        fan_out(),
    )
    loads.append(load_average())
    await asyncio.sleep(args.tail_seconds)  # the last questions' replies
    cpu = {p.name: p.cpu_seconds() for p in processes}
    return report(args, seen, asked, failed_posts, (first or end, end), settled, done, cpu, loads)


def run(args: argparse.Namespace) -> None:
    servers = PostgresDatabases(args.database_url)
    seen = Seen()
    with tempfile.TemporaryDirectory(prefix="bench-province-") as tmp:
        cwd = Path(tmp)
        wards = cwd / "wards"
        write_wards(wards, args.wards)
        database_url = servers.create(migrated=False)
        processes: list[Process] = []
        try:
            with FakeZaloServer(
                app_id=APP_ID,
                limit_per_minute=args.limit,
                on_answer=seen.answer,
                keep_history=False,
                latency_seconds=args.zalo_latency_ms / 1000,
            ) as zalo:
                db = Database(database_url)
                db.create_schema()
                started = time.perf_counter()
                seed(db, zalo, args.wards, args.recipients)
                print(
                    f"seeded         {args.wards} wards' tokens, {args.recipients} members of "
                    f"ward 0 in {time.perf_counter() - started:.1f} s"
                )
                env = environment(args, database_url, wards, zalo)
                started = time.perf_counter()
                web, workers = start_processes(args, env, cwd)
                processes = [p for p, _ in web] + workers
                print(
                    f"processes      {len(web)} web + {len(workers)} workers up in "
                    f"{time.perf_counter() - started:.1f} s"
                )
                figures = asyncio.run(measure(args, db, web, workers, seen))
                codes = {p.name: p.stop() for p in processes}
                if any(code not in (0, -signal.SIGTERM) for code in codes.values()):
                    print(f"exit codes     {codes}")
                db.close()
                if args.json:
                    Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        finally:
            for process in processes:
                if process.process.poll() is None:
                    process.stop()
            if args.keep_logs:
                for log in cwd.glob("*.log"):
                    target = Path(args.keep_logs) / log.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(log.read_bytes())
            servers.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--wards", type=int, default=200)
    parser.add_argument("--recipients", type=int, default=50_000)
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="stop measuring after this many minutes of fan-out (default: until it is done)",
    )
    parser.add_argument("--questions-per-minute", type=float, default=120.0)
    parser.add_argument("--web", type=int, default=2, help="web processes (serve)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--limit", type=int, default=4000, help="requests a minute for the app")
    parser.add_argument("--zalo-latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--inbox-poll-seconds",
        type=float,
        default=None,
        help="WARDBOT_INBOX_POLL_SECONDS for the workers (default: the service's)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("WARDBOT_BENCH_DATABASE_URL", DEFAULT_SERVER),
        help="a PostgreSQL server (any database on it): the benchmark creates its own there",
    )
    parser.add_argument(
        "--warmup-seconds", type=float, default=3.0, help="questions before the announcement"
    )
    parser.add_argument(
        "--tail-seconds", type=float, default=5.0, help="wait for the last replies at the end"
    )
    parser.add_argument(
        "--profile-worker",
        default=None,
        help="run the first worker under cProfile and write its profile to this file",
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--keep-logs", default=None, help="copy the processes' logs here")
    args = parser.parse_args()
    run(args)


if __name__ == "__main__":
    main()
