"""The console's catalogue history (admins): who changed what and when, the diff between two
versions, and a rollback that makes an earlier version current again as a new version."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.catalogue_store import MAX_VERSION, CatalogueStore, UnknownVersion, save_and_follow
from app.errors import CatalogueConflict, CatalogueError
from app.services import Services
from app.staff import ConsoleSession
from app.web.auth import ServicesDep
from app.web.console.auth import AdminSession
from app.web.console.rendering import CATALOGUE_CONFLICT, render

router = APIRouter(prefix="/console/catalogue")

HISTORY_PAGE = 50
MAX_DIFF_LINES = 4000
"""Per document: a rollback across many versions can differ by thousands of lines."""

ORIGIN_LABELS = {
    "seed": "Khởi tạo từ tệp",
    "file": "Tệp được sửa",
    "import": "Nhập bằng lệnh",
    "console": "Sửa trên bảng điều khiển",
    "rollback": "Khôi phục",
}


def _store(services: Services) -> CatalogueStore:
    if services.catalogue is None:
        raise HTTPException(503, "Danh mục chưa sẵn sàng.")
    return services.catalogue


def _history_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    *,
    before: int | None = None,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    store = _store(services)
    versions = store.history(HISTORY_PAGE + 1, before)
    older = versions[HISTORY_PAGE - 1].version if len(versions) > HISTORY_PAGE else None
    timezone = ZoneInfo(services.knowledge.current.content.catalogue.ward.timezone)

    def local(moment: datetime) -> str:
        return f"{moment.astimezone(timezone):%H:%M %d/%m/%Y}"

    return render(
        request,
        "catalogue_history.html",
        session,
        status_code,
        versions=versions[:HISTORY_PAGE],
        older=older,
        current=store.current_version(),
        served=services.knowledge.version,
        refused=services.knowledge.refused,
        labels=ORIGIN_LABELS,
        local=local,
        message=message,
        error=error,
    )


@router.get("/history", response_class=HTMLResponse)
async def history_page(
    request: Request, services: ServicesDep, session: AdminSession, before: int | None = None
) -> Response:
    return _history_page(request, services, session, before=before)


def _line_kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "meta"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "same")


@router.get("/diff", response_class=HTMLResponse)
async def diff_page(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    to: Annotated[int, Query(ge=1, le=MAX_VERSION)],
    from_: Annotated[int | None, Query(alias="from", ge=0, le=MAX_VERSION)] = None,
) -> Response:
    store = _store(services)
    old = from_ if from_ is not None else to - 1
    try:
        diffs = await asyncio.to_thread(store.diff, old, to)
    except UnknownVersion as exc:
        raise HTTPException(404, f"Không có phiên bản {exc.version}.") from exc
    documents = [
        {
            "name": d.name,
            "lines": [(_line_kind(line), line) for line in d.lines[:MAX_DIFF_LINES]],
            "cut": max(0, len(d.lines) - MAX_DIFF_LINES),
        }
        for d in diffs
    ]
    return render(
        request,
        "catalogue_diff.html",
        session,
        old=old,
        new=to,
        info=store.info(to),
        labels=ORIGIN_LABELS,
        documents=documents,
    )


@router.post("/rollback", response_class=HTMLResponse)
async def rollback(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    version: Annotated[int, Form(ge=1, le=MAX_VERSION)],
    base: Annotated[int, Form(ge=1, le=MAX_VERSION)],
) -> Response:
    """Make `version` current again; `base` is the version the admin's page showed current."""
    store = _store(services)
    try:
        saved = await asyncio.to_thread(
            save_and_follow,
            services.knowledge,
            lambda: store.rollback(
                version,
                base=base,
                author=session.user.username,
                reason=f"Khôi phục phiên bản {version}",
            ),
        )
    except UnknownVersion as exc:
        raise HTTPException(404, f"Không có phiên bản {exc.version}.") from exc
    except CatalogueConflict:
        return _history_page(request, services, session, error=CATALOGUE_CONFLICT, status_code=409)
    except CatalogueError as exc:
        return _history_page(
            request,
            services,
            session,
            error=f"Không thể khôi phục vì phiên bản {version} không còn hợp lệ: "
            + "; ".join(str(p) for p in exc.problems),
            status_code=422,
        )
    message = (
        f"Đã khôi phục phiên bản {version} thành phiên bản mới {saved.version}; "
        "trợ lý sẽ dùng trong vài giây."
        if saved is not None
        else f"Phiên bản hiện tại đã giống hệt phiên bản {version}."
    )
    return _history_page(request, services, session, message=message)
