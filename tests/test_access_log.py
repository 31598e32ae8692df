"""uvicorn's access log (JSON, through our handler) never carries a query string: the OAuth
callback's `code` and `state` must not reach the logs."""

from __future__ import annotations

import io
import logging
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from app.logs import JsonFormatter, strip_query_strings_from_access_log
from app.main import create_app
from tests.conftest import make_settings
from tests.support.fake_zalo_server import free_port

CODE = "SECRET-AUTH-CODE-0123456789"
STATE = "SECRET-STATE-abcdef"


def test_the_oauth_callback_is_logged_without_its_code_and_state(tmp_path: Path) -> None:
    strip_query_strings_from_access_log()  # what `wardbot serve` sets up (configure_logging)
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.INFO)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(make_settings(tmp_path)), host="127.0.0.1", port=port, log_config=None
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.02)
        url = f"http://127.0.0.1:{port}/zalo/oauth/callback"
        httpx.get(url, params={"code": CODE, "state": STATE, "oa_id": "1"}, timeout=10)
    finally:
        server.should_exit = True
        thread.join(10)
        root.removeHandler(handler)
        root.setLevel(previous_level)

    # Every line the server logged (the test's own client, httpx, logs its request: not ours).
    server_lines = [
        line for line in output.getvalue().splitlines() if '"logger": "httpx"' not in line
    ]
    access = [line for line in server_lines if "uvicorn.access" in line]
    assert any("GET /zalo/oauth/callback HTTP/1.1" in line for line in access), access
    assert not [line for line in server_lines if CODE in line or STATE in line]
