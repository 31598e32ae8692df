"""Dossiers and ratings through the real app and webhook: the announcement worker and the
clock moved by hand (background work off; only the inbox's queue runs), staff logged in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.announcements.delivery import AnnouncementWorker
from app.dossiers.service import DossierDesk
from app.ratings.service import Ratings
from tests.announcements.conftest import FAST
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.announce import Clock
from tests.support.fake_zalo import FakeMessage, FakeZalo
from tests.support.webhook import OA_ID, text_event
from tests.web.console_support import log_in, make_staff

CODE = "H26.12-251201-0001"
LINK = f"https://dichvucong.tinhmau.example/tra-cuu-ho-so?ma-ho-so={CODE}"
RESIDENT = "resident-hs"


@dataclass
class Desk:
    app: RunningApp
    fake: FakeZalo
    clock: Clock
    worker: AnnouncementWorker
    dossiers: DossierDesk
    ratings: Ratings
    csrf: str = ""

    async def says(self, text: str, user_id: str = RESIDENT) -> list[FakeMessage]:
        before = len(self.fake.sent_messages)
        response = await self.app.webhook.post(text_event(user_id, text))
        assert response.status_code == 200
        await self.app.settle()
        return [m for m in self.fake.sent_messages[before:] if m.user_id == user_id]

    async def text_of(self, text: str, user_id: str = RESIDENT) -> str:
        return "\n".join(m.text for m in await self.says(text, user_id))

    async def staff_sets(self, code: str, state: str, **fields: str) -> Any:
        if not self.csrf:
            make_staff(self.app.services.db, "motcua")
            self.csrf = await log_in(self.app.client, "motcua")
        return await self.app.client.post(
            "/console/dossiers",
            data={"csrf_token": self.csrf, "code": code, "state": state, **fields},
        )

    def sent_to(self, user_id: str = RESIDENT) -> list[FakeMessage]:
        return [m for m in self.fake.sent_messages if m.user_id == user_id]


async def start_desk(tmp_path: Path, fake: FakeZalo, **overrides: object) -> AsyncIterator[Desk]:
    settings = make_settings(tmp_path, fake, run_worker=False, zalo_oa_id=OA_ID, **overrides)
    async for running in start_app(settings):
        running.services.queue.start()
        try:
            services = running.services
            assert services.announcer is not None
            assert services.dossiers is not None and services.ratings is not None
            clock = Clock()
            services.inbox.clock = clock
            services.announcer.clock, services.announcer.policy = clock, FAST
            services.dossiers.clock = clock
            services.ratings.clock = clock
            yield Desk(
                running, fake, clock, services.announcer, services.dossiers, services.ratings
            )
        finally:
            await running.services.queue.stop()


@pytest.fixture
async def desk(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[Desk]:
    async for running in start_desk(tmp_path, fake_zalo):
        yield running
