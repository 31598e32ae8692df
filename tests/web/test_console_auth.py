"""Console access control over HTTP: anonymous refusal on every route, CSRF, lockout, roles."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import Response
from fastapi.routing import iter_route_contexts

from app.main import create_app
from app.staff import LOCKOUT_WINDOW, MAX_FAILURES, Role, authenticate
from app.storage.database import Database
from app.storage.questions import record_unanswered
from app.web.console.auth import SESSION_COOKIE, set_session_cookie
from tests.conftest import RunningApp, make_settings
from tests.support.fake_zalo import FakeZalo
from tests.web.console_support import PASSWORD, csrf_in, log_in, make_staff, submit_login

pytestmark = pytest.mark.anyio

# Routes anyone may call, each for a reason. A new route is refused by default: adding it here
# is a deliberate decision that review sees.
PUBLIC = {
    ("GET", "/console/login"),  # the login form itself
    ("POST", "/console/login"),
    ("POST", "/webhooks/zalo"),  # Zalo signs its calls: checked on the raw body
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/"),  # the simulator page; 404-like text when Zalo is configured
    ("POST", "/simulator/messages"),  # simulator only: 404 when Zalo is configured
    ("POST", "/simulator/follow"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/zalo/oauth/callback"),  # Zalo's OAuth redirect: refused without a valid state
    ("GET", "/metrics"),  # production readiness: Prometheus scrape (being added in parallel)
}


def all_routes(tmp_path: Path) -> list[tuple[str, str]]:
    app = create_app(make_settings(tmp_path))
    found: list[tuple[str, str]] = []
    # Flattens included routers, with their prefixes, as FastAPI itself serves them.
    for route in iter_route_contexts(app.routes):
        if route.path is not None:
            found.extend((method, route.path) for method in sorted(route.methods or ()))
    assert found, "no routes found: has FastAPI changed how routers are included?"
    return [(m, p) for m, p in found if m != "HEAD"]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_every_non_public_route_refuses_anonymous_access(
    running: RunningApp, tmp_path: Path
) -> None:
    protected = [r for r in all_routes(tmp_path) if r not in PUBLIC]
    assert ("GET", "/console") in protected and ("POST", "/api/announcements") in protected
    for method, path in protected:
        response = await running.client.request(method, concrete(path))
        if path.startswith("/console") and (method == "GET" or response.status_code != 401):
            # Pages and forms send the browser to the login form (console JSON routes: 401).
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/console/login"), (method, path)
        else:
            assert response.status_code == 401, (method, path, response.status_code)
        forged = await running.client.request(
            method, concrete(path), headers={"Cookie": f"{SESSION_COOKIE}=forged-session-token"}
        )
        assert forged.status_code in (303, 401), (method, path, forged.status_code)


async def test_login_then_pages_open_and_logout_ends_the_session(running: RunningApp) -> None:
    make_staff(running.services.db, "admin", Role.admin)
    csrf = await log_in(running.client, "admin")
    for page in ("/console", "/console/catalogue", "/console/unanswered", "/console/staff"):
        response = await running.client.get(page)
        assert response.status_code == 200, page
        assert response.headers["cache-control"] == "no-store"
    logout = await running.client.post("/console/logout", data={"csrf_token": csrf})
    assert logout.status_code == 303
    # The old cookie no longer works even if a browser kept it.
    assert (await running.client.get("/console")).status_code == 303


async def test_the_session_cookie_is_httponly_samesite_and_not_readable(
    running: RunningApp,
) -> None:
    make_staff(running.services.db)
    response = await submit_login(running.client, "canbo")
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # development over plain HTTP


def test_the_session_cookie_is_secure_in_production(tmp_path: Path, fake_zalo: FakeZalo) -> None:
    settings = make_settings(tmp_path, fake_zalo, environment="production", zalo_oa_id="388613")
    response = Response()
    set_session_cookie(response, settings, "token")
    assert "Secure" in response.headers["set-cookie"]


async def test_every_console_form_needs_the_csrf_token(running: RunningApp, tmp_path: Path) -> None:
    make_staff(running.services.db, "admin", Role.admin)
    csrf = await log_in(running.client, "admin")
    posts = [
        p
        for m, p in all_routes(tmp_path)
        if m == "POST" and p.startswith("/console") and p != "/console/login"
    ]
    assert "/console/catalogue/reload" in posts
    for path in posts:
        missing = await running.client.post(concrete(path), data={"text": "x", "code": "1"})
        wrong = await running.client.post(
            concrete(path), data={"csrf_token": csrf + "x", "text": "x", "code": "1"}
        )
        assert (missing.status_code, wrong.status_code) == (403, 403), path
    # The right token goes through (and the session is still alive after the refusals).
    ok = await running.client.post("/console/catalogue/reload", data={"csrf_token": csrf})
    assert ok.status_code == 200


async def test_the_login_form_needs_its_csrf_token(running: RunningApp) -> None:
    make_staff(running.services.db)
    response = await running.client.post(
        "/console/login", data={"username": "canbo", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


async def test_the_announcement_api_accepts_a_staff_session_with_csrf(
    running: RunningApp,
) -> None:
    make_staff(running.services.db)
    csrf = await log_in(running.client, "canbo")
    assert (await running.client.get("/api/groups")).status_code == 200
    body = {"text": "Thông báo thử", "all": True}
    without = await running.client.post("/api/announcements", json=body)
    assert without.status_code == 403
    created = await running.client.post(
        "/api/announcements", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 201, created.text
    # A wrong bearer token is refused even when a session cookie is present.
    wrong = await running.client.get("/api/groups", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_lockout_after_repeated_failures(running: RunningApp) -> None:
    make_staff(running.services.db)
    make_staff(running.services.db, "khac")
    for _ in range(MAX_FAILURES):
        failed = await submit_login(running.client, "canbo", "sai-mat-khau-123")
        assert failed.status_code == 401
        assert "không đúng" in failed.text
    locked = await submit_login(running.client, "canbo")  # the right password, too late
    assert locked.status_code == 429
    assert "tạm thời bị khóa" in locked.text
    assert SESSION_COOKIE not in locked.cookies
    assert (await running.client.get("/console")).status_code == 303
    # Another account is not affected.
    assert (await submit_login(running.client, "khac")).status_code == 303
    # Once the window has passed, the right password works again.
    later = datetime.now(UTC) + LOCKOUT_WINDOW + timedelta(seconds=1)
    assert authenticate(running.services.db, "canbo", PASSWORD, later).user is not None


async def test_unknown_usernames_get_the_same_answer(running: RunningApp) -> None:
    response = await submit_login(running.client, "khong-ton-tai", "bat-ky-mat-khau")
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.text


async def test_staff_cannot_open_admin_pages(running: RunningApp) -> None:
    make_staff(running.services.db)
    csrf = await log_in(running.client, "canbo")
    assert (await running.client.get("/console")).status_code == 200
    for page in ("/console/catalogue", "/console/unanswered", "/console/staff"):
        assert (await running.client.get(page)).status_code == 403, page
    forbidden = await running.client.post("/console/catalogue/reload", data={"csrf_token": csrf})
    assert forbidden.status_code == 403


async def test_login_redirects_only_inside_the_console(running: RunningApp) -> None:
    make_staff(running.services.db)
    page = await running.client.get("/console/login")
    response = await running.client.post(
        "/console/login",
        data={
            "username": "canbo",
            "password": PASSWORD,
            "csrf_token": csrf_in(page.text),
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


async def test_pages_escape_what_residents_wrote(running: RunningApp) -> None:
    make_staff(running.services.db, "admin", Role.admin)
    record_unanswered(
        running.services.db,
        oa_id="oa",
        user_id="u",
        text="<script>alert(1)</script>",
        kind="none",
        candidates=[],
    )
    await log_in(running.client, "admin")
    page = await running.client.get("/console/unanswered")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


async def test_anonymous_api_call_is_401_not_a_redirect(running: RunningApp) -> None:
    response = await running.client.get("/api/groups")
    assert response.status_code == 401
    assert isinstance(response, httpx.Response)


async def test_admin_manages_accounts_and_disabling_ends_sessions(running: RunningApp) -> None:
    make_staff(running.services.db, "admin", Role.admin)
    csrf = await log_in(running.client, "admin")
    weak = await running.client.post(
        "/console/staff",
        data={"csrf_token": csrf, "username": "hoa", "password": "ngan", "role": "staff"},
    )
    assert weak.status_code == 422 and "ít nhất 10 ký tự" in weak.text
    created = await running.client.post(
        "/console/staff",
        data={"csrf_token": csrf, "username": "hoa", "password": PASSWORD, "role": "staff"},
    )
    assert created.status_code == 200 and "Đã lưu tài khoản hoa" in created.text
    itself = await running.client.post(
        "/console/staff/admin/active", data={"csrf_token": csrf, "active": "false"}
    )
    assert itself.status_code == 422

    # hoa logs in elsewhere; the admin disables the account; hoa's session ends at once.
    jar = running.client.cookies
    admin_cookie = jar.get(SESSION_COOKIE)
    jar.clear()
    await log_in(running.client, "hoa")
    hoa_cookie = jar.get(SESSION_COOKIE)
    assert admin_cookie and hoa_cookie and admin_cookie != hoa_cookie
    jar.clear()
    jar.set(SESSION_COOKIE, hoa_cookie)
    assert (await running.client.get("/console")).status_code == 200  # the cookie is sent
    jar.set(SESSION_COOKIE, admin_cookie)
    disabled = await running.client.post(
        "/console/staff/hoa/active", data={"csrf_token": csrf, "active": "false"}
    )
    assert "Đã khóa tài khoản hoa" in disabled.text
    jar.set(SESSION_COOKIE, hoa_cookie)
    assert (await running.client.get("/console")).status_code == 303
    jar.clear()
    assert (await submit_login(running.client, "hoa")).status_code == 401


async def test_parallel_guesses_get_no_more_checks_than_the_limit(running: RunningApp) -> None:
    """24 wrong passwords, 12 at a time: 5 are checked, every other one is refused unchecked."""
    make_staff(running.services.db)
    statuses: list[int] = []
    for _ in range(2):
        token = csrf_in((await running.client.get("/console/login")).text)
        form = {"username": "canbo", "csrf_token": token}
        answers = await asyncio.gather(
            *(
                running.client.post("/console/login", data={**form, "password": f"sai-{i}-mk"})
                for i in range(12)
            )
        )
        statuses += [a.status_code for a in answers]
    assert sorted(statuses) == [401] * MAX_FAILURES + [429] * (24 - MAX_FAILURES)


async def test_processes_sharing_the_database_share_the_count(running: RunningApp) -> None:
    """Two processes are two engines on one database: the count is the database's."""
    make_staff(running.services.db)
    other = Database(running.services.db.url)
    try:
        now = datetime.now(UTC)
        dbs = [running.services.db, other]
        results = [authenticate(dbs[i % 2], "canbo", "sai-mat-khau", now) for i in range(8)]
    finally:
        other.close()
    assert [r.locked for r in results] == [False] * MAX_FAILURES + [True] * 3
