"""Staff accounts (admins): list, add or change, lock and unlock. A ward's admin manages their
ward's accounts; a province admin every account, including other province admins."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.services import Services
from app.staff import (
    MIN_PASSWORD_LENGTH,
    AccountInvalid,
    ConsoleSession,
    Role,
    add_staff,
)
from app.storage.staff import list_staff, set_active, staff_by_username
from app.ward_access import WardAccess, WardNotVisible, WardRequired
from app.web.auth import ServicesDep
from app.web.console.auth import AdminSession, AdminWards
from app.web.console.rendering import render

router = APIRouter(prefix="/console")

ROLE_LABELS = {
    Role.admin.value: "Quản trị viên",
    Role.staff.value: "Cán bộ",
    Role.province.value: "Quản trị cấp tỉnh",
}
NO_ACCOUNT = "Không có tài khoản này."


@router.get("/staff", response_class=HTMLResponse)
async def staff_page(
    request: Request, services: ServicesDep, session: AdminSession, access: AdminWards
) -> Response:
    return _staff_page(request, services, session, access)


def _staff_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    access: WardAccess,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    names = {w.slug: w.name for w in access.wards}
    return render(
        request,
        "staff.html",
        session,
        status_code,
        accounts=list_staff(services.db, access.account_wards()),
        roles=ROLE_LABELS,
        ward_names=names,
        wards=access.wards if access.everywhere and not access.single else (),
        message=message,
        error=error,
    )


@router.post("/staff", response_class=HTMLResponse)
async def staff_save(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    access: AdminWards,
    username: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[Role, Form()] = Role.staff,
    ward: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if role is Role.province and not access.everywhere:
        raise HTTPException(403, "Chỉ quản trị cấp tỉnh mới tạo được tài khoản cấp tỉnh.")
    existing = staff_by_username(services.db, username.strip().lower())
    if existing is not None and not _manages(access, existing.ward, existing.role):
        # Another ward's account: not to be reset from here (nor confirmed to exist).
        return _staff_page(
            request,
            services,
            session,
            access,
            error="Tên đăng nhập này đã được dùng.",
            status_code=422,
        )
    slug: str | None = None
    # A one-ward deployment keeps accounts without a ward, as before wards existed.
    if role is not Role.province and not (access.single and not ward):
        try:
            slug = access.choose(ward or None).slug
        except WardRequired:
            return _staff_page(
                request,
                services,
                session,
                access,
                error="Hãy chọn phường/xã của tài khoản.",
                status_code=422,
            )
        except WardNotVisible as exc:
            raise HTTPException(404, "Không có phường/xã này.") from exc
    try:
        user = await asyncio.to_thread(add_staff, services.db, username, password, role, slug)
    except AccountInvalid:
        return _staff_page(
            request,
            services,
            session,
            access,
            error="Tên đăng nhập gồm 2–40 ký tự (chữ thường không dấu, số, dấu chấm, gạch "
            f"ngang, gạch dưới) và mật khẩu có ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
            status_code=422,
        )
    return _staff_page(
        request, services, session, access, message=f"Đã lưu tài khoản {user.username}."
    )


def _manages(access: WardAccess, ward: str | None, role: str) -> bool:
    """Whether this admin manages an account of `ward` and `role`."""
    if access.everywhere:
        return True
    wards = access.account_wards()
    return role != Role.province.value and wards is not None and ward in wards


@router.post("/staff/{username}/active", response_class=HTMLResponse)
async def staff_active(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    access: AdminWards,
    username: str,
    active: Annotated[bool, Form()] = False,
) -> Response:
    if username == session.user.username and not active:
        return _staff_page(
            request,
            services,
            session,
            access,
            error="Không thể tự khóa tài khoản đang đăng nhập.",
            status_code=422,
        )
    account = staff_by_username(services.db, username)
    if account is None or not _manages(access, account.ward, account.role):
        raise HTTPException(404, NO_ACCOUNT)
    if not set_active(services.db, username, active):
        raise HTTPException(404, NO_ACCOUNT)
    state = "mở lại" if active else "khóa"
    return _staff_page(
        request, services, session, access, message=f"Đã {state} tài khoản {username}."
    )
