"""Staff accounts (admins): list, add or change, lock and unlock."""

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
from app.storage.staff import list_staff, set_active
from app.web.auth import ServicesDep
from app.web.console.auth import AdminSession
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


@router.get("/staff", response_class=HTMLResponse)
async def staff_page(request: Request, services: ServicesDep, session: AdminSession) -> Response:
    return _staff_page(request, services, session)


def _staff_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "staff.html",
        session,
        status_code,
        accounts=list_staff(services.db),
        message=message,
        error=error,
    )


@router.post("/staff", response_class=HTMLResponse)
async def staff_save(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    username: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[Role, Form()] = Role.staff,
) -> Response:
    try:
        user = await asyncio.to_thread(add_staff, services.db, username, password, role)
    except AccountInvalid:
        return _staff_page(
            request,
            services,
            session,
            error="Tên đăng nhập gồm 2–40 ký tự (chữ thường không dấu, số, dấu chấm, gạch "
            f"ngang, gạch dưới) và mật khẩu có ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
            status_code=422,
        )
    return _staff_page(request, services, session, message=f"Đã lưu tài khoản {user.username}.")


@router.post("/staff/{username}/active", response_class=HTMLResponse)
async def staff_active(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    username: str,
    active: Annotated[bool, Form()] = False,
) -> Response:
    if username == session.user.username and not active:
        return _staff_page(
            request,
            services,
            session,
            error="Không thể tự khóa tài khoản đang đăng nhập.",
            status_code=422,
        )
    if not set_active(services.db, username, active):
        raise HTTPException(404, "Không có tài khoản này.")
    state = "mở lại" if active else "khóa"
    return _staff_page(request, services, session, message=f"Đã {state} tài khoản {username}.")
