"""bench/bench_province.py runs end to end at a tiny scale: 3 wards, 50 recipients, 1 web and
1 worker process, PostgreSQL. Checks what it reports, never how fast: the figures are the
benchmark's business. PostgreSQL only (WARDBOT_TEST_DATABASE_URL, as `make unit-pg` sets)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import ENV, postgres

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres() is None,
        reason="needs PostgreSQL: set WARDBOT_TEST_DATABASE_URL (`make unit-pg` does)",
    ),
]


def test_the_province_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    figures_file = tmp_path / "figures.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARDBOT_", "ZALO_"))}
    options = {
        "--wards": "3",
        "--recipients": "50",
        "--web": "1",
        "--workers": "1",
        "--questions-per-minute": "120",
        "--minutes": "0.5",
        "--inbox-poll-seconds": "0.2",
        "--warmup-seconds": "0",
        "--tail-seconds": "1",
        "--database-url": os.environ[ENV],
        "--json": str(figures_file),
    }
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_province.py")]
        + [word for option in options.items() for word in option],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "reply latency" in completed.stdout or "questions" in completed.stdout
    figures = json.loads(figures_file.read_text())
    setup = figures["setup"]
    assert (setup["wards"], setup["web_processes"], setup["worker_processes"]) == (3, 1, 1)
    assert figures["fan_out"]["settled"] > 0
    # Every request carried its own OA's token (the fake answers -216 otherwise) and the
    # app stayed within the budget.
    assert figures["zalo"]["other_errors"] == {}
    assert figures["zalo"]["rate_limited"] == 0
    assert figures["replies"]["failed_webhook_posts"] == 0
