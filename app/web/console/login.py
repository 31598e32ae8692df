"""Signing in and out of the console (the login form has its own CSRF cookie)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.services import Services
from app.staff import (
    authenticate,
    close_session,
    open_session,
    same_token,
)
from app.web.auth import ServicesDep
from app.web.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    OptionalSession,
    PageSession,
    set_cookie,
    set_session_cookie,
)
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


def _login_page(
    request: Request, services: Services, next_url: str, error: str | None, status_code: int
) -> HTMLResponse:
    csrf = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        status_code,
        csrf=csrf,
        next_url=_safe_next(next_url),
        error=error,
        ward=services.knowledge.current.content.catalogue.ward.name,
    )
    set_cookie(response, services.settings, LOGIN_CSRF_COOKIE, csrf, 3600)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, services: ServicesDep, session: OptionalSession, next: str = "/console"
) -> Response:
    if session is not None:
        return RedirectResponse(_safe_next(next), 303)
    return _login_page(request, services, next, None, 200)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/console",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not same_token(expected, csrf_token):
        return _login_page(
            request,
            services,
            next,
            "Biểu mẫu đã hết hạn. Vui lòng đăng nhập lại.",
            403,
        )
    now = datetime.now(UTC)
    # argon2 is deliberately slow: keep the event loop answering webhooks meanwhile.
    result = await asyncio.to_thread(authenticate, services.db, username, password, now)
    if result.locked:
        return _login_page(
            request,
            services,
            next,
            "Tài khoản tạm thời bị khóa do đăng nhập sai nhiều lần. "
            "Vui lòng thử lại sau 15 phút hoặc liên hệ quản trị viên.",
            429,
        )
    if result.user is None:
        return _login_page(request, services, next, "Tên đăng nhập hoặc mật khẩu không đúng.", 401)
    token, _ = open_session(services.db, result.user, now)
    response = RedirectResponse(_safe_next(next), 303)
    set_session_cookie(response, services.settings, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, services: ServicesDep, session: PageSession) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        close_session(services.db, token)
    response = RedirectResponse("/console/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
