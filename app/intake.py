"""Taking in a verified webhook event: record it, then hand it to this process's inbox.

Recorded first, de-duplicated by its key, concurrent events in one transaction (group commit,
app.storage.inbound): every event is on disk before Zalo gets its 200. Queued at once when
this process answers events; otherwise (WARDBOT_RUN_WORKER=false) the poller of a
`wardbot worker` process finds it in the database (app.jobs.inbox_poll).
"""

from __future__ import annotations

from app.jobs.tasks import EventQueue
from app.messages import InboundMessage
from app.storage.database import Database
from app.storage.events import NewEvent
from app.storage.inbound import InboundRecorder


class Intake:
    def __init__(self, db: Database, queue: EventQueue) -> None:
        self._recorder = InboundRecorder(db)
        self._queue = queue

    async def accept(
        self,
        *,
        oa_id: str,
        event_key: str,
        event_name: str,
        user_id: str | None,
        payload: str,
        message: InboundMessage,
    ) -> int | None:
        """Record an inbound event (its raw payload and its typed message) and queue it; None
        when it is a duplicate delivery."""
        event_id = await self._recorder.record(
            NewEvent(oa_id, event_key, event_name, user_id, payload, message)
        )
        if event_id is not None and self._queue.running:
            self._queue.put(event_id)
        return event_id
