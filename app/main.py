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

from app.announcements.delivery import (
    AnnouncementWorker,
    RateLimiter,
    TagMirror,
    TokenBucket,
    Unpaced,
)
from app.announcements.service import ResidentAnnouncements
from app.booking.service import ResidentBookings, ServedListener, VisitServed
from app.catalogue.documents import DocumentPaths
from app.catalogue.models import ResidentialGroup, WardProfile
from app.catalogue_files import CatalogueFiles
from app.catalogue_store import CatalogueStore
from app.config import Settings
from app.dossiers.service import DossierDesk
from app.dossiers.status import load_provider
from app.inbox import Inbox, InboxPolicy
from app.jobs.background import Background
from app.jobs.tasks import EventQueue
from app.knowledge import Knowledge
from app.metrics import CONTENT_TYPE, Metrics, WebhookTimer
from app.outbox import Outbox
from app.outbox.held import HeldReplies
from app.ratings.service import Ratings, Resident, Subject, SubjectKind
from app.reports.service import ResidentReports
from app.services import Services, services_of, ward_labels
from app.storage.budget import Bucket, DatabaseBudget
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
from app.zalo.accounts import OaClients, OaTokens
from app.zalo.budget import BudgetLane, BudgetShape, BudgetTime, Priority, RateBudget
from app.zalo.client import RetryPolicy, ZaloClient
from app.zalo.sender import MessageSender, RecordingSender
from app.zalo.tokens import OAuthClient, TokenHealth, TokenManager, TokenPair
from webhooks.routes import WebhookShortcut
from webhooks.routes import router as webhook_router

log = logging.getLogger(__name__)

REPLIES_FIRST_MAX_WAIT_SECONDS = 2.0
"""How long the announcement worker of a process waits, before each delivery, for that
process's residents' answers in hand to be done (replies first; the wait is bounded so a
steady stream of questions slows an announcement down without stopping it)."""


def build_oa_tokens(
    settings: Settings,
    db: Database,
    http: httpx.AsyncClient,
    *,
    key_of: Callable[[str], str] = lambda oa_id: oa_id,
) -> OaTokens:
    """One token manager per OA, shared by every Zalo client of the process (single-use
    refresh tokens, reference §6.7). ZALO_ACCESS_TOKEN / ZALO_REFRESH_TOKEN seed the pair of
    ZALO_OA_ID only; every other OA's pair comes from its consent or `wardbot zalo tokens set`."""
    oauth = OAuthClient(
        http,
        oauth_base_url=settings.zalo_oauth_base_url,
        app_id=settings.zalo_app_id,
        app_secret=settings.zalo_app_secret.get_secret_value(),
    )
    seed = TokenPair(
        settings.zalo_access_token.get_secret_value(),
        settings.zalo_refresh_token.get_secret_value(),
    )

    def make(key: str) -> TokenManager:
        def share_health(health: TokenHealth) -> None:
            # Every process (and /readyz, the console's banner) sees the latest refresh outcome.
            record_connection(
                db, key, ok=health.ok, error_code=health.last_error_code, error=health.last_error
            )

        return TokenManager(
            DatabaseTokenStore(db, key),
            oauth,
            initial=seed if key == settings.zalo_oa_id else None,
            on_health=share_health,
            oa_id=key,
        )

    return OaTokens(make, key_of=key_of)


def build_tokens(settings: Settings, db: Database, http: httpx.AsyncClient) -> TokenManager:
    """The token manager of ZALO_OA_ID (the single OA of a one-ward deployment)."""
    return build_oa_tokens(settings, db, http).for_key(settings.zalo_oa_id)


def token_key_of(settings: Settings, knowledge: Knowledge) -> Callable[[str], str]:
    """The key an OA's token pair is stored under: its id when ward files name the OAs;
    ZALO_OA_ID (or "default" when unset) for today's single ward, as before."""

    def key_of(oa_id: str) -> str:
        return oa_id if knowledge.current.wards.from_files else settings.zalo_oa_id

    return key_of


def build_budget(settings: Settings, db: Database, time: BudgetTime | None = None) -> RateBudget:
    """The process's side of the app's request budget, shared through the database by every
    process of the app (app.zalo.budget). One per process: all its Zalo clients spend it.
    `time` (clock, sleep) is for benchmarks that run time faster."""
    shape = BudgetShape.for_limit(settings.app_rate_per_minute)
    bucket = Bucket(shape.capacity, shape.refill_per_second)
    store = DatabaseBudget(db, settings.zalo_app_id or "default", bucket)
    if time is None:
        return RateBudget(store, shape)
    return RateBudget(store, shape, clock=time[0], sleep=time[1])


def build_sender(
    settings: Settings,
    db: Database,
    http: httpx.AsyncClient,
    *,
    tokens: TokenManager | None = None,
    retry: RetryPolicy | None = None,
    budget: BudgetLane | None = None,
) -> MessageSender:
    """The real Zalo client, or a recorder when no credentials are configured (simulator)."""
    if settings.simulator:
        return RecordingSender()
    return ZaloClient(
        http,
        api_base_url=settings.zalo_api_base_url,
        tokens=tokens or build_tokens(settings, db, http),
        retry=retry,
        budget=budget or build_budget(settings, db).lane(Priority.reply),
    )


