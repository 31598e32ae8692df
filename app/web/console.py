"""The staff console: server-rendered Vietnamese pages under /console.

Every page needs a signed-in staff member (app.web.console_auth); admin pages need the admin
role. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.announcements import AnnouncementInvalid, CsvInvalid, import_csv, prepare_announcement
from app.catalogue.completeness import ASPECTS as COMPLETENESS_ASPECTS
from app.catalogue.completeness import LABELS as COMPLETENESS_LABELS
from app.catalogue.completeness import Source, completeness_of
from app.catalogue.documents import PROCEDURES
from app.catalogue.editor import EditRefused, PhraseKind, text_with_phrase
from app.catalogue_files import reload_now
from app.catalogue_store import MAX_VERSION, UnknownVersion, save_and_follow
from app.dialogue.cards import procedure_summary
from app.dialogue.conversation import ConversationState
from app.dialogue.notices import announcement_reply, reason_label
from app.dialogue.reply import Reply
from app.errors import CatalogueConflict, CatalogueError
from app.jobs.announcements import announcing_oa_id
from app.knowledge import Knowledge
from app.matching.evaluate import example_questions
from app.matching.grouping import AskedQuestion, QuestionGroup, group_questions
from app.matching.matcher import Matcher
from app.matching.preview import preview_change, with_phrase
from app.reports.dialogue import Status, report_code
from app.reports.service import ReportNotFound, ResidentReports
from app.services import Services, ZaloConnectionState, services_of
from app.staff import (
    MIN_PASSWORD_LENGTH,
    AccountInvalid,
    ConsoleSession,
    Role,
    add_staff,
    authenticate,
    close_session,
    open_session,
    same_token,
)
from app.storage.announcements import (
    announcement_status,
    create_announcement,
    recent_announcement_ids,
)
from app.storage.events import count_messages
from app.storage.followers import get_follower
from app.storage.groups import members_per_group, memberships
from app.storage.questions import count_unanswered, top_asked, unanswered_since
from app.storage.reports import counts_by, get_report, list_reports, replies_of
from app.storage.staff import list_staff, set_active
from app.web.announcements import MAX_CSV_BYTES
from app.web.auth import ServicesDep
from app.web.console_auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AdminSession,
    ApiSession,
    OptionalSession,
    PageSession,
    set_cookie,
    set_session_cookie,
)

router = APIRouter(prefix="/console")
templates = Jinja2Templates(directory=Path(__file__).parent / "templates" / "console")
UNANSWERED_DAYS = 30
CATALOGUE_CONFLICT = "Danh mục vừa được người khác cập nhật, vui lòng tải lại trang và thử lại."
"""A save whose base version is no longer current (CatalogueConflict)."""


def render(
    request: Request,
    name: str,
    session: ConsoleSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    user = session.user if session else None
    banner = catalogue_warning = None
    if user is not None:
        services = services_of(request.app.state)
        timezone = ZoneInfo(services.knowledge.current.content.catalogue.ward.timezone)
        banner = zalo_banner(services.zalo_connection(), timezone)
        if user.is_admin:
            catalogue_warning = catalogue_banner(services.knowledge)
    context.update(
        session=session, user=user, zalo_banner=banner, catalogue_banner=catalogue_warning
    )
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    # Console pages show residents' data: never cache them, never frame them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def zalo_banner(connection: ZaloConnectionState | None, timezone: tzinfo) -> str | None:
    """The warning every console page shows while residents' replies cannot go out."""
    if connection is None:
        return None
    held = connection.held_replies
    if not connection.ok:
        since = ""
        if connection.since is not None:
            local = connection.since.astimezone(timezone)
            since = f" từ {local:%H:%M} ngày {local:%d/%m/%Y}"
        code = f" (mã lỗi {connection.error_code})" if connection.error_code is not None else ""
        return (
            f"Mất kết nối Zalo OA{since}{code}. Tin nhắn của người dân vẫn được nhận và lưu; "
            f"{held} tin trả lời đang chờ và sẽ tự gửi khi kết nối lại. Quản trị viên cần "
            "kết nối lại OA: chạy lệnh «wardbot zalo connect» rồi mở đường liên kết được in ra."
        )
    if held:
        return (
            f"{held} tin trả lời đang chờ gửi lại vì Zalo tạm thời không phản hồi; "
            "hệ thống sẽ tự gửi khi Zalo hoạt động lại."
        )
    return None


