"""The running service spends one budget for all its Zalo clients (app.zalo.budget): a -32
answered to an announcement holds back the replies to residents too, until the back-off ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ZaloRateLimited
from app.storage.budget import budget_state
from app.zalo.budget import RATE_LIMIT_BACKOFF_FIRST
from app.zalo.client import ZaloClient
from tests.conftest import make_settings, start_app
from tests.support.fake_zalo import MESSAGE_CS_PATH, FakeMessage, FakeZalo
from tests.support.outbox import SkippedTime, fast_retries
from tests.support.webhook import APP_ID, OA_ID, text_event

pytestmark = pytest.mark.anyio


async def test_a_rate_limit_met_by_an_announcement_holds_back_the_replies_too(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    settings = make_settings(tmp_path, fake_zalo, run_worker=False, zalo_oa_id=OA_ID)
    skipped = SkippedTime()
    replied_at: list[float] = []

    def accepted(message: FakeMessage) -> None:
        replied_at.append(skipped.clock())

    async for app in start_app(settings):
        services = app.services
        fast_retries(services)
        assert services.budget is not None and services.announcer is not None
        services.budget.clock, services.budget.sleep = skipped.clock, skipped.sleep
        services.queue.start()
        try:
            # The announcements' client (the bulk lane) meets Zalo's limit.
            announcements = services.announcer.outbox.sender_for(OA_ID)  # this OA's client
            assert isinstance(announcements, ZaloClient)
            fake_zalo.queue_error(MESSAGE_CS_PATH, -32)
            with pytest.raises(ZaloRateLimited):
                await announcements.send_text("r1", "Thông báo cắt nước")
            limited = budget_state(services.db, APP_ID)
            assert limited is not None
            until = limited.backoff_until
            assert until - skipped.clock() > RATE_LIMIT_BACKOFF_FIRST / 2  # still backing off
            fake_zalo.on_accept = accepted

            answer = await app.webhook.post(text_event("asker", "phường làm việc mấy giờ"))
            assert answer.status_code == 200
            await app.settle()
        finally:
            await services.queue.stop()

    assert fake_zalo.sent_texts("asker")  # answered, but only after the app's back-off
    assert replied_at and min(replied_at) >= until
    state = budget_state(services.db, APP_ID)
    assert state is not None and state.rate_limited == 1