def build_senders(
    settings: Settings,
    http: httpx.AsyncClient,
    accounts: OaTokens | None,
    *,
    budget: BudgetLane | None,
    retry: RetryPolicy | None = None,
) -> MessageSender | OaClients[ZaloClient]:
    """Each OA's Zalo client (its own token), or a recorder in simulator mode. Every OA's
    client spends the same `budget` lane: the request budget is the app's, not an OA's."""
    if settings.simulator or accounts is None:
        return RecordingSender()
    return OaClients(
        accounts,
        lambda manager: ZaloClient(
            http,
            api_base_url=settings.zalo_api_base_url,
            tokens=manager,
            retry=retry,
            budget=budget,
        ),
    )


def build_announcements(
    settings: Settings,
    db: Database,
    groups: Callable[[str], Sequence[ResidentialGroup]],
    http: httpx.AsyncClient,
    accounts: OaTokens | None,
    budget: RateBudget | None = None,
) -> tuple[ResidentAnnouncements, AnnouncementWorker]:
    """The inbox's side of announcements and the delivery worker.

    Their Zalo clients (one per OA) do not retry by themselves: the worker retries, after
    looking for the echo of an attempt that may have gone through (see
    app.announcements.delivery). They spend the app's budget in the bulk lane, behind replies.
    """
    shared = None if settings.simulator else (budget or build_budget(settings, db))
    sender = build_senders(
        settings,
        http,
        accounts,
        retry=RetryPolicy(attempts=1),
        budget=shared.lane(Priority.bulk) if shared is not None else None,
    )
    tags = TagMirror(db, sender, groups) if isinstance(sender, OaClients) else None
    # The same outbox (tables, guarantees) over a client that does not retry by itself.
    outbox = Outbox(db, sender, simulated=settings.simulator)
    rate = settings.send_rate
    limiter: RateLimiter = TokenBucket(rate) if rate is not None else Unpaced()
    worker = AnnouncementWorker(
        db,
        outbox,
        limiter=limiter,
        tags=tags,
        concurrency=min(32, max(2, math.ceil(rate / 2))) if rate is not None else 16,
    )
    return ResidentAnnouncements(db, outbox, groups, tags=tags), worker


def build_dossiers(
    settings: Settings,
    db: Database,
    knowledge: Knowledge,
    outbox: Outbox,
    announcer: AnnouncementWorker,
) -> tuple[DossierDesk, Ratings]:
    """Dossier lookup and status notices, and the ratings asked when a result is picked up.
    Raises ProviderInvalid when WARDBOT_DOSSIER_STATUS_PROVIDER names no usable provider."""
    provider = (
        load_provider(settings.dossier_status_provider)
        if settings.dossier_status_provider
        else None
    )

    def procedure_name(code: str) -> str | None:
        procedure = knowledge.current.content.catalogue.procedure(code)
        return procedure.name if procedure is not None else None

    def ward_profile(oa_id: str) -> WardProfile:
        # The profile of the OA's ward; the catalogue's own when no ward claims the OA.
        snapshot = knowledge.current
        ward = snapshot.ward_of(oa_id)
        return ward.profile if ward is not None else snapshot.content.catalogue.ward

    ratings = Ratings(db, outbox)
    dossiers = DossierDesk(
        db,
        ward_profile,
        provider=provider,
        ratings=ratings,
        wake_announcer=announcer.wake,
        procedure_name=procedure_name,
    )

    def is_command(oa_id: str, text: str) -> bool:
        # A dossier code, or a question the bot can answer, is never swallowed as a comment.
        if dossiers.recognises(oa_id, text):
            return True
        snapshot = knowledge.current
        ward = snapshot.ward_of(oa_id)
        matcher = snapshot.dialogue_for(ward).matcher if ward is not None else snapshot.matcher
        found = matcher.match(text)
        return found.kind == "procedure" or (
            found.kind == "intent" and found.id in QUESTION_INTENTS
        )

    ratings.is_command = is_command
    return dossiers, ratings


QUESTION_INTENTS = frozenset(
    {"office_hours", "contact", "online_services", "handoff", "menu", "help"}
)
"""Intents that ask something: during a rating's comment window they are answered, whereas a
thanks or a greeting may well be part of the comment."""


