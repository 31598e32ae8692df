"""The ward list (province admins): each ward's slug, OA and name, and its accounts."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.storage.staff import list_staff
from app.web.auth import ServicesDep
from app.web.console.auth import PageSession, PageWards
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


@router.get("/wards", response_class=HTMLResponse)
async def wards_page(
    request: Request, services: ServicesDep, session: PageSession, access: PageWards
) -> Response:
    if not session.user.is_province:
        raise HTTPException(403, "Chức năng này chỉ dành cho quản trị cấp tỉnh.")
    accounts = Counter(a.ward for a in list_staff(services.db) if a.active)
    return render(
        request,
        "wards.html",
        session,
        wards=[
            (w, accounts[w.slug] + (accounts[None] if access.single else 0)) for w in access.wards
        ],
    )
