"""The whole flow under a flaky Zalo: every part of every reply and announcement reaches each
resident exactly once.

200 residents who follow the OA ask a question whose answer goes out in two parts, while the
fake Zalo answers HTTP 500, -32 (rate limit), times out (before accepting, or after accepting
with the answer lost) and is slow, at random (seeded). An announcement goes to every follower
meanwhile; 20 residents last wrote more than 7 days ago (Zalo's window), so theirs waits for
their next message and then goes out in two parts, with its lead. Then Zalo recovers, held
replies are resent and the announcement worker finishes.

What Zalo accepted, as a multiset of (resident, text), is compared with what was meant to be
sent: every part the outbox recorded (each reply split once, plus the apologies in front of
replies held before anything of them went out). Duplicates and losses must both be 0.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from app.announcements.delivery import AnnouncementWorker, DeliveryPolicy, TokenBucket
from app.announcements.notices import deferred_reply
from app.dialogue.conversation import ConversationState
from app.outbox.held import HeldReplies
from app.storage.announcements import AnnouncementDraft, announcement_status, create_announcement
from app.storage.followers import touch_interaction
from app.storage.tables import (
    DeliveryStatus,
    OutboundMessage,
    OutboundPart,
    OutboundPurpose,
    PartStatus,
)
from app.zalo.split import split_text
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.announce import EchoWebhook, add_residents
from tests.support.fake_zalo import FAULT_KINDS, FakeZalo
from tests.support.outbox import accepted, fast_retries
from tests.support.webhook import OA_ID, text_event

pytestmark = pytest.mark.anyio

RESIDENTS = 200
OUTSIDE_WINDOW = 20
# Two questions whose answer takes two parts each (the record in full): the test asserts it.
QUESTIONS = ("Xem đầy đủ: Đăng ký khai sinh", "Xem đầy đủ: Cấp sổ đỏ lần đầu")
NOTICE = (
    "Thông báo của UBND phường về lịch cắt điện để bảo dưỡng lưới điện trong khu dân cư. " * 23
    + "Mong bà con thông cảm và chủ động sắp xếp công việc."
)
"""1,984 characters: one message alone, two with the lead of a deferred hand-off."""


class RoundsLater:
    """The time, as many minutes later as rounds have passed (the job runs every minute)."""

    def __init__(self) -> None:
        self.rounds = 0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(minutes=self.rounds)


@pytest.fixture
async def app(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    # The test moves the announcement worker and the held replies by hand: only the inbox's
    # queue runs, so webhook events are answered.
    settings = make_settings(tmp_path, fake_zalo, run_worker=False, zalo_oa_id=OA_ID)
    async for running in start_app(settings):
        running.services.queue.start()
        try:
            yield running
        finally:
            await running.services.queue.stop()


async def _post_all(app: RunningApp, payloads: list[dict[str, object]], chunk: int = 25) -> None:
    for start in range(0, len(payloads), chunk):
        answers = await asyncio.gather(
            *(app.webhook.post(p) for p in payloads[start : start + chunk])
        )
        assert {a.status_code for a in answers} == {200}
    await app.settle()


def _recorded_parts(app: RunningApp) -> list[tuple[OutboundMessage, OutboundPart]]:
    with app.services.db.session() as session:
        return list(
            session.exec(
                select(OutboundMessage, OutboundPart)
                .where(col(OutboundPart.message_id) == col(OutboundMessage.id))
                .order_by(col(OutboundPart.message_id), col(OutboundPart.position))
            ).all()
        )


async def test_every_part_reaches_every_resident_exactly_once_under_faults(
    app: RunningApp, fake_zalo: FakeZalo
) -> None:
    services = app.services
    fast_retries(services)
    # The held-replies job runs every minute: each of its rounds here is a minute after the
    # last (past the echo grace of any attempt it made itself).
    rounds = RoundsLater()
    held = HeldReplies(services.inbox.outbox, OA_ID, clock=rounds)
    # Zalo's echo of every accepted message, recorded as the webhook records it (on the
    # same clock as the held-replies job, which runs ahead of the others here).
    fake_zalo.on_accept = EchoWebhook(services.db, rounds, oa_id=OA_ID)
    residents = [f"resident-{i:03d}" for i in range(RESIDENTS)]
    add_residents(services.db, {r: "tdp-1" for r in residents}, last_interaction=None, oa_id=OA_ID)
    idle = set(residents[-OUTSIDE_WINDOW:])
    assert services.announcer is not None
    worker: AnnouncementWorker = services.announcer
    worker.limiter = TokenBucket(100_000)
    # Retries at once (the clock is real), and the night does not hold the announcement.
    policy = DeliveryPolicy(
        backoff_base=timedelta(0), echo_grace=timedelta(0), max_attempts=100, quiet_hours=None
    )
    worker.policy = policy
    assert services.inbox.announcements is not None  # the deferred hand-off
    services.inbox.announcements.policy = policy

    # 1. The storm: a third of the requests fail, every kind of failure, with latency.
    fake_zalo.inject_faults(0.3, seed=20261202, kinds=FAULT_KINDS, latency=(0.0, 0.002))
    await _post_all(app, [text_event(r, QUESTIONS[i % 2]) for i, r in enumerate(residents)])
    for resident in idle:  # as if they had last written 8 days ago
        touch_interaction(services.db, OA_ID, resident, datetime.now(UTC) - timedelta(days=8))
    announcement = create_announcement(
        services.db,
        AnnouncementDraft(oa_id=OA_ID, text=NOTICE, all_followers=True),
        datetime.now(UTC),
    )
    for _ in range(3):
        await worker.run_once()
        rounds.rounds += 1
        await held.resend()
    # The idle residents write again (Zalo's window opens): the announcement follows.
    await _post_all(app, [text_event(r, "cảm ơn") for r in sorted(idle)])
    storm = Counter(o.outcome for o in fake_zalo.outcomes)

    # 2. Zalo recovers: held replies go out, the worker finishes the announcement.
    fake_zalo.inject_faults(0)
    for _ in range(20):
        rounds.rounds += 1
        counts = await held.resend()
        settled = await worker.run_once()
        if counts.sent == counts.still_held == settled == 0:
            break
    status = announcement_status(services.db, announcement)
    assert status is not None and status.done
    assert status.count(DeliveryStatus.sent) == RESIDENTS

    # 3. What was meant to be sent: every recorded part, and every one of them went out.
    recorded = _recorded_parts(app)
    unsent = [(m.user_id, p.status, p.reason) for m, p in recorded if p.status != PartStatus.sent]
    assert unsent == []
    meant = Counter((m.user_id, p.text) for m, p in recorded)
    got = accepted(fake_zalo)
    duplicates = sum((got - meant).values())
    losses = sum((meant - got).values())

    # Each reply was split once, where a fresh split puts it: never re-split.
    for message, part in recorded:
        if part.position > 0:
            assert part.text == split_text(message.text)[part.position - 1]
    # The answers are the dialogue's (independently), and every resident has all of it.
    dialogue = services.knowledge.current.dialogue
    fresh = {
        q: [
            p
            for reply in dialogue.respond(q, ConversationState(), datetime.now(UTC)).replies
            for p in split_text(reply.text)
        ]
        for q in QUESTIONS
    }
    deferred = split_text(deferred_reply(NOTICE, for_group=False).text)
    assert len(deferred) == 2 and all(len(p) == 2 for p in fresh.values())
    for i, resident in enumerate(residents):
        texts = Counter(
            text for (user, text), n in got.items() if user == resident for _ in range(n)
        )
        for part in fresh[QUESTIONS[i % 2]]:
            assert texts[part] == 1, (resident, part[:40])
        notice_parts = deferred if resident in idle else [NOTICE]
        for part in notice_parts:
            assert texts[part] == 1, (resident, part[:40])

    apologies = sum(1 for _, p in recorded if p.position == 0)
    figures = {
        "residents": RESIDENTS,
        "messages": len({m.id for m, _ in recorded}),
        "parts_meant": sum(meant.values()),
        "parts_accepted": sum(got.values()),
        "apologies": apologies,
        "two_part_announcements": OUTSIDE_WINDOW,
        "duplicates": duplicates,
        "losses": losses,
        "faults": {k: storm[k] for k in ("http_500", "zalo:-32", "timeout", "accepted_timeout")},
    }
    print(f"\nfault test figures: {figures}")
    assert (duplicates, losses) == (0, 0), figures
    # The faults really happened, every kind, and some replies waited for the recovery.
    assert all(figures["faults"][k] > 10 for k in figures["faults"]), figures  # type: ignore[index]
    assert any(
        m.purpose == OutboundPurpose.reply.value and p.status is PartStatus.sent and p.position == 2
        for m, p in recorded
    )