def catalogue_banner(knowledge: Knowledge) -> str | None:
    """The warning admins see on every page while a catalogue version or edit was refused."""
    if knowledge.refused is not None:
        return (
            f"Phiên bản {knowledge.refused.version} của danh mục có lỗi nên chưa được dùng; "
            f"trợ lý vẫn trả lời theo phiên bản {knowledge.version}. Xem trang Danh mục thủ tục."
        )
    if knowledge.file_problems:
        return (
            "Tệp danh mục vừa sửa có lỗi nên chưa được nhập; trợ lý vẫn trả lời theo phiên bản "
            f"{knowledge.version}. Xem trang Danh mục thủ tục."
        )
    return None


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


# Login --------------------------------------------------------------------------------------


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


# Dashboard ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, services: ServicesDep, session: PageSession) -> Response:
    catalogue = services.knowledge.current.content.catalogue
    ward = catalogue.ward
    now = datetime.now(ZoneInfo(ward.timezone))
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    counts = members_per_group(services.db, announcing_oa_id(services.settings))
    groups = [(g.name, counts.get(g.id, 0)) for g in ward.residential_groups]
    return render(
        request,
        "dashboard.html",
        session,
        ward=ward.name,
        messages_today=count_messages(services.db, today),
        messages_week=count_messages(services.db, week),
        unanswered_week=count_unanswered(services.db, now - timedelta(days=7)),
        groups=groups,
        problems=[str(p) for p in services.knowledge.problems],
        reports=counts_by(services.db, "status"),
        top=[
            (code, p.short_name if (p := catalogue.procedure(code)) else code, n)
            for code, n in top_asked(services.db, now - timedelta(days=7))
        ],
        ratings=counts_by(services.db, "rating"),
    )


# Catalogue ----------------------------------------------------------------------------------


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


# Unanswered questions -----------------------------------------------------------------------


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


# Staff accounts -----------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse)
async def staff_page(request: Request, services: ServicesDep, session: AdminSession) -> Response:
    return _staff_page(request, services, session)


# Residents' reports ----------------------------------------------------------------------------

STATUS_LABELS = {
    Status.new: "Mới",
    Status.assigned: "Đang xử lý",
    Status.answered: "Đã phản hồi",
    Status.closed: "Đã đóng",
}


def _reports(services: Services) -> ResidentReports:
    reports = services.inbox.reports
    if reports is None:
        raise HTTPException(404, "Chức năng phản ánh chưa được bật.")
    return reports


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request, services: ServicesDep, session: PageSession, status: str = ""
) -> Response:
    chosen = status if status in {s.value for s in Status} else None
    return render(
        request,
        "reports.html",
        session,
        reports=list_reports(services.db, chosen),
        status=chosen or "",
        labels=STATUS_LABELS,
        code=report_code,
    )


def _report_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    report_id: int,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    report = get_report(services.db, report_id)
    if report is None:
        raise HTTPException(404, "Không có phản ánh này.")
    return render(
        request,
        "report.html",
        session,
        status_code,
        report=report,
        replies=replies_of(services.db, report_id),
        labels=STATUS_LABELS,
        code=report_code(report_id),
        message=message,
        staff=[a.username for a in list_staff(services.db) if a.active],
    )


@router.get("/reports/{report_id}", response_class=HTMLResponse)
async def report_page(
    request: Request, services: ServicesDep, session: PageSession, report_id: int
) -> Response:
    return _report_page(request, services, session, report_id)


