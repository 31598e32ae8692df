"""Console authentication: the session cookie, CSRF checks, roles, and staff-or-token API access.

Pages refuse anonymous visitors with a redirect to /console/login; API routes with 401.
Every state-changing request made with the session cookie must carry the session's CSRF
token (form field `csrf_token` or header `X-CSRF-Token`).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.announcements.delivery import announcing_oa_id
from app.config import Settings
from app.services import Services
from app.staff import SESSION_LIFETIME, ConsoleSession, StaffUser, find_session, same_token
from app.ward_access import NoWard, WardAccess, WardNotVisible, WardRequired, access_for
from app.wards import Ward, Wards, wards_of
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
) -> StaffUser | None:
    """The staff API: the bearer token (scripts, `wardbot`: None) or a console session (its
    staff member)."""
    if credentials is not None:
        expected = services.settings.api_token.get_secret_value()
        if expected and hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
            return None
        raise HTTPException(
            401, "invalid or missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    if session is None:
        raise HTTPException(
            401, "invalid or missing credentials", headers={"WWW-Authenticate": "Bearer"}
        )
    await _check_csrf(request, session)
    return session.user


StaffOrToken = Depends(require_staff_or_token)


# --- wards: what each staff member may see ----------------------------------------------------


def deployment_wards(services: Services) -> Wards:
    """The wards of the catalogue version being served."""
    return wards_of(services.knowledge.current.content, single_oa_id=services.settings.own_oa_id)


def ward_access(services: Services, user: StaffUser | None) -> WardAccess:
    """The one guard: every console page and staff API route scopes its queries by this,
    and answers 404 for another ward's object. 403 for an account of no served ward."""
    try:
        return access_for(user, deployment_wards(services))
    except NoWard as exc:
        raise HTTPException(
            403, "Tài khoản chưa được gán cho phường/xã nào; liên hệ quản trị viên."
        ) from exc


def ward_oa_id(services: Services, access: WardAccess, ward: Ward) -> str:
    """The OA whose residents a ward's announcements and groups are: the ward's own; the
    deployment's (ZALO_OA_ID, or the simulator's) for the one ward of procedures.yaml."""
    if access.from_files and ward.oa_id is not None:
        return ward.oa_id
    return announcing_oa_id(services.settings)


def check_visible(access: WardAccess, oa_id: str, missing: str) -> None:
    """404, with the page's own "no such ..." message, for another ward's object."""
    try:
        access.check(oa_id)
    except WardNotVisible as exc:
        raise HTTPException(404, missing) from exc


def choose_ward(access: WardAccess, slug: str | None) -> Ward:
    """The ward to act in (a form's or query's `ward`): 404 for one not visible, 422 when
    a province admin did not say which."""
    try:
        return access.choose(slug)
    except WardNotVisible as exc:
        raise HTTPException(404, "Không có phường/xã này.") from exc
    except WardRequired as exc:
        raise HTTPException(422, "Hãy chọn phường/xã (tham số ward).") from exc


def listed_oa_ids(access: WardAccess, slug: str | None) -> frozenset[str] | None:
    """The OA ids a list keeps (None: every row): every ward the staff member sees, or the
    one a province admin narrows it to (`ward`; 404 for a ward not visible)."""
    if not slug:
        return access.oa_ids
    return access.oa_ids_of(choose_ward(access, slug))


def ward_names(access: WardAccess) -> Callable[[str], str] | None:
    """The ward column of lists that show several wards: a row's OA id -> its ward's name
    (the OA id itself for an OA no ward claims). None: one ward visible, no column."""
    if access.only is not None:
        return None
    return lambda oa_id: w.name if (w := access.ward_of(oa_id)) is not None else oa_id


async def page_ward_access(services: ServicesDep, session: PageSession) -> WardAccess:
    return ward_access(services, session.user)


async def admin_ward_access(services: ServicesDep, session: AdminSession) -> WardAccess:
    return ward_access(services, session.user)


async def api_ward_access(
    services: ServicesDep,
    user: Annotated[StaffUser | None, Depends(require_staff_or_token)],
) -> WardAccess:
    return ward_access(services, user)


PageWards = Annotated[WardAccess, Depends(page_ward_access)]
"""The wards a console page's staff member sees."""
AdminWards = Annotated[WardAccess, Depends(admin_ward_access)]
ApiWards = Annotated[WardAccess, Depends(api_ward_access)]
"""The wards a staff API caller sees (the API token: every ward)."""
