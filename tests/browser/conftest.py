"""Real-browser fixtures: the app served by uvicorn on 127.0.0.1 with a fake Zalo, and Debian's
Chromium driven by Playwright (never `playwright install`: CI installs the `chromium` package).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.config import Settings
from app.main import create_app
from app.services import Services, services_of
from app.staff import Role, add_staff
from tests.conftest import ROOT, make_settings
from tests.support.fake_zalo import FakeMessage, FakeZalo
from tests.support.webhook import APP_ID, OA_SECRET, encode, text_event
from webhooks.signature import SIGNATURE_HEADER, signature_header

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "mat-khau-trinh-duyet-1"

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":  # .ci/run installs it: missing there is a CI failure
        raise RuntimeError("CI=true but /usr/bin/chromium is missing")
    pytest.skip(
        "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base_url: str
    services: Services
    fake: FakeZalo

    def resident_says(self, user_id: str, text: str) -> None:
        """A signed Zalo webhook, as Zalo would post it (urllib: not intercepted by the fake)."""
        payload = text_event(user_id, text)
        body = encode(payload)
        request = urllib.request.Request(
            f"{self.base_url}/webhooks/zalo",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature_header(
                    APP_ID, body, str(payload["timestamp"]), OA_SECRET
                ),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def wait_for(self, condition: Callable[[list[FakeMessage]], Any], timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition(list(self.fake.sent_messages))
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError("the fake Zalo never received the expected message")

    def add_staff(self, username: str, role: Role, ward: str | None = None) -> str:
        add_staff(self.services.db, username, PASSWORD, role, ward)
        return username


@contextmanager
def serve(settings: Settings, fake: FakeZalo) -> Iterator[Served]:
    """The app of `settings` served by uvicorn on a free loopback port, until the block ends."""
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", services_of(app.state), fake)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("browser")
    procedures = tmp / "procedures.yaml"
    shutil.copy(ROOT / "procedures.yaml", procedures)
    with FakeZalo(app_id=APP_ID) as fake:
        settings = make_settings(tmp, fake, procedures_path=procedures, catalogue_poll_seconds=0)
        with serve(settings, fake) as running:
            yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context(base_url=served.base_url, locale="vi-VN")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def log_in(page: Any, username: str) -> None:
    page.goto("/console")
    assert "/console/login" in page.url
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/console")