def rating_of_served_visits(knowledge: Knowledge, ratings: Ratings) -> ServedListener:
    """A visit marked served asks the resident, once, to rate it (issue 16 part 3)."""

    async def ask(visit: VisitServed) -> None:
        # The visit's ward: its procedures and its counters.
        snapshot = knowledge.current
        ward = snapshot.ward_of(visit.oa_id)
        catalogue = ward.catalogue if ward is not None else snapshot.content.catalogue
        procedure = catalogue.procedure(visit.procedure_code) if visit.procedure_code else None
        booking = ward.profile.booking if ward is not None else catalogue.ward.booking
        counters = {c.id: c.name for c in booking.counters} if booking is not None else {}
        subject = Subject(
            SubjectKind.visit,
            visit.code,
            procedure_code=visit.procedure_code,
            procedure_name=procedure.name if procedure is not None else None,
            counter=counters.get(visit.counter_id, visit.counter_id),
        )
        await ratings.request_rating(Resident(visit.oa_id, visit.user_id), subject)

    return ask


def build_knowledge(settings: Settings, db: Database) -> tuple[CatalogueFiles, Knowledge]:
    """The catalogue this process serves: the database's current version, after the start-up
    rules (app.catalogue_files: the files seed an empty database, and are imported when the
    file watch is on and they changed). Raises CatalogueError when there is none to serve."""
    store = CatalogueStore(db)
    files = CatalogueFiles(
        store, DocumentPaths(settings.procedures_path, settings.intents_path, settings.wards_path)
    )
    report = files.start(watch_files=settings.watch_catalogue_files)
    knowledge = Knowledge(
        store,
        timedelta(minutes=settings.conversation_ttl_minutes),
        # The simulator answers whichever OA its events name, as before.
        single_oa_id=None if settings.simulator else settings.own_oa_id,
    )
    knowledge.file_problems = report.file_problems
    return files, knowledge


def build_services(
    settings: Settings, http: httpx.AsyncClient, *, budget_time: BudgetTime | None = None
) -> Services:
    """Everything a running service needs. Raises CatalogueError on invalid content."""
    db = Database(settings.database_url)
    try:
        db.create_schema()
        files, knowledge = build_knowledge(settings, db)
    except BaseException:
        db.close()
        raise
    accounts = (
        None
        if settings.simulator
        else build_oa_tokens(settings, db, http, key_of=token_key_of(settings, knowledge))
    )
    tokens = None if accounts is None else accounts.for_key(settings.zalo_oa_id)

    def ward_groups(oa_id: str) -> Sequence[ResidentialGroup]:
        ward = knowledge.current.ward_of(oa_id)
        return ward.profile.residential_groups if ward is not None else ()

    # One budget for the whole app: every OA's clients spend it (replies before announcements).
    budget = None if settings.simulator else build_budget(settings, db, budget_time)
    residents, announcer = build_announcements(settings, db, ward_groups, http, accounts, budget)
    metrics = Metrics(db, lambda: ward_labels(settings, knowledge))
    # Every reply, "slow down", staff answer and held reply is recorded and sent by one outbox,
    # each OA's with its own token.
    replies = budget.lane(Priority.reply) if budget is not None else None
    outbox = Outbox(
        db,
        build_senders(settings, http, accounts, budget=replies),
        simulated=settings.simulator,
    )
    reports = ResidentReports(db, outbox)
    dossiers, ratings = build_dossiers(settings, db, knowledge, outbox, announcer)
    bookings = ResidentBookings(db, outbox)
    bookings.served_listeners.append(rating_of_served_visits(knowledge, ratings))
    held = (
        None
        if settings.simulator
        else HeldReplies(outbox, settings.own_oa_id, report_reply_delivered=reports.delivered_later)
    )
    inbox = Inbox(
        db,
        knowledge,
        outbox,
        # Events of an OA no ward claims are recorded, never answered (nor throttled).
        answers_oa=lambda oa_id: knowledge.current.ward_of(oa_id) is not None,
        policy=InboxPolicy(
            staff_takeover=timedelta(minutes=settings.staff_takeover_minutes),
            max_message_chars=settings.max_message_chars,
        ),
        announcements=residents,
        observe_turn=metrics.observe_turn,
        reports=reports,
        features=(ratings, dossiers),  # a rating names its dossier: ratings read first
        bookings=bookings,
        throttle=ResidentThrottle(
            db,
            per_minute=settings.resident_messages_per_minute,
            on_throttled=metrics.throttled.inc,
        ),
    )
    queue = EventQueue(inbox.handle)
    announcer.replies_first = lambda: queue.wait_idle(REPLIES_FIRST_MAX_WAIT_SECONDS)
    return Services(
        settings,
        db,
        knowledge,
        inbox,
        queue,
        announcer,
        tokens=tokens,
        accounts=accounts,
        metrics=metrics,
        held_replies=held,
        budget=budget,
        catalogue=files.store,
        catalogue_files=files,
        dossiers=dossiers,
        ratings=ratings,
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
        per_oa = services.ward_tokens() if database_ok else None
        if per_oa is not None:
            # One OA's failing token degrades that ward only: the others answer on.
            body["zalo_oas"] = per_oa
            checks["zalo_token"] = not per_oa["token_failing"]
            if per_oa["token_failing"] and ready:
                body["status"] = "degraded"
        connection = services.zalo_connection() if database_ok and per_oa is None else None
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