@router.post("/reports/{report_id}/assign", response_class=HTMLResponse)
async def report_assign(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    report_id: int,
    assignee: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        _reports(services).assign(report_id, assignee)
    except ReportNotFound as exc:
        raise HTTPException(404, "Không có phản ánh này.") from exc
    who = assignee or "chưa ai"
    return _report_page(request, services, session, report_id, f"Đã giao cho {who}.")


@router.post("/reports/{report_id}/reply", response_class=HTMLResponse)
async def report_reply(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    report_id: int,
    text: Annotated[str, Form(min_length=1, max_length=2000)],
    close: Annotated[bool, Form()] = False,
) -> Response:
    report = get_report(services.db, report_id)
    if report is None:
        raise HTTPException(404, "Không có phản ánh này.")
    follower = get_follower(services.db, report.oa_id, report.user_id)
    outcome = await _reports(services).reply(
        report_id,
        session.user.username,
        text.strip(),
        close=close,
        now=datetime.now(UTC),
        last_interaction=follower.last_interaction_at if follower else None,
    )
    if outcome.delivered:
        message = "Đã gửi phản hồi tới người dân qua Zalo."
    elif outcome.deferred:
        message = (
            "Người dân không nhắn tin trong 7 ngày qua nên Zalo chưa cho gửi; phản hồi sẽ "
            "được gửi ngay khi người dân nhắn tin lại."
        )
    elif outcome.held:
        # Not to be sent again by hand: what did not go out goes out by itself, only that.
        message = (
            "Kết nối Zalo đang gián đoạn: phản hồi đã được lưu và sẽ tự động gửi khi kết nối "
            "trở lại (không cần gửi lại)."
        )
    else:
        message = (
            f"Zalo không nhận phản hồi ({outcome.failure}); phường sẽ thử gửi lại khi người "
            "dân nhắn tin tới."
        )
    if close:
        message += " Phản ánh đã được đóng và người dân được mời đánh giá."
    return _report_page(request, services, session, report_id, message)


# Announcements and residential groups ----------------------------------------------------------


def _announcement_form(
    request: Request,
    services: Services,
    session: ConsoleSession,
    *,
    form: dict[str, Any] | None = None,
    preview: Reply | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ward = services.knowledge.current.content.catalogue.ward
    counts = members_per_group(services.db, announcing_oa_id(services.settings))
    history = [
        s
        for i in recent_announcement_ids(services.db)
        if (s := announcement_status(services.db, i)) is not None
    ]
    return render(
        request,
        "announcements.html",
        session,
        status_code,
        groups=[(g, counts.get(g.id, 0)) for g in ward.residential_groups],
        form=form or {"groups": []},
        preview=preview,
        error=error,
        history=history,
        group_names={g.id: g.name for g in ward.residential_groups},
    )


@router.get("/announcements", response_class=HTMLResponse)
async def announcements_page(
    request: Request, services: ServicesDep, session: PageSession
) -> Response:
    return _announcement_form(request, services, session)


@router.post("/announcements", response_class=HTMLResponse)
async def announcements_submit(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    text: Annotated[str, Form(max_length=10_000)] = "",
    groups: Annotated[list[str] | None, Form()] = None,
    everyone: Annotated[bool, Form()] = False,
    link_url: Annotated[str, Form(max_length=2000)] = "",
    link_title: Annotated[str, Form(max_length=100)] = "",
    image_url: Annotated[str, Form(max_length=2000)] = "",
    scheduled_at: Annotated[str, Form(max_length=40)] = "",
    urgent: Annotated[bool, Form()] = False,
    action: Annotated[str, Form(max_length=20)] = "preview",
) -> Response:
    ward = services.knowledge.current.content.catalogue.ward
    form = {
        "text": text,
        "groups": groups or [],
        "everyone": everyone,
        "link_url": link_url,
        "link_title": link_title,
        "image_url": image_url,
        "scheduled_at": scheduled_at,
        "urgent": urgent,
    }
    try:
        draft = prepare_announcement(
            oa_id=announcing_oa_id(services.settings),
            text=text,
            groups=groups or [],
            all_followers=everyone,
            ward_groups=ward.residential_groups,
            timezone=ward.timezone,
            image_url=image_url or None,
            link_url=link_url or None,
            link_title=link_title or None,
            urgent=urgent,
            scheduled_at=scheduled_at or None,
            created_by=session.user.username,
        )
    except AnnouncementInvalid as exc:
        return _announcement_form(
            request, services, session, form=form, error=str(exc), status_code=422
        )
    if action != "send":
        preview = announcement_reply(
            draft.text,
            link_url=draft.link_url,
            link_title=draft.link_title,
            image_url=draft.image_url,
        )
        return _announcement_form(request, services, session, form=form, preview=preview)
    announcement_id = create_announcement(services.db, draft, datetime.now(UTC))
    if services.announcer is not None:
        services.announcer.wake()
    return RedirectResponse(f"/console/announcements/{announcement_id}", 303)


@router.get("/announcements/{announcement_id}", response_class=HTMLResponse)
async def announcement_page(
    request: Request, services: ServicesDep, session: PageSession, announcement_id: int
) -> Response:
    status = announcement_status(services.db, announcement_id)
    if status is None:
        raise HTTPException(404, "Không có thông báo này.")
    ward = services.knowledge.current.content.catalogue.ward
    return render(
        request,
        "announcement.html",
        session,
        status=status,
        data=status.as_json(),
        reason_label=reason_label,
        group_names={g.id: g.name for g in ward.residential_groups},
    )


@router.get("/groups", response_class=HTMLResponse)
async def groups_page(request: Request, services: ServicesDep, session: PageSession) -> Response:
    return _groups_page(request, services, session)


def _groups_page(
    request: Request,
    services: Services,
    session: ConsoleSession,
    message: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ward = services.knowledge.current.content.catalogue.ward
    oa_id = announcing_oa_id(services.settings)
    counts = members_per_group(services.db, oa_id)
    names = {g.id: g.name for g in ward.residential_groups}
    return render(
        request,
        "groups.html",
        session,
        status_code,
        groups=[(g, counts.get(g.id, 0)) for g in ward.residential_groups],
        members=[(u, names.get(g, g)) for u, g in memberships(services.db, oa_id)][:500],
        message=message,
        problems=problems or [],
    )


@router.post("/groups/import", response_class=HTMLResponse)
async def groups_import(
    request: Request,
    services: ServicesDep,
    session: PageSession,
    file: Annotated[UploadFile, File()],
) -> Response:
    raw = await file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return _groups_page(
            request, services, session, problems=["Tệp quá lớn (tối đa 5 MB)."], status_code=413
        )
    try:
        counts = import_csv(
            services.db,
            announcing_oa_id(services.settings),
            raw.decode("utf-8-sig"),
            services.knowledge.current.content.catalogue.ward.residential_groups,
            datetime.now(UTC),
        )
    except UnicodeDecodeError:
        return _groups_page(
            request, services, session, problems=["Tệp CSV phải ở dạng UTF-8."], status_code=422
        )
    except CsvInvalid as exc:
        return _groups_page(request, services, session, problems=exc.problems, status_code=422)
    return _groups_page(
        request,
        services,
        session,
        message=f"Đã nhập: thêm {counts.added}, đổi tổ {counts.changed}, "
        f"không đổi {counts.unchanged}.",
    )


# Simulator -------------------------------------------------------------------------------------


@router.get("/simulator", response_class=HTMLResponse)
async def simulator_page(request: Request, services: ServicesDep, session: PageSession) -> Response:
    return render(
        request,
        "simulator.html",
        session,
        ward=services.knowledge.current.content.catalogue.ward.name,
    )


@router.post("/simulator")
async def simulator_turn(
    request: Request,
    services: ServicesDep,
    session: ApiSession,
    text: Annotated[str, Form(min_length=1, max_length=4000)],
) -> dict[str, Any]:
    """One simulated resident message through the real dialogue (nothing sent, nothing stored):
    each staff member chats from their own state, kept in memory per username."""
    snapshot = services.knowledge.current
    states: dict[str, ConversationState] | None = getattr(
        request.app.state, "console_simulator_states", None
    )
    if states is None:
        states = {}
        request.app.state.console_simulator_states = states
    key = session.user.username
    turn = snapshot.dialogue.respond(text, states.get(key, ConversationState()), datetime.now(UTC))
    states[key] = turn.state
    return {
        "replies": [
            {
                "text": r.text,
                "buttons": [{"title": b.title, "payload": b.payload} for b in r.buttons],
            }
            for r in turn.replies
        ]
    }


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
