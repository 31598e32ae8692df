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
from app.metrics import MAX_WARD_LABELS, OTHER, Metrics, WardLabels
from app.outbox.held import HeldReplies
from app.ratings.service import Ratings
from app.storage.connection import all_connections, connection_status
from app.storage.database import Database, as_utc
from app.storage.held import count_held
from app.zalo.accounts import OaTokens
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
    """The token manager of ZALO_OA_ID, the single ward's OA (None in simulator mode)."""
    accounts: OaTokens | None = None
    """Every OA's token manager, one per ward (None in simulator mode)."""
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

    def token_managers(self) -> list[TokenManager]:
        """The token manager of every ward's OA (the background refresher keeps each fresh)."""
        if self.accounts is None:
            return []
        snapshot = self.knowledge.current
        if not snapshot.wards.from_files:
            return [self.tokens] if self.tokens is not None else []
        return [self.accounts.for_oa(w.oa_id) for w in snapshot.wards if w.oa_id is not None]

    async def resend_held(self, token_key: str) -> None:
        """Send the replies held for the OA of `token_key` once its connection is healthy."""
        if self.held_replies is None:
            return
        if self.knowledge.current.wards.from_files:
            await self.held_replies.resend(oa_id=token_key)
        else:
            await self.held_replies.resend()  # the single ward: as before

    def ward_tokens(self) -> dict[str, object] | None:
        """/readyz's per-OA view when ward files name the OAs: how many wards, and each one
        whose OA token fails (at most MAX_FAILING_SHOWN listed); None for the single ward
        (its connection is `zalo_connection`) and in simulator mode."""
        wards = self.knowledge.current.wards
        if self.tokens is None or not wards.from_files:
            return None
        connections = all_connections(self.db)
        failing: list[dict[str, object]] = []
        for ward in wards:
            row = connections.get(ward.oa_id or "")
            if row is None or row.ok:
                continue
            since = as_utc(row.changed_at)
            failing.append(
                {
                    "ward": ward.slug,
                    "oa_id": ward.oa_id,
                    "error_code": row.error_code,
                    "error": row.error,
                    "since": since.isoformat() if since else None,
                }
            )
        return {
            "wards": len(wards),
            "token_ok": len(wards) - len(failing),
            "token_failing": failing[:MAX_FAILING_SHOWN],
            "held_replies": count_held(self.db, None),
        }

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


MAX_FAILING_SHOWN = 50
"""/readyz lists at most this many OAs whose token fails (and counts them all)."""


def ward_labels(settings: Settings, knowledge: Knowledge) -> WardLabels:
    """The bounded `ward` label of each OA for /metrics, from the version served now."""
    wards = knowledge.current.wards
    if not wards.from_files:
        only = wards.all()[0]
        by_oa = {only.oa_id: only.slug} if only.oa_id is not None else {}
        any_oa = only.slug if only.oa_id is None else None
        return WardLabels(by_oa, {settings.zalo_oa_id: only.slug}, any_oa)
    labelled = wards.all()[:MAX_WARD_LABELS]
    by_oa = {w.oa_id: w.slug for w in labelled if w.oa_id is not None}
    token_keys = {w.oa_id: by_oa.get(w.oa_id, OTHER) for w in wards if w.oa_id is not None}
    return WardLabels(by_oa, token_keys)


def services_of(state: Any) -> Services:
    services = getattr(state, "services", None)
    if not isinstance(services, Services):
        raise RuntimeError("services are not ready: the lifespan has not run")
    return services
