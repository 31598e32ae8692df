"""Console authentication: the session cookie, CSRF checks, roles, and staff-or-token API access.

Pages refuse anonymous visitors with a redirect to /console/login; API routes with 401.
Every state-changing request made with the session cookie must carry the session's CSRF
token (form field `csrf_token` or header `X-CSRF-Token`).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import Settings
from app.staff import SESSION_LIFETIME, ConsoleSession, find_session, same_token
from app.web.auth import ServicesDep

SESSION_COOKIE = "wardbot_session"
LOGIN_CSRF_COOKIE = "wardbot_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_PATH = "/console/login"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_bearer = HTTPBearer(auto_error=False)


def set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    set_cookie(response, settings, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))


def optional_session(request: Request, services: ServicesDep) -> ConsoleSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return find_session(services.db, token, datetime.now(UTC))


OptionalSession = Annotated[ConsoleSession | None, Depends(optional_session)]


def _login_redirect(request: Request) -> HTTPException:
    target = request.url.path if request.method == "GET" else "/console"
    return HTTPException(
        303, "login required", headers={"Location": f"{LOGIN_PATH}?next={quote(target)}"}
    )


async def _check_csrf(request: Request, session: ConsoleSession) -> None:
    if request.method in _SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not same_token(session.csrf_token, given):
        raise HTTPException(403, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ.")


async def require_page_session(request: Request, session: OptionalSession) -> ConsoleSession:
    """Any signed-in staff member; anonymous visitors go to the login page."""
    if session is None:
        raise _login_redirect(request)
    await _check_csrf(request, session)
    return session


PageSession = Annotated[ConsoleSession, Depends(require_page_session)]


async def require_admin_page(session: PageSession) -> ConsoleSession:
    if not session.user.is_admin:
        raise HTTPException(403, "Chức năng này chỉ dành cho quản trị viên.")
    return session


AdminSession = Annotated[ConsoleSession, Depends(require_admin_page)]


async def require_api_session(request: Request, session: OptionalSession) -> ConsoleSession:
    """A console JSON route: 401 without a session, 403 without the CSRF token."""
    if session is None:
        raise HTTPException(401, "Cần đăng nhập.")
    await _check_csrf(request, session)
    return session


ApiSession = Annotated[ConsoleSession, Depends(require_api_session)]


async def require_staff_or_token(
    request: Request,
    services: ServicesDep,
    session: OptionalSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The staff API: the bearer token (scripts, `wardbot`) or a console session."""
    if credentials is not None:
        expected = services.settings.api_token.get_secret_value()
        if expected and hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
            return
        raise HTTPException(
            401, "invalid or missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    if session is None:
        raise HTTPException(
            401, "invalid or missing credentials", headers={"WWW-Authenticate": "Bearer"}
        )
    await _check_csrf(request, session)


StaffOrToken = Depends(require_staff_or_token)
