"""The composition root: create_app(settings) builds the service; the lifespan owns resources."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.config import Settings
from app.inbox import Inbox, InboxPolicy
from app.jobs.tasks import EventQueue
from app.knowledge import Knowledge
from app.services import Services, services_of
from app.storage.database import Database
from app.storage.tokens import DatabaseTokenStore
from app.web import admin, simulator
from app.zalo.client import ZaloClient
from app.zalo.sender import MessageSender, RecordingSender
from app.zalo.tokens import OAuthClient, TokenManager, TokenPair
from webhooks.routes import router as webhook_router

log = logging.getLogger(__name__)


def build_sender(settings: Settings, db: Database, http: httpx.AsyncClient) -> MessageSender:
    """The real Zalo client, or a recorder when no credentials are configured (simulator)."""
    if settings.simulator:
        return RecordingSender()
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
    tokens = TokenManager(DatabaseTokenStore(db, settings.zalo_oa_id), oauth, initial=initial)
    return ZaloClient(http, api_base_url=settings.zalo_api_base_url, tokens=tokens)


def build_services(settings: Settings, http: httpx.AsyncClient) -> Services:
    """Everything a running service needs. Raises CatalogueError on invalid content."""
    knowledge = Knowledge(
        settings.procedures_path,
        settings.intents_path,
        timedelta(minutes=settings.conversation_ttl_minutes),
    )
    db = Database(settings.database_url)
    db.create_schema()
    inbox = Inbox(
        db,
        knowledge,
        build_sender(settings, db, http),
        simulated=settings.simulator,
        policy=InboxPolicy(
            staff_takeover=timedelta(minutes=settings.staff_takeover_minutes),
            max_message_chars=settings.max_message_chars,
        ),
    )
    return Services(settings, db, knowledge, inbox, EventQueue(inbox.handle))


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.zalo_timeout_seconds) as http:
            services = build_services(settings, http)
            services.queue.start()
            for event_id in services.db.release_stale_events():
                services.queue.put(event_id)
            app.state.services = services
            log.info("wardbot ready", extra={"simulator": settings.simulator})
            try:
                yield
            finally:
                await services.queue.stop()
                services.db.close()

    app = FastAPI(title="wardbot", version="0.1.0", lifespan=lifespan)
    app.include_router(webhook_router)
    app.include_router(admin.router)
    app.include_router(simulator.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        services = services_of(app.state)
        checks = {
            "database": services.db.ping(),
            "catalogue": bool(services.knowledge.current.content.catalogue.procedures),
        }
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "degraded", "checks": checks},
            status_code=200 if ready else 503,
        )

    return app
