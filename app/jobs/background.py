"""The background work of a process, started and stopped in one place.

`wardbot serve` runs it beside the web server unless WARDBOT_RUN_WORKER=false; `wardbot worker`
runs it with no web server at all. With `work=False` only what the process needs for itself
keeps running (the catalogue watcher, so the console shows the current catalogue version).
"""

from __future__ import annotations

import asyncio
import logging

from app.catalogue import Catalogue
from app.config import Settings
from app.jobs.booking_reminders import BookingReminders
from app.jobs.catalogue_watch import CatalogueWatcher
from app.jobs.dossier_poll import DossierPoller
from app.jobs.inbox_poll import InboxPoller
from app.jobs.token_refresh import TokenRefresher
from app.services import Services

log = logging.getLogger(__name__)


class Background:
    """Answering inbound events (the queue and its poller), the announcement worker, the token
    refresher (which then resends held replies) and the catalogue watcher."""

    def __init__(self, services: Services, settings: Settings, *, work: bool = True) -> None:
        self.services = services
        self.settings = settings
        self.work = work
        self.poller: InboxPoller | None = None
        self.watcher: CatalogueWatcher | None = None
        self.refresher: TokenRefresher | None = None
        self.dossier_poller: DossierPoller | None = None
        self.reminders: BookingReminders | None = None
        self._started = False

    def start(self) -> None:
        if self._started:
            raise RuntimeError("the background work is already running")
        self._started = True
        services, settings = self.services, self.settings
        if settings.catalogue_poll_seconds > 0 and services.catalogue_files is not None:
            self.watcher = CatalogueWatcher(
                services.catalogue_files,
                services.knowledge,
                settings.catalogue_poll_seconds,
                watch_files=settings.watch_catalogue_files,
            )
            self.watcher.start()
        if not self.work:
            log.info("background work is left to `wardbot worker` (WARDBOT_RUN_WORKER=false)")
            return
        services.queue.start()
        if settings.inbox_poll_seconds > 0:
            self.poller = InboxPoller(services.db, services.queue, settings.inbox_poll_seconds)
            self.poller.start()
        if services.announcer is not None:
            services.announcer.start()
        if services.dossiers is not None and services.dossiers.provider is not None:
            self.dossier_poller = DossierPoller(
                services.dossiers, settings.dossier_poll_minutes * 60
            )
            self.dossier_poller.start()
        bookings = services.inbox.bookings
        if bookings is not None and settings.booking_reminder_seconds > 0:
            knowledge = services.knowledge

            def catalogue_of(oa_id: str) -> Catalogue:
                # The catalogue of the OA's ward (its procedures and booking counters).
                snapshot = knowledge.current
                ward = snapshot.ward_of(oa_id)
                return ward.catalogue if ward is not None else snapshot.content.catalogue

            self.reminders = BookingReminders(
                bookings,
                catalogue_of,
                settings.booking_reminder_seconds,
            )
            self.reminders.start()
        if services.tokens is not None:
            held = services.held_replies
            self.refresher = TokenRefresher(
                services.token_managers,
                settings.token_refresh_interval_seconds,
                when_oa_healthy=services.resend_held if held is not None else None,
            )
            self.refresher.start()

    async def stop(self) -> None:
        """Stop taking new work, let the work in flight finish, then stop every job."""
        if not self._started:
            return
        self._started = False
        if self.poller is not None:
            await self.poller.stop()  # first: it would queue more
            self.poller = None
        if self.refresher is not None:
            await self.refresher.stop()
            self.refresher = None
        if self.reminders is not None:
            await self.reminders.stop()
            self.reminders = None
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        if self.dossier_poller is not None:
            await self.dossier_poller.stop()
            self.dossier_poller = None
        if self.work:
            # Side by side: each lets its work in flight finish within its own grace period.
            announcer = self.services.announcer
            await asyncio.gather(
                self.services.queue.stop(),
                announcer.stop() if announcer is not None else asyncio.sleep(0),
            )
