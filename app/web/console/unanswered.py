"""Unanswered questions (admins): grouped by similarity, with a preview of what adding a
phrase to a procedure would answer, and the addition as a new catalogue version."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from app.catalogue.documents import PROCEDURES
from app.catalogue.editor import EditRefused, PhraseKind, text_with_phrase
from app.catalogue_store import MAX_VERSION, UnknownVersion, save_and_follow
from app.errors import CatalogueConflict, CatalogueError
from app.matching.evaluate import example_questions
from app.matching.grouping import AskedQuestion, QuestionGroup, group_questions
from app.matching.matcher import Matcher
from app.matching.preview import preview_change, with_phrase
from app.services import Services
from app.staff import ConsoleSession
from app.storage.questions import unanswered_since
from app.web.auth import ServicesDep
from app.web.console.auth import AdminSession
from app.web.console.rendering import CATALOGUE_CONFLICT, render

router = APIRouter(prefix="/console")


UNANSWERED_DAYS = 30


def _unanswered_groups(services: Services) -> list[QuestionGroup]:
    rows = unanswered_since(services.db, since=datetime.now(UTC) - timedelta(days=UNANSWERED_DAYS))
    asked = [
        AskedQuestion(
            row.text, tuple((c["id"], float(c["score"])) for c in json.loads(row.candidates))
        )
        for row in rows
    ]
    return group_questions(asked)


def _unanswered_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    preview: dict[str, Any] | None = None,
) -> HTMLResponse:
    catalogue = services.knowledge.current.content.catalogue
    groups = []
    for group in _unanswered_groups(services)[:100]:
        nearest = [p for i in group.top_nearest() if (p := catalogue.procedure(i)) is not None]
        groups.append(
            {
                "count": group.count,
                "text": group.representative,
                "others": sorted(set(group.texts) - {group.representative})[:3],
                "nearest": nearest,
            }
        )
    return render(
        request,
        "unanswered.html",
        session,
        status_code,
        groups=groups,
        procedures=catalogue.procedures,
        days=UNANSWERED_DAYS,
        version=services.knowledge.version,
        message=message,
        error=error,
        preview=preview,
    )


def _preview_phrase(services: Services, code: str, text: str, kind: PhraseKind) -> dict[str, Any]:
    """What adding `text` to procedure `code` would answer and take away; nothing is saved."""
    snapshot = services.knowledge.current
    content = snapshot.content
    changed = with_phrase(content.catalogue, code, " ".join(text.split()), kind.value)
    after = Matcher(changed, content.intents)
    groups = _unanswered_groups(services)
    result = preview_change(snapshot.matcher, after, groups, example_questions(content.catalogue))

    def name(identifier: str | None) -> str:
        procedure = changed.procedure(identifier) if identifier else None
        if procedure is not None:
            return procedure.short_name
        return identifier.removeprefix("intent:") if identifier else "chưa trả lời được"

    return {
        "text": text,
        "code": code,
        "kind": kind.value,
        "version": snapshot.version,  # the save button adds on top of the version previewed
        "short_name": name(code),
        "answered": [
            {"text": c.group.representative, "count": c.group.count, "better": c.answered,
             "before": name(c.before), "after": name(c.after)}
            for c in result.now_answered
        ],
        "redirected": [
            {"text": c.group.representative, "count": c.group.count,
             "before": name(c.before), "after": name(c.after)}
            for c in result.redirected
        ],
        "lost": [
            {"text": e.question.text, "after": name(e.after)} for e in result.lost_examples
        ],
    }  # fmt: skip


@router.post("/unanswered/preview", response_class=HTMLResponse)
async def unanswered_preview(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    text: Annotated[str, Form(min_length=1, max_length=500)],
    code: Annotated[str, Form(min_length=1, max_length=40)],
    kind: Annotated[PhraseKind, Form()] = PhraseKind.alias,
) -> Response:
    """The effect of adding a phrase, shown before the admin saves it."""
    if services.knowledge.current.content.catalogue.procedure(code) is None:
        return _unanswered_page(
            request, services, session, error=f"Không có thủ tục mã {code}.", status_code=422
        )
    preview = await asyncio.to_thread(_preview_phrase, services, code, text, kind)
    return _unanswered_page(request, services, session, preview=preview)


@router.get("/unanswered", response_class=HTMLResponse)
async def unanswered_page(
    request: Request, services: ServicesDep, session: AdminSession
) -> Response:
    return _unanswered_page(request, services, session)


@router.post("/unanswered/add", response_class=HTMLResponse)
async def unanswered_add(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    text: Annotated[str, Form(min_length=1, max_length=500)],
    code: Annotated[str, Form(min_length=1, max_length=40)],
    kind: Annotated[PhraseKind, Form()] = PhraseKind.alias,
    version: Annotated[int | None, Form(ge=1, le=MAX_VERSION)] = None,
) -> Response:
    """Add a phrase on top of `version`, the catalogue version the admin's page showed (a
    form without it adds to the newest: an addition cannot undo anyone's edit)."""
    store = services.catalogue
    if store is None:
        raise HTTPException(503, "Danh mục chưa sẵn sàng.")
    base = version if version is not None else store.current_version()
    if base is None:
        raise HTTPException(503, "Danh mục chưa sẵn sàng.")
    label = "tên gọi khác" if kind is PhraseKind.alias else "câu hỏi mẫu"
    try:
        saved = await asyncio.to_thread(
            save_and_follow,
            services.knowledge,
            lambda: store.edit(
                PROCEDURES,
                lambda procedures: text_with_phrase(procedures, code, text, kind),
                base=base,
                author=session.user.username,
                reason=f"Thêm {label} “{' '.join(text.split())}” cho thủ tục {code}",
            ),
        )
    except EditRefused as exc:
        return _unanswered_page(request, services, session, error=str(exc), status_code=422)
    except (CatalogueConflict, UnknownVersion):  # a version that does not exist: stale too
        return _unanswered_page(
            request, services, session, error=CATALOGUE_CONFLICT, status_code=409
        )
    except CatalogueError as exc:
        return _unanswered_page(
            request,
            services,
            session,
            error="Không thể thêm vì danh mục sẽ không hợp lệ: "
            + "; ".join(str(p) for p in exc.problems),
            status_code=422,
        )
    message = (
        f"Đã thêm “{text}” làm {label} của thủ tục {code} (phiên bản {saved.version}); "
        "trợ lý sẽ dùng trong vài giây."
        if saved is not None
        else f"“{text}” đã có sẵn trong thủ tục {code}."
    )
    return _unanswered_page(request, services, session, message=message)
