"""`wardbot serve` as a newcomer runs it: a real process on loopback, simulator mode."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "WARDBOT_", "DATABASE_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        WARDBOT_PROCEDURES=str(ROOT / "procedures.yaml"),
        WARDBOT_INTENTS=str(ROOT / "intents"),
    )
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become healthy"
            time.sleep(0.2)
        reply = httpx.post(
            f"{base}/simulator/messages", json={"text": "cccd công chứng ở phường"}, timeout=10
        )
        assert reply.status_code == 200
        assert "2.000815" in reply.json()["replies"][0]["text"]
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why.
    assert process.returncode in (0, -signal.SIGTERM)


def test_serve_refuses_an_invalid_catalogue(tmp_path: Path) -> None:
    broken = tmp_path / "procedures.yaml"
    broken.write_text("ward: {name: x}\nprocedures: []\n", encoding="utf-8")
    env = dict(os.environ, WARDBOT_PROCEDURES=str(broken), WARDBOT_INTENTS=str(ROOT / "intents"))
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", str(_free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "procedures.yaml:" in result.stderr
