"""Finds inbound events no process is answering and queues them in this one.

The webhook records every event before it answers Zalo 200; the process that recorded it
queues it at once when it runs the background work itself. Everything else reaches a queue
through this poller: events recorded by an ingest-only web process (WARDBOT_RUN_WORKER=false),
events recorded just before a crash or a shutdown, and events whose claim outlived the lease
(EVENT_CLAIM_LEASE: their process died while answering). Several processes may poll one
database: each event is claimed atomically (`app.storage.events.claim_event`) and answered once.
"""

from __future__ import annotations

import logging

from app.jobs.periodic import PeriodicJob
from app.jobs.tasks import EventQueue
from app.storage.database import Database
from app.storage.events import received_event_ids, release_stale_events

log = logging.getLogger(__name__)

POLL_BATCH = 500
"""At most this many ids wait in the queue because of the poller. Bounds the memory a large
backlog takes and keeps shutdown quick; refilled every poll, it is more than one process
answers in a second."""


class InboxPoller(PeriodicJob):
    """Owned by `app.jobs.background.Background`: `start()` once, `await stop()` at shutdown."""

    name = "inbox-poller"

    def __init__(
        self, db: Database, queue: EventQueue, interval: float, *, batch: int = POLL_BATCH
    ) -> None:
        super().__init__(interval)
        self.db = db
        self.queue = queue
        self.batch = batch

    def poll_once(self) -> int:
        """Release stale claims, then top the queue up with the oldest unclaimed events.
        Returns how many ids were newly queued."""
        released = release_stale_events(self.db)
        if released:
            log.warning(
                "inbox: stale claims released (a process died while answering)",
                extra={"count": len(released), "event_ids": released[:20]},
            )
        room = self.batch - self.queue.pending
        if room <= 0:
            return 0  # the queue has a batch of work already
        queued = 0
        # The oldest `batch` ids, not `room`: some of them may be queued already.
        for event_id in received_event_ids(self.db, self.batch):
            if queued == room:
                break
            queued += self.queue.put(event_id)
        return queued

    async def run_once(self) -> None:
        self.poll_once()
