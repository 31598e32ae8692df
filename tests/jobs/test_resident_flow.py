"""Through the real app and webhook: residents join groups by chat, deferred announcements reach
them with their next message, once, and the Zalo tag follows the local record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.announcements.delivery import AnnouncementWorker
from app.storage.announcements import AnnouncementDraft, create_announcement, delivery_rows
from app.storage.groups import membership_group
from app.storage.tables import DeliveryStatus
from tests.announcements.conftest import FAST
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.announce import Clock
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import OA_ID, text_event

pytestmark = pytest.mark.anyio

NOTICE = "Tổ dân phố số 5 họp lúc 19h tối thứ Sáu tại nhà văn hóa."


@pytest.fixture
async def app(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    # The tests move the announcement worker by hand: the background work is off, and only
    # the inbox's queue runs, so webhook events are answered.
    settings = make_settings(tmp_path, fake_zalo, run_worker=False, zalo_oa_id=OA_ID)
    async for running in start_app(settings):
        running.services.queue.start()
        try:
            yield running
        finally:
            await running.services.queue.stop()


class Scene:
    def __init__(self, app: RunningApp, fake: FakeZalo) -> None:
        self.app, self.fake, self.clock = app, fake, Clock()
        app.services.inbox.clock = self.clock
        assert app.services.announcer is not None
        self.worker: AnnouncementWorker = app.services.announcer
        self.worker.clock, self.worker.policy = self.clock, FAST
        assert self.worker.tags is not None  # a real Zalo client: tags are mirrored
        self.worker.tags.clock, self.worker.tags.policy = self.clock, FAST

    async def says(self, user_id: str, text: str) -> list[str]:
        before = len(self.fake.sent_messages)
        response = await self.app.webhook.post(text_event(user_id, text))
        assert response.status_code == 200
        await self.app.settle()
        return [m.text for m in self.fake.sent_messages[before:] if m.user_id == user_id]

    def announce(self, *groups: str) -> int:
        draft = AnnouncementDraft(oa_id=OA_ID, text=NOTICE, group_ids=groups)
        return create_announcement(self.app.services.db, draft, self.clock())


@pytest.fixture
def scene(app: RunningApp, fake_zalo: FakeZalo) -> Scene:
    return Scene(app, fake_zalo)


async def test_deferred_announcement_arrives_with_the_next_message_once(scene: Scene) -> None:
    (joined,) = await scene.says("r1", "đăng ký tổ 5")
    assert joined.startswith("Dạ, em đã ghi nhận anh/chị thuộc Tổ dân phố số 5")

    scene.clock.advance(days=8)  # the resident has been quiet: Zalo's window is closed
    announcement = scene.announce("tdp-5")
    await scene.worker.run_once()
    (row,) = delivery_rows(scene.app.services.db, announcement)
    assert (row.status, row.reason) == (DeliveryStatus.deferred, "outside_window")
    assert NOTICE not in scene.fake.sent_texts("r1")

    scene.clock.advance(hours=1)
    replies = await scene.says("r1", "giờ làm việc của phường")
    assert len(replies) >= 2
    assert replies[-1] == f"Dạ, phường có 1 thông báo mới cho tổ của anh/chị:\n\n{NOTICE}"
    assert NOTICE not in replies[0]  # the resident's own answer comes first

    again = await scene.says("r1", "cảm ơn")
    assert all(NOTICE not in text for text in again)
    await scene.worker.run_once()
    assert sum(NOTICE in text for text in scene.fake.sent_texts("r1")) == 1
    (row,) = delivery_rows(scene.app.services.db, announcement)
    assert (row.status, row.reason) == (DeliveryStatus.sent, "on_next_message")


async def test_a_group_command_also_hands_over_what_was_deferred(scene: Scene) -> None:
    await scene.says("r2", "TDP 5")
    scene.clock.advance(days=10)
    scene.announce("tdp-5")
    await scene.worker.run_once()
    replies = await scene.says("r2", "tôi đang ở tổ nào")
    assert replies[0].startswith("Dạ, anh/chị đang đăng ký nhận thông báo của Tổ dân phố số 5")
    assert replies[1].endswith(NOTICE)


async def test_membership_is_mirrored_to_zalo_tags_without_blocking_replies(
    scene: Scene,
) -> None:
    db, fake = scene.app.services.db, scene.fake
    await scene.says("r3", "đăng ký tổ 5")
    assert fake.tags["r3"] == {"TDP 5"}

    fake.fail_next_http(500, "/v2.0/oa/tag/tagfollower")
    (moved,) = await scene.says("r3", "chuyển sang tổ 7")
    assert moved == "Dạ, em đã chuyển anh/chị từ Tổ dân phố số 5 sang Tổ dân phố số 7 ạ. " + (
        "Từ nay phường sẽ gửi thông báo của Tổ dân phố số 7 cho anh/chị qua Zalo này."
    )
    assert membership_group(db, OA_ID, "r3") == "tdp-7"  # the local record is the truth
    assert fake.tags["r3"] == set()  # Zalo lags behind for now

    await scene.worker.run_once()  # the worker retries the tag later
    assert fake.tags["r3"] == {"TDP 7"}

    (left,) = await scene.says("r3", "hủy nhận thông báo")
    assert "hủy đăng ký nhận thông báo của Tổ dân phố số 7" in left
    assert membership_group(db, OA_ID, "r3") is None and fake.tags["r3"] == set()
    (asked,) = await scene.says("r3", "tôi đang ở tổ nào")
    assert asked.startswith("Dạ, anh/chị chưa đăng ký nhận thông báo")


async def test_procedure_questions_still_reach_the_dialogue(scene: Scene) -> None:
    replies = await scene.says("r4", "đăng ký khai sinh cho con ở tổ 5")
    assert replies and "khai sinh" in replies[0].lower()
    assert membership_group(scene.app.services.db, OA_ID, "r4") is None


async def test_a_resident_inside_the_window_gets_it_from_the_worker(scene: Scene) -> None:
    await scene.says("r5", "tôi ở tổ dân phố số 5")
    scene.clock.advance(days=2)
    announcement = scene.announce("tdp-5")
    await scene.worker.run_once()
    assert scene.fake.sent_texts("r5")[-1] == NOTICE
    (row,) = delivery_rows(scene.app.services.db, announcement)
    assert row.status is DeliveryStatus.sent and row.zalo_message_id is not None
    scene.clock.advance(minutes=5)
    replies = await scene.says("r5", "cảm ơn")
    assert all(NOTICE not in text for text in replies)


async def test_the_worker_is_off_when_settings_say_so(scene: Scene) -> None:
    await scene.app.settle()
    assert scene.worker._task is None
    assert timedelta(0) == FAST.backoff_base
