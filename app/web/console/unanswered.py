"""Unanswered questions (admins): grouped by similarity, with a preview of what adding a
phrase to a procedure would answer, and the addition as a new catalogue version. A ward's
admin sees the questions asked to their ward's OA; another ward's question is a 404."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
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
from app.storage.questions import get_unanswered, unanswered_since
from app.storage.tables import UnansweredQuestion
from app.ward_access import WardAccess
from app.web.auth import ServicesDep
from app.web.console.auth import AdminSession, AdminWards, check_visible
from app.web.console.rendering import CATALOGUE_CONFLICT, render

router = APIRouter(prefix="/console")


UNANSWERED_DAYS = 30


NO_QUESTION = "Không có câu hỏi này."


def _recent_unanswered(services: Services, access: WardAccess) -> Sequence[UnansweredQuestion]:
    since = datetime.now(UTC) - timedelta(days=UNANSWERED_DAYS)
    return unanswered_since(services.db, since=since, oa_ids=access.oa_ids)


def _unanswered_groups(services: Services, access: WardAccess) -> list[QuestionGroup]:
    rows = _recent_unanswered(services, access)
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
    access: WardAccess,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    preview: dict[str, Any] | None = None,
) -> HTMLResponse:
    catalogue = services.knowledge.current.content.catalogue
    newest = {q.text: q.id for q in _recent_unanswered(services, access)}
    groups = []
    for group in _unanswered_groups(services, access)[:100]:
        nearest = [p for i in group.top_nearest() if (p := catalogue.procedure(i)) is not None]
        groups.append(
            {
                "count": group.count,
                "text": group.representative,
                "others": sorted(set(group.texts) - {group.representative})[:3],
                "nearest": nearest,
                "id": newest.get(group.representative),
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


def _preview_phrase(
    services: Services, access: WardAccess, code: str, text: str, kind: PhraseKind
) -> dict[str, Any]:
    """What adding `text` to procedure `code` would answer and take away; nothing is saved."""
    snapshot = services.knowledge.current
    content = snapshot.content
    changed = with_phrase(content.catalogue, code, " ".join(text.split()), kind.value)
    after = Matcher(changed, content.intents)
    groups = _unanswered_groups(services, access)
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
    access: AdminWards,
    text: Annotated[str, Form(min_length=1, max_length=500)],
    code: Annotated[str, Form(min_length=1, max_length=40)],
    kind: Annotated[PhraseKind, Form()] = PhraseKind.alias,
) -> Response:
    """The effect of adding a phrase, shown before the admin saves it."""
    if services.knowledge.current.content.catalogue.procedure(code) is None:
        return _unanswered_page(
            request,
            services,
            session,
            access,
            error=f"Không có thủ tục mã {code}.",
            status_code=422,
        )
    preview = await asyncio.to_thread(_preview_phrase, services, access, code, text, kind)
    return _unanswered_page(request, services, session, access, preview=preview)


@router.get("/unanswered", response_class=HTMLResponse)
async def unanswered_page(
    request: Request, services: ServicesDep, session: AdminSession, access: AdminWards
) -> Response:
    return _unanswered_page(request, services, session, access)


@router.get("/unanswered/{question_id}", response_class=HTMLResponse)
async def unanswered_question(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    access: AdminWards,
    question_id: int,
) -> Response:
    """One question as the resident asked it, and the procedures nearest to it then."""
    question = get_unanswered(services.db, question_id)
    if question is None:
        raise HTTPException(404, NO_QUESTION)
    check_visible(access, question.oa_id, NO_QUESTION)
    catalogue = services.knowledge.current.content.catalogue
    nearest = [
        p
        for c in json.loads(question.candidates)
        if (p := catalogue.procedure(str(c.get("id")))) is not None
    ]
    ward = access.ward_of(question.oa_id)
    return render(
        request,
        "unanswered_question.html",
        session,
        question=question,
        ward=ward.name if ward is not None else question.oa_id,
        nearest=nearest,
        procedures=catalogue.procedures,
        version=services.knowledge.version,
    )


@router.post("/unanswered/add", response_class=HTMLResponse)
async def unanswered_add(
    request: Request,
    services: ServicesDep,
    session: AdminSession,
    access: AdminWards,
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
        return _unanswered_page(request, services, session, access, error=str(exc), status_code=422)
    except (CatalogueConflict, UnknownVersion):  # a version that does not exist: stale too
        return _unanswered_page(
            request, services, session, access, error=CATALOGUE_CONFLICT, status_code=409
        )
    except CatalogueError as exc:
        return _unanswered_page(
            request,
            services,
            session,
            access,
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
    return _unanswered_page(request, services, session, access, message=message)
