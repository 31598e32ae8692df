"""Helpers for announcement tests: a settable clock, residents in groups, Zalo's echo."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from app.catalogue import load_catalogue
from app.catalogue.models import ResidentialGroup
from app.storage.database import Database
from app.storage.events import NewEvent
from app.storage.groups import import_memberships
from app.storage.tables import Follower, InboundEvent
from tests.support.databases import database_url
from tests.support.fake_zalo import FakeMessage
from webhooks.events import RawEvent, inbound_message

ROOT = Path(__file__).resolve().parents[2]
OA = "oa-1"
MONDAY_9AM = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
"""09:00 in Hà Nội on a Monday: inside office hours, outside the quiet hours."""


def ward_groups() -> tuple[ResidentialGroup, ...]:
    return load_catalogue(ROOT / "procedures.yaml").ward.residential_groups


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = MONDAY_9AM) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def new_database(tmp_path: Path) -> Database:
    """SQLite under tmp_path, or PostgreSQL when WARDBOT_TEST_DATABASE_URL is set."""
    db = Database(database_url(tmp_path))
    db.create_schema()
    return db


def add_residents(
    db: Database,
    members: dict[str, str],
    *,
    last_interaction: datetime | None,
    oa_id: str = OA,
    following: bool = True,
) -> None:
    """Members {user_id: group_id} who follow the OA and last wrote at `last_interaction`."""
    rows = [
        {
            "oa_id": oa_id,
            "user_id": user_id,
            "following": following,
            "unfollowed_at": None if following else last_interaction,
            "last_interaction_at": last_interaction,
        }
        for user_id in members
    ]
    with db.engine.begin() as connection:
        connection.execute(insert(Follower), rows)
    import_memberships(db, oa_id, members.items(), last_interaction or MONDAY_9AM)


def spread(users: Iterable[str], group_ids: list[str]) -> dict[str, str]:
    return {user: group_ids[i % len(group_ids)] for i, user in enumerate(users)}


class EchoWebhook:
    """Plays Zalo's webhook: every accepted message comes back as a recorded `oa_send_text`."""

    def __init__(self, db: Database, clock: Callable[[], datetime], oa_id: str = OA) -> None:
        self.db, self.clock, self.oa_id = db, clock, oa_id
        self.enabled = True

    def __call__(self, message: FakeMessage) -> None:
        if self.enabled:
            self.record([message])

    def record(self, messages: list[FakeMessage]) -> None:
        """Record the echoes of `messages` in one transaction."""
        if not messages:
            return
        with self.db.engine.begin() as connection:
            connection.execute(insert(InboundEvent), [self._row(m) for m in messages])

    def _row(self, message: FakeMessage) -> dict[str, object]:
        payload = {
            "app_id": "fake-app-id",
            "sender": {"id": self.oa_id},
            "recipient": {"id": message.user_id},
            "event_name": "oa_send_text",
            "message": {"text": message.text, "msg_id": message.message_id},
            "timestamp": str(int(self.clock().timestamp() * 1000)),
        }
        event = NewEvent(
            self.oa_id,
            f"msg:{message.message_id}",
            "oa_send_text",
            message.user_id,
            json.dumps(payload, ensure_ascii=False),
            inbound_message(RawEvent.model_validate(payload)),
        )
        return {
            **event.row(),
            "status": "ignored",
            "received_at": self.clock(),
        }
