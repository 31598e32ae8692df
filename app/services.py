"""The resources a running service shares, built in the lifespan and handed to requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.inbox import Inbox
from app.jobs.announcements import AnnouncementWorker
from app.jobs.tasks import EventQueue
from app.knowledge import Knowledge
from app.metrics import Metrics
from app.storage.database import Database
from app.zalo.tokens import TokenManager


@dataclass
class Services:
    settings: Settings
    db: Database
    knowledge: Knowledge
    inbox: Inbox
    queue: EventQueue
    announcer: AnnouncementWorker | None = None
    """Sends announcements; started by the lifespan unless WARDBOT_RUN_WORKER is off."""
    tokens: TokenManager | None = None
    """The process's one Zalo token manager (None in simulator mode)."""
    metrics: Metrics | None = None

    def accept_event(
        self, *, oa_id: str, event_key: str, event_name: str, user_id: str | None, payload: str
    ) -> int | None:
        """Record an inbound event and queue it; None when it is a duplicate delivery."""
        event_id = self.db.record_inbound(
            oa_id=oa_id,
            event_key=event_key,
            event_name=event_name,
            user_id=user_id,
            payload=payload,
        )
        if event_id is not None:
            self.queue.put(event_id)
        return event_id


def services_of(state: Any) -> Services:
    services = getattr(state, "services", None)
    if not isinstance(services, Services):
        raise RuntimeError("services are not ready: the lifespan has not run")
    return services
