"""The resources a running service shares, built in the lifespan and handed to requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.announcements.delivery import AnnouncementWorker
from app.catalogue_files import CatalogueFiles
from app.catalogue_store import CatalogueStore
from app.config import Settings
from app.dossiers.service import DossierDesk
from app.inbox import Inbox
from app.intake import Intake
from app.jobs.tasks import EventQueue
from app.knowledge import Knowledge
from app.metrics import Metrics
from app.outbox.held import HeldReplies
from app.ratings.service import Ratings
from app.storage.connection import connection_status
from app.storage.database import Database, as_utc
from app.storage.held import count_held
from app.zalo.budget import RateBudget
from app.zalo.tokens import TokenManager


@dataclass(frozen=True)
class ZaloConnectionState:
    """What operators are shown: /readyz, /metrics and the console's banner."""

    ok: bool
    error_code: int | None
    error: str | None
    since: datetime | None
    held_replies: int


@dataclass
class Services:
    settings: Settings
    db: Database
    knowledge: Knowledge
    inbox: Inbox
    queue: EventQueue
    announcer: AnnouncementWorker | None = None
    """Sends announcements; started with the background work (app.jobs.background)."""
    tokens: TokenManager | None = None
    """The process's one Zalo token manager (None in simulator mode)."""
    metrics: Metrics | None = None
    held_replies: HeldReplies | None = None
    """Sends replies held while Zalo was unreachable (None in simulator mode)."""
    budget: RateBudget | None = None
    """This process's side of the app's Zalo request budget (None in simulator mode)."""
    catalogue: CatalogueStore | None = None
    """The catalogue's versions in the database: what `knowledge` follows, where edits go."""
    catalogue_files: CatalogueFiles | None = None
    """This process's catalogue files: the seed, and in development the watched files."""
    dossiers: DossierDesk | None = None
    """Dossier lookup, following and status changes (app.dossiers)."""
    ratings: Ratings | None = None
    """Service ratings: `ratings.request_rating` after a visit or a picked-up dossier."""

    intake: Intake = field(init=False)
    """Records webhook events and queues them (app.intake)."""

    def __post_init__(self) -> None:
        self.intake = Intake(self.db, self.queue)

    def zalo_connection(self) -> ZaloConnectionState | None:
        """The Zalo connection as the processes sharing the database last saw it; None in
        simulator mode. Falls back to this process's own view before anything was shared."""
        if self.tokens is None:
            return None
        oa_id = self.settings.zalo_oa_id
        shared = connection_status(self.db, oa_id)
        health = self.tokens.health
        since: datetime | None
        if shared is not None:
            ok, code, error, since = shared.ok, shared.error_code, shared.error, shared.changed_at
        else:
            ok, code, error = health.ok, health.last_error_code, health.last_error
            since = health.last_refresh_at
        held = count_held(self.db, self.settings.own_oa_id)
        return ZaloConnectionState(ok, code, error, as_utc(since), held)


def services_of(state: Any) -> Services:
    services = getattr(state, "services", None)
    if not isinstance(services, Services):
        raise RuntimeError("services are not ready: the lifespan has not run")
    return services
