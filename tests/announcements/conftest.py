"""A worker harness: fresh SQLite, a hand-moved clock, the fake Zalo and its echo webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.announcements.delivery import AnnouncementWorker, DeliveryPolicy, TokenBucket
from app.catalogue import Catalogue, load_content
from app.outbox import Outbox
from app.storage.announcements import (
    AnnouncementDraft,
    AnnouncementStatus,
    announcement_status,
    create_announcement,
)
from app.storage.database import Database
from app.zalo.client import ZaloClient
from app.zalo.sender import MessageSender
from tests.support.announce import OA, Clock, EchoWebhook, new_database
from tests.support.fake_zalo import FakeZalo

TEXT = "Thông báo: cắt nước từ 8h đến 11h sáng thứ Ba để sửa đường ống."

FAST = DeliveryPolicy(backoff_base=timedelta(0), echo_grace=timedelta(0))
"""Zero backoff so retries come at once; the clock only moves when a test moves it."""


@dataclass
class Harness:
    db: Database
    clock: Clock
    fake: FakeZalo
    http: httpx.AsyncClient
    echo: EchoWebhook
    workers: list[AnnouncementWorker] = field(default_factory=list)

    def sender(self) -> ZaloClient:
        # Like production: the client does not retry, the worker does.
        return self.fake.client(self.http, attempts=1)

    def worker(
        self, sender: MessageSender | None = None, policy: DeliveryPolicy = FAST, **options: Any
    ) -> AnnouncementWorker:
        worker = AnnouncementWorker(
            self.db,
            Outbox(self.db, sender or self.sender()),
            limiter=TokenBucket(100_000),
            policy=policy,
            clock=self.clock,
            **options,
        )
        self.workers.append(worker)
        return worker

    def announce(self, groups: Sequence[str] = ("tdp-1",), **fields: Any) -> int:
        draft = AnnouncementDraft(
            oa_id=OA, text=fields.pop("text", TEXT), group_ids=tuple(groups), **fields
        )
        return create_announcement(self.db, draft, self.clock())

    def status(self, announcement_id: int) -> AnnouncementStatus:
        status = announcement_status(self.db, announcement_id)
        assert status is not None
        return status

    async def run_until_settled(self, worker: AnnouncementWorker, passes: int = 50) -> None:
        for _ in range(passes):
            if await worker.run_once() == 0:
                return
        raise AssertionError("the worker kept finding work")


@pytest.fixture
async def harness(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[Harness]:
    clock = Clock()
    db = new_database(tmp_path)
    echo = EchoWebhook(db, clock)
    fake_zalo.on_accept = echo
    async with httpx.AsyncClient(timeout=5) as http:
        yield Harness(db, clock, fake_zalo, http, echo)
    db.close()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The real catalogue: the group commands are tested against the ward's real groups."""
    root = Path(__file__).resolve().parents[2]
    return load_content(root / "procedures.yaml", root / "intents").catalogue
