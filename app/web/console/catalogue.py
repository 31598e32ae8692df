"""The catalogue page (admins): search procedures, preview an answer, completeness, reload
(the fact form: catalogue_form; history, diff and rollback: catalogue_history)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.catalogue.completeness import ASPECTS as COMPLETENESS_ASPECTS
from app.catalogue.completeness import LABELS as COMPLETENESS_LABELS
from app.catalogue.completeness import Source, completeness_of
from app.catalogue_files import reload_now
from app.dialogue.cards import procedure_summary
from app.errors import CatalogueError
from app.services import Services
from app.staff import ConsoleSession
from app.web.auth import ServicesDep
from app.web.console.auth import AdminSession
from app.web.console.rendering import render

router = APIRouter(prefix="/console")


def _catalogue_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    query: str = "",
    code: str | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    catalogue = services.knowledge.current.content.catalogue
    needle = query.strip().lower()
    procedures = [
        p
        for p in catalogue.procedures
        if not needle
        or needle in p.name.lower()
        or needle in p.code.lower()
        or any(needle in a.lower() for a in p.aliases)
    ]
    preview = None
    chosen = catalogue.procedure(code) if code else None
    if chosen is not None:
        preview = procedure_summary(chosen, catalogue)
    rows = {row.code: row for row in completeness_of(catalogue)}
    return render(
        request,
        "catalogue.html",
        session,
        status_code,
        query=query,
        procedures=procedures,
        chosen=chosen,
        preview=preview,
        problems=[str(p) for p in services.knowledge.problems],
        refused=services.knowledge.refused,
        version=services.knowledge.version,
        message=message,
        total=len(catalogue.procedures),
        completeness=rows,
        labels=COMPLETENESS_LABELS,
        counts={
            aspect: sum(1 for r in rows.values() if r.sources()[aspect] is not Source.missing)
            for aspect in COMPLETENESS_ASPECTS
        },
        without_plain=sum(1 for p in catalogue.procedures if p.plain is None),
    )


@router.get("/catalogue", response_class=HTMLResponse)
async def catalogue_page(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    q: str = "",
    code: str | None = None,
    saved: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """`saved`: the version the fact form just saved (0: the form changed nothing)."""
    message = None
    if saved == 0:
        message = "Thông tin thủ tục không thay đổi."
    elif saved is not None:
        message = f"Đã lưu thông tin thủ tục (phiên bản {saved}); trợ lý sẽ dùng trong vài giây."
    return _catalogue_page(request, services, session, q, code, message)


@router.post("/catalogue/reload", response_class=HTMLResponse)
async def catalogue_reload(
    request: Request, services: ServicesDep, session: AdminSession
) -> Response:
    try:
        snapshot = await asyncio.to_thread(
            reload_now,
            services.catalogue_files,
            services.knowledge,
            watch_files=services.settings.watch_catalogue_files,
        )
    except CatalogueError:
        return _catalogue_page(
            request,
            services,
            session,
            message="Danh mục có lỗi nên chưa được nạp; danh mục cũ vẫn đang phục vụ người dân.",
            status_code=422,
        )
    return _catalogue_page(
        request,
        services,
        session,
        message=f"Đã nạp lại danh mục: phiên bản {snapshot.version}, "
        f"{len(snapshot.content.catalogue.procedures)} thủ tục.",
    )
