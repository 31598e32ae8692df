"""The composition root: create_app(settings) builds the service; the lifespan owns resources."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from app.announcements import ResidentAnnouncements
from app.catalogue.documents import DocumentPaths
from app.catalogue.models import ResidentialGroup
from app.catalogue_files import CatalogueFiles
from app.catalogue_store import CatalogueStore
from app.config import Settings
from app.inbox import Inbox, InboxPolicy
from app.jobs.announcements import AnnouncementWorker, TagMirror, TokenBucket
from app.jobs.background import Background
from app.jobs.tasks import EventQueue
from app.knowledge import Knowledge
from app.metrics import CONTENT_TYPE, Metrics, WebhookTimer
from app.outbox import Outbox
from app.outbox.held import HeldReplies
from app.reports.service import ResidentReports
from app.services import Services, services_of
from app.storage.connection import record_connection
from app.storage.database import Database
from app.storage.tokens import DatabaseTokenStore
from app.throttle import ResidentThrottle
from app.web import (
    admin,
    announcements,
    console,
    residents,
    simulator,
    zalo_oauth,
)
from app.zalo.client import RetryPolicy, ZaloClient
from app.zalo.sender import MessageSender, RecordingSender
from app.zalo.tokens import OAuthClient, TokenHealth, TokenManager, TokenPair
from webhooks.routes import WebhookShortcut
from webhooks.routes import router as webhook_router

log = logging.getLogger(__name__)


def build_tokens(settings: Settings, db: Database, http: httpx.AsyncClient) -> TokenManager:
    """The one token manager of the process: every Zalo client must share it (single-use
    refresh tokens, reference §6.7)."""
    oauth = OAuthClient(
        http,
        oauth_base_url=settings.zalo_oauth_base_url,
        app_id=settings.zalo_app_id,
        app_secret=settings.zalo_app_secret.get_secret_value(),
    )
    initial = TokenPair(
        settings.zalo_access_token.get_secret_value(),
        settings.zalo_refresh_token.get_secret_value(),
    )
    oa_id = settings.zalo_oa_id

    def share_health(health: TokenHealth) -> None:
        # Every process (and /readyz, the console's banner) sees the latest refresh outcome.
        record_connection(
            db, oa_id, ok=health.ok, error_code=health.last_error_code, error=health.last_error
        )

    return TokenManager(
        DatabaseTokenStore(db, oa_id), oauth, initial=initial, on_health=share_health
    )


def build_sender(
    settings: Settings,
    db: Database,
    http: httpx.AsyncClient,
    *,
    tokens: TokenManager | None = None,
    retry: RetryPolicy | None = None,
) -> MessageSender:
    """The real Zalo client, or a recorder when no credentials are configured (simulator)."""
    if settings.simulator:
        return RecordingSender()
    return ZaloClient(
        http,
        api_base_url=settings.zalo_api_base_url,
        tokens=tokens or build_tokens(settings, db, http),
        retry=retry,
    )


def build_announcements(
    settings: Settings,
    db: Database,
    groups: Callable[[], Sequence[ResidentialGroup]],
    http: httpx.AsyncClient,
    tokens: TokenManager | None,
) -> tuple[ResidentAnnouncements, AnnouncementWorker]:
    """The inbox's side of announcements and the delivery worker.

    Their Zalo client does not retry by itself: the worker retries, after looking for the
    echo of an attempt that may have gone through (see app.jobs.announcements).
    """
    sender = build_sender(settings, db, http, tokens=tokens, retry=RetryPolicy(attempts=1))
    tags = TagMirror(db, sender, groups) if isinstance(sender, ZaloClient) else None
    # The same outbox (tables, guarantees) over a client that does not retry by itself.
    outbox = Outbox(db, sender, simulated=settings.simulator)
    worker = AnnouncementWorker(
        db,
        outbox,
        limiter=TokenBucket(settings.send_rate),
        tags=tags,
        concurrency=min(32, max(2, math.ceil(settings.send_rate / 2))),
    )
    return ResidentAnnouncements(db, outbox, groups, tags=tags), worker


def build_knowledge(settings: Settings, db: Database) -> tuple[CatalogueFiles, Knowledge]:
    """The catalogue this process serves: the database's current version, after the start-up
    rules (app.catalogue_files: the files seed an empty database, and are imported when the
    file watch is on and they changed). Raises CatalogueError when there is none to serve."""
    store = CatalogueStore(db)
    files = CatalogueFiles(
        store, DocumentPaths(settings.procedures_path, settings.intents_path, settings.wards_path)
    )
    report = files.start(watch_files=settings.watch_catalogue_files)
    knowledge = Knowledge(store, timedelta(minutes=settings.conversation_ttl_minutes))
    knowledge.file_problems = report.file_problems
    return files, knowledge


def build_services(settings: Settings, http: httpx.AsyncClient) -> Services:
    """Everything a running service needs. Raises CatalogueError on invalid content."""
    db = Database(settings.database_url)
    try:
        db.create_schema()
        files, knowledge = build_knowledge(settings, db)
    except BaseException:
        db.close()
        raise
    tokens = None if settings.simulator else build_tokens(settings, db, http)
    residents, announcer = build_announcements(
        settings,
        db,
        lambda: knowledge.current.content.catalogue.ward.residential_groups,
        http,
        tokens,
    )
    metrics = Metrics(db)
    # Every reply, "slow down", staff answer and held reply is recorded and sent by one outbox.
    outbox = Outbox(
        db, build_sender(settings, db, http, tokens=tokens), simulated=settings.simulator
    )
    reports = ResidentReports(db, outbox)
    held = (
        None
        if settings.simulator
        else HeldReplies(outbox, settings.own_oa_id, report_reply_delivered=reports.delivered_later)
    )
    inbox = Inbox(
        db,
        knowledge,
        outbox,
        answers_oa=settings.is_own_oa,
        policy=InboxPolicy(
            staff_takeover=timedelta(minutes=settings.staff_takeover_minutes),
            max_message_chars=settings.max_message_chars,
        ),
        announcements=residents,
        observe_turn=metrics.observe_turn,
        reports=reports,
    )
    throttle = ResidentThrottle(
        db,
        outbox,
        per_minute=settings.resident_messages_per_minute,
        answers_oa=settings.is_own_oa,
        on_throttled=metrics.throttled.inc,
    )
    queue = EventQueue(throttle.wrap(inbox.handle))
    return Services(
        settings,
        db,
        knowledge,
        inbox,
        queue,
        announcer,
        tokens=tokens,
        metrics=metrics,
        held_replies=held,
        catalogue=files.store,
        catalogue_files=files,
    )


def catalogue_state(knowledge: Knowledge) -> dict[str, object]:
    """/readyz's view of the catalogue: the version served, and what was refused."""
    state: dict[str, object] = {"version": knowledge.version}
    if knowledge.refused is not None:
        state["problem"] = {
            "version": knowledge.refused.version,
            "problems": [str(p) for p in knowledge.refused.problems[:20]],
        }
    if knowledge.file_problems:
        state["files_problems"] = [str(p) for p in knowledge.file_problems[:20]]
    return state


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.zalo_timeout_seconds) as http:
            services = build_services(settings, http)
            # WARDBOT_RUN_WORKER=false: this process only verifies and records webhook events;
            # `wardbot worker` answers them (app.jobs.background).
            background = Background(services, settings, work=settings.run_worker)
            background.start()
            app.state.services = services
            log.info(
                "wardbot ready",
                extra={"simulator": settings.simulator, "run_worker": settings.run_worker},
            )
            try:
                yield
            finally:
                await background.stop()
                services.db.close()

    # The API description is for developers: a production service does not publish it.
    docs = settings.environment != "production"
    app = FastAPI(
        title="wardbot",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        # Metrics are Prometheus (/metrics); FastAPI's OpenTelemetry bridge, unused, cost a
        # look-up of the tracer provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.include_router(webhook_router)
    app.include_router(admin.router)
    app.include_router(simulator.router)
    app.include_router(announcements.router)
    app.include_router(residents.router)
    app.include_router(console.router)
    app.include_router(zalo_oauth.router)

    app.add_middleware(WebhookShortcut)
    app.add_middleware(WebhookTimer)  # added last: outside the shortcut, so it times it

    # /metrics and /readyz are plain functions: FastAPI runs them in its thread pool, so their
    # database queries (slow, or hanging until the connect timeout when the database is down)
    # never hold up the event loop that answers Zalo's webhooks.
    @app.get("/metrics")
    def metrics() -> Response:
        services = services_of(app.state)
        assert services.metrics is not None
        connection = services.zalo_connection() if services.db.ping() else None
        if connection is not None:
            services.metrics.token_ok.set(1 if connection.ok else 0)
            services.metrics.held_replies.set(connection.held_replies)
        return Response(services.metrics.render(), media_type=CONTENT_TYPE)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        services = services_of(app.state)
        database_ok = services.db.ping()
        # Reading is not enough: a locked database, a full disk or a SQLite file deleted
        # under the process still answer reads while every webhook fails (or is lost).
        write_problem = services.db.write_problem() if database_ok else "unreachable"
        checks: dict[str, object] = {
            "database": database_ok and write_problem is None,
            "catalogue": bool(services.knowledge.current.content.catalogue.procedures),
        }
        ready = all(checks.values())
        body: dict[str, object] = {"status": "ready" if ready else "not_ready", "checks": checks}
        if write_problem is not None:
            body["database_error"] = write_problem
            log.error("readyz: the database takes no writes", extra={"reason": write_problem})
        body["catalogue"] = catalogue_state(services.knowledge)
        if services.knowledge.problems and ready:
            body["status"] = "degraded"  # the last good version serves; an admin must look
        if services.tokens is None:
            body["zalo"] = "simulator"  # no credentials: replies are recorded, not sent
        # The connection's state is shared through the database: unknown while it is down.
        connection = services.zalo_connection() if database_ok else None
        if connection is not None:
            # A failed refresh degrades the service but keeps it in rotation: webhooks must
            # still be recorded, and replies are held until an admin reconnects the OA.
            checks["zalo_token"] = connection.ok
            body["held_replies"] = connection.held_replies
            if not connection.ok:
                body["zalo_token"] = {
                    "error_code": connection.error_code,
                    "error": connection.error,
                    "since": connection.since.isoformat() if connection.since else None,
                }
                if ready:
                    body["status"] = "degraded"
        return JSONResponse(body, status_code=200 if ready else 503)

    return app
