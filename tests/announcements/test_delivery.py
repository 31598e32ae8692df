"""The delivery worker against a fake Zalo with faults: outcomes, crashes, quiet hours, pacing."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import select

from app.announcements.delivery import DeliveryPolicy, QuietHours, TokenBucket, deliver_deferred
from app.dialogue.reply import Button
from app.outbox import Outbox
from app.storage.announcements import delivery_rows
from app.storage.tables import DeliveryStatus, Follower, OutboundPart, PartStatus
from app.zalo.sender import MessageSender, SentMessage
from tests.announcements.conftest import FAST, TEXT, Harness
from tests.support.announce import add_residents, spread
from tests.support.fake_zalo import MESSAGE_CS_PATH, FakeMessage

pytestmark = pytest.mark.anyio


def _statuses(h: Harness, announcement_id: int) -> dict[str, tuple[DeliveryStatus, str | None]]:
    return {d.user_id: (d.status, d.reason) for d in delivery_rows(h.db, announcement_id)}


def _requests_per_user(h: Harness) -> Counter[str]:
    return Counter(r.json["recipient"]["user_id"] for r in h.fake.requests_to(MESSAGE_CS_PATH))


async def test_each_resident_gets_the_outcome_zalo_allows(harness: Harness) -> None:
    h, now = harness, harness.clock()
    add_residents(
        h.db, {"in-1": "tdp-1", "in-2": "tdp-1"}, last_interaction=now - timedelta(days=1)
    )
    add_residents(h.db, {"idle": "tdp-1"}, last_interaction=now - timedelta(days=8))
    add_residents(
        h.db, {"gone": "tdp-1"}, last_interaction=now - timedelta(days=1), following=False
    )
    refused = {"z230": -230, "z213": -213, "z227": -227, "z244": -244}
    add_residents(h.db, dict.fromkeys(refused, "tdp-1"), last_interaction=now - timedelta(hours=1))
    h.fake.recipient_errors.update(refused)
    add_residents(h.db, {"imported": "tdp-1"}, last_interaction=None)  # never wrote: Zalo decides
    ann = h.announce(link_url="https://phuong.gov.vn/tb/1", link_title="Xem lịch")

    await h.run_until_settled(h.worker())

    assert _statuses(h, ann) == {
        "in-1": (DeliveryStatus.sent, None),
        "in-2": (DeliveryStatus.sent, None),
        "imported": (DeliveryStatus.sent, None),
        "idle": (DeliveryStatus.deferred, "outside_window"),
        "z230": (DeliveryStatus.deferred, "zalo:-230"),
        "gone": (DeliveryStatus.failed, "unfollowed"),
        "z213": (DeliveryStatus.failed, "zalo:-213"),
        "z227": (DeliveryStatus.failed, "zalo:-227"),
        "z244": (DeliveryStatus.failed, "zalo:-244"),
    }
    # Known-idle and unfollowed residents cost no call; every refusal was asked exactly once.
    assert _requests_per_user(h) == Counter(
        {"in-1": 1, "in-2": 1, "imported": 1, "z230": 1, "z213": 1, "z227": 1, "z244": 1}
    )
    (message, *_) = h.fake.sent_messages
    assert message.text == TEXT
    assert message.buttons == (
        {
            "title": "Xem lịch",
            "type": "oa.open.url",
            "payload": {"url": "https://phuong.gov.vn/tb/1"},
        },
    )
    report = h.status(ann).as_json()
    assert (report["total"], report["pending"], report["sent"]) == (9, 0, 3)
    assert (report["deferred"], report["failed"]) == (2, 4)


class ProcessKilled(BaseException):
    """The process died here: no `except Exception` runs, nothing records the send.

    (Not SystemExit: asyncio lets that one escape the event loop itself.)"""


class DiesAfterAccepted:
    """Sends through `inner`; the process dies right after Zalo accepts the `limit`-th message,
    before the worker can record it: the ambiguous moment."""

    def __init__(self, inner: MessageSender, limit: int) -> None:
        self.inner, self.limit, self.accepted = inner, limit, 0

    async def send_text(
        self, user_id: str, text: str, buttons: Iterable[Button] = ()
    ) -> SentMessage:
        sent = await self.inner.send_text(user_id, text, buttons)
        self.accepted += 1
        if self.accepted == self.limit:
            raise ProcessKilled("killed after Zalo accepted a message")
        return sent


async def test_killed_twice_during_1000_recipients_every_one_reached_once(
    harness: Harness,
) -> None:
    h, now = harness, harness.clock()
    users = [f"u{i:04d}" for i in range(1000)]
    active, idle, refused_window = users[:920], users[920:980], users[980:995]
    add_residents(
        h.db,
        spread(active + refused_window, ["tdp-1", "tdp-2", "tdp-3"]),
        last_interaction=now - timedelta(days=2),
    )
    add_residents(h.db, spread(idle, ["tdp-1", "tdp-2"]), last_interaction=now - timedelta(days=9))
    permanent = {"u0995": -213, "u0996": -227, "u0997": -244}
    add_residents(h.db, spread(permanent, ["tdp-3"]), last_interaction=now - timedelta(days=1))
    add_residents(h.db, spread(users[998:], ["tdp-3"]), last_interaction=now, following=False)
    h.fake.recipient_errors.update(permanent)
    h.fake.outside_window.update(refused_window)
    h.fake.inject_faults(0.05, seed=20261122)
    h.fake.accept_then_timeout(times=4)  # accepted by Zalo, but the worker sees a timeout
    ann = h.announce(groups=["tdp-1", "tdp-2", "tdp-3"])
    assert h.status(ann).total == 1000

    # 1. The process dies right after Zalo accepted message 300, before recording it.
    with pytest.raises(BaseExceptionGroup) as died:
        await h.worker(DiesAfterAccepted(h.sender(), 300), concurrency=16).run_once()
    assert died.group_contains(ProcessKilled)
    assert h.status(ann).count(DeliveryStatus.sending) >= 1

    # 2. Restarted; this time the worker task is cancelled (SIGKILL-like) mid-flight.
    h.clock.advance(minutes=6)  # the dead worker's claims expire
    second = h.worker(concurrency=16)
    task = asyncio.create_task(second.run())
    echo = h.fake.on_accept

    def cancel_at_700(message: FakeMessage) -> None:
        assert echo is not None
        echo(message)
        if len(h.fake.sent_messages) == 700:
            task.cancel()

    h.fake.on_accept = cancel_at_700
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    h.fake.on_accept = echo
    assert h.status(ann).unsettled > 0

    # 3. Restarted again; it runs to the end.
    h.clock.advance(minutes=6)
    await h.run_until_settled(h.worker(concurrency=16))

    report = h.status(ann)
    statuses = _statuses(h, ann)
    accepted = h.fake.accepted_per_user()
    assert report.done and report.total == 1000
    # Every recipient: exactly one message if sent, none if deferred or failed.
    for user, (status, _reason) in statuses.items():
        assert accepted.get(user, 0) == (1 if status is DeliveryStatus.sent else 0), user
    # The report matches Zalo's own log exactly.
    outcomes = Counter(o.outcome for o in h.fake.outcomes)
    assert report.count(DeliveryStatus.sent) == len(h.fake.sent_messages) == 920
    assert outcomes["accepted"] + outcomes["accepted_timeout"] == 920
    assert report.reasons[DeliveryStatus.deferred] == {
        "outside_window": 60,
        "zalo:-230": outcomes["zalo:-230"],
    }
    assert outcomes["zalo:-230"] == 15
    assert report.reasons[DeliveryStatus.failed] == {
        "unfollowed": 2,
        "zalo:-213": 1,
        "zalo:-227": 1,
        "zalo:-244": 1,
    }
    assert (outcomes["zalo:-213"], outcomes["zalo:-227"], outcomes["zalo:-244"]) == (1, 1, 1)
    # The faults really happened, and every ambiguous message was settled from its echo.
    assert outcomes["http_500"] + outcomes["timeout"] + outcomes["zalo:-32"] > 30
    assert outcomes["accepted_timeout"] == 4
    confirmed = report.reasons[DeliveryStatus.sent]["echo_confirmed"]
    assert confirmed >= 5  # 4 lost answers + the message accepted as the process died


async def test_a_lost_answer_found_in_the_echo_is_not_sent_again(harness: Harness) -> None:
    h = harness
    add_residents(h.db, {"a": "tdp-1"}, last_interaction=h.clock() - timedelta(hours=1))
    h.fake.accept_then_timeout()
    ann = h.announce()
    await h.run_until_settled(h.worker())
    assert _statuses(h, ann) == {"a": (DeliveryStatus.sent, "echo_confirmed")}
    assert h.fake.accepted_per_user() == {"a": 1}
    (row,) = delivery_rows(h.db, ann)
    assert row.zalo_message_id == h.fake.sent_messages[0].message_id


async def test_without_the_echo_an_unconfirmed_message_is_sent_again(harness: Harness) -> None:
    """The documented residual risk: at-least-once when Zalo's echo never arrives."""
    h = harness
    h.echo.enabled = False
    add_residents(h.db, {"a": "tdp-1"}, last_interaction=h.clock() - timedelta(hours=1))
    h.fake.accept_then_timeout()
    ann = h.announce()
    await h.run_until_settled(h.worker())
    assert _statuses(h, ann) == {"a": (DeliveryStatus.sent, "resent_after_unconfirmed")}
    assert h.fake.accepted_per_user() == {"a": 2}


async def test_an_unconfirmed_attempt_waits_for_the_echo_before_resending(
    harness: Harness,
) -> None:
    h = harness
    policy = DeliveryPolicy(backoff_base=timedelta(0), echo_grace=timedelta(seconds=30))
    add_residents(h.db, {"a": "tdp-1"}, last_interaction=h.clock() - timedelta(hours=1))
    h.fake.fail_next_timeout(MESSAGE_CS_PATH)  # never reached Zalo, but we cannot know that
    ann = h.announce()
    worker = h.worker(policy=policy)
    await h.run_until_settled(worker)
    assert _statuses(h, ann) == {"a": (DeliveryStatus.pending, "ZaloTransportError")}
    h.clock.advance(seconds=30)
    await h.run_until_settled(worker)
    assert _statuses(h, ann) == {"a": (DeliveryStatus.sent, "resent_after_unconfirmed")}
    assert h.fake.accepted_per_user() == {"a": 1}


async def test_transient_errors_retry_then_give_up(harness: Harness) -> None:
    h = harness
    add_residents(h.db, {"a": "tdp-1", "b": "tdp-1"}, last_interaction=h.clock())
    h.fake.queue_error(MESSAGE_CS_PATH, -32, times=2)  # rate limited twice: "a" then retried
    ann = h.announce()
    await h.run_until_settled(h.worker())
    assert {s for s, _ in _statuses(h, ann).values()} == {DeliveryStatus.sent}

    h.fake.fail_next_http(503, MESSAGE_CS_PATH, times=50)
    again = h.announce(text="Lần hai")
    policy = DeliveryPolicy(backoff_base=timedelta(0), echo_grace=timedelta(0), max_attempts=3)
    await h.run_until_settled(h.worker(policy=policy))
    assert _statuses(h, again) == {
        "a": (DeliveryStatus.failed, "gave_up:ZaloTransportError"),
        "b": (DeliveryStatus.failed, "gave_up:ZaloTransportError"),
    }
    assert len(h.fake.requests_to(MESSAGE_CS_PATH)) == 2 + 2 + 3 * 2


async def test_backoff_spaces_the_retries(harness: Harness) -> None:
    h = harness
    add_residents(h.db, {"a": "tdp-1"}, last_interaction=h.clock())
    h.fake.queue_error(MESSAGE_CS_PATH, -32, times=2)
    ann = h.announce()
    worker = h.worker(policy=DeliveryPolicy(backoff_base=timedelta(seconds=10)))
    await h.run_until_settled(worker)
    assert _statuses(h, ann)["a"] == (DeliveryStatus.pending, "zalo:-32")
    h.clock.advance(seconds=9)
    await h.run_until_settled(worker)
    assert len(h.fake.requests_to(MESSAGE_CS_PATH)) == 1
    h.clock.advance(seconds=1)
    await h.run_until_settled(worker)
    assert len(h.fake.requests_to(MESSAGE_CS_PATH)) == 2  # -32 again: now 20 s
    h.clock.advance(seconds=20)
    await h.run_until_settled(worker)
    assert _statuses(h, ann)["a"] == (DeliveryStatus.sent, None)


async def test_quiet_hours_hold_non_urgent_and_let_urgent_through(harness: Harness) -> None:
    h = harness
    h.clock.now = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 23:30 in Hà Nội
    add_residents(h.db, {"a": "tdp-1"}, last_interaction=h.clock() - timedelta(hours=2))
    routine = h.announce(text="Họp tổ dân phố tối thứ Sáu.")
    urgent = h.announce(text="Khẩn: nước lũ lên nhanh, di chuyển lên chỗ cao.", urgent=True)
    worker = h.worker()

    await h.run_until_settled(worker)
    assert h.fake.sent_texts("a") == ["Khẩn: nước lũ lên nhanh, di chuyển lên chỗ cao."]
    assert _statuses(h, routine)["a"][0] is DeliveryStatus.pending
    assert _statuses(h, urgent)["a"][0] is DeliveryStatus.sent

    h.clock.now = datetime(2026, 11, 23, 22, 59, tzinfo=UTC)  # 05:59
    await h.run_until_settled(worker)
    assert len(h.fake.sent_messages) == 1
    h.clock.now = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # 06:00: morning
    await h.run_until_settled(worker)
    assert h.fake.sent_texts("a")[-1] == "Họp tổ dân phố tối thứ Sáu."


async def test_scheduled_announcement_waits_for_its_time(harness: Harness) -> None:
    h = harness
    add_residents(h.db, {"a": "tdp-1"}, last_interaction=h.clock())
    ann = h.announce(scheduled_at=h.clock() + timedelta(hours=2))
    worker = h.worker()
    await h.run_until_settled(worker)
    assert h.fake.sent_messages == [] and h.status(ann).count(DeliveryStatus.pending) == 1
    h.clock.advance(hours=2)
    await h.run_until_settled(worker)
    assert h.fake.sent_texts("a") == [TEXT]


async def test_resident_who_wrote_meanwhile_is_not_left_deferred(harness: Harness) -> None:
    h = harness
    add_residents(h.db, {"a": "tdp-1"}, last_interaction=h.clock())
    h.fake.outside_window.add("a")

    class WritesWhileSending:
        """The resident writes to the OA while Zalo is still answering -230."""

        def __init__(self, inner: MessageSender) -> None:
            self.inner = inner

        async def send_text(
            self, user_id: str, text: str, buttons: Iterable[Button] = ()
        ) -> SentMessage:
            with h.db.session() as session:
                follower = session.get(Follower, ("oa-1", user_id))
                assert follower is not None
                follower.last_interaction_at = h.clock() + timedelta(seconds=1)
                session.commit()
            try:
                return await self.inner.send_text(user_id, text, buttons)
            finally:
                h.fake.interact(user_id)

    ann = h.announce()
    worker = h.worker(WritesWhileSending(h.sender()))
    await worker.drain_due()
    h.clock.advance(seconds=2)
    await h.run_until_settled(h.worker())
    assert _statuses(h, ann) == {"a": (DeliveryStatus.sent, None)}


async def test_two_workers_never_send_the_same_delivery(harness: Harness) -> None:
    h = harness
    users = {f"u{i}": "tdp-2" for i in range(300)}
    add_residents(h.db, users, last_interaction=h.clock())
    ann = h.announce(groups=["tdp-2"])
    first, second = h.worker(concurrency=4), h.worker(concurrency=4)
    await asyncio.gather(first.run_once(), second.run_once())
    assert h.status(ann).count(DeliveryStatus.sent) == 300
    assert h.fake.accepted_per_user() == dict.fromkeys(users, 1)


async def test_replies_first_holds_each_claim_until_the_answers_in_hand_are_done(
    harness: Harness,
) -> None:
    h = harness
    add_residents(h.db, {f"u{i}": "tdp-2" for i in range(3)}, last_interaction=h.clock())
    ann = h.announce(groups=["tdp-2"])
    answering = asyncio.Event()  # a resident's answer is in hand until it is set
    asked: list[int] = []

    async def replies_first() -> None:
        asked.append(len(h.fake.sent_messages))
        await answering.wait()

    worker = h.worker(concurrency=1, replies_first=replies_first)
    passing = asyncio.create_task(worker.run_once())
    for _ in range(20):
        await asyncio.sleep(0)
    assert h.fake.sent_messages == []  # nothing claimed or sent while the answer is in hand
    assert h.status(ann).count(DeliveryStatus.pending) == 3
    answering.set()
    await passing
    assert h.status(ann).count(DeliveryStatus.sent) == 3
    # Asked before each delivery, and once more before the claim that found nothing left.
    assert asked == [0, 1, 2, 3]


def when_sent(h: Harness, count: int) -> tuple[asyncio.Event, Callable[[FakeMessage], None]]:
    """An event set once the fake Zalo has accepted `count` messages, and the fake's own
    on_accept (the echo), which keeps running and can be put back."""
    reached = asyncio.Event()
    echo = h.fake.on_accept
    assert echo is not None

    def counting(message: FakeMessage) -> None:
        echo(message)
        if len(h.fake.sent_messages) >= count:
            reached.set()

    h.fake.on_accept = counting
    return reached, echo


async def test_stop_lets_claimed_deliveries_finish(harness: Harness) -> None:
    h = harness
    add_residents(h.db, {f"u{i}": "tdp-1" for i in range(200)}, last_interaction=h.clock())
    ann = h.announce()
    worker = h.worker(concurrency=8, poll_interval=0.01)
    fifty, _ = when_sent(h, 50)
    worker.start()
    await fifty.wait()
    await worker.stop()
    report = h.status(ann)
    assert report.count(DeliveryStatus.sending) == 0  # nothing ambiguous left behind
    assert report.count(DeliveryStatus.sent) == len(h.fake.sent_messages) < 200
    with h.db.session() as session:  # no part left claimed: nothing uncertain
        assert (
            session.exec(
                select(OutboundPart).where(OutboundPart.status == PartStatus.sending)
            ).all()
            == []
        )


async def test_claims_not_started_at_stop_go_back_unsent_and_are_sent_once(
    harness: Harness,
) -> None:
    h = harness
    users = {f"u{i}": "tdp-1" for i in range(60)}
    add_residents(h.db, users, last_interaction=h.clock())
    ann = h.announce()
    worker = h.worker(concurrency=2, claim_size=25, poll_interval=0.01)
    ten, echo = when_sent(h, 10)
    worker.start()
    await ten.wait()
    await worker.stop()
    h.fake.on_accept = echo
    report = h.status(ann)
    sent = report.count(DeliveryStatus.sent)
    assert report.count(DeliveryStatus.sending) == 0 and sent == len(h.fake.sent_messages) < 60
    # The claims given back were never attempted: their attempt is refunded.
    assert {r.attempts for r in delivery_rows(h.db, ann) if r.status is DeliveryStatus.pending} == {
        0
    }

    await h.run_until_settled(h.worker(concurrency=4))
    assert h.status(ann).count(DeliveryStatus.sent) == 60
    assert h.fake.accepted_per_user() == dict.fromkeys(users, 1)


# --- pacing -------------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_token_bucket_paces_to_the_rate() -> None:
    fake_time = FakeTime()
    bucket = TokenBucket(50, burst=5, monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    for _ in range(505):
        await bucket.acquire()
    # The first 5 ride the burst; the other 500 come at 50 a second.
    assert fake_time.now == pytest.approx(10.0, rel=1e-6)


async def test_token_bucket_queues_concurrent_callers() -> None:
    fake_time = FakeTime()
    bucket = TokenBucket(10, burst=1, monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    await asyncio.gather(*(bucket.acquire() for _ in range(21)))
    assert fake_time.now == pytest.approx(2.0, rel=1e-6)


def test_token_bucket_refuses_a_zero_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(21, 59), False),
        (time(22, 0), True),
        (time(3, 0), True),
        (time(5, 59), True),
        (time(6, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_in_hanoi_time(local: time, quiet: bool) -> None:
    hanoi = datetime(2026, 11, 23, local.hour, local.minute, tzinfo=UTC) - timedelta(hours=7)
    assert QuietHours().is_quiet(hanoi) is quiet


def test_quiet_hours_end_in_the_morning() -> None:
    at_2330 = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    assert QuietHours().next_end(at_2330) == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)


def test_fast_policy_is_what_the_tests_use() -> None:
    assert FAST.backoff(5) == timedelta(0)
    assert DeliveryPolicy().backoff(1) == timedelta(seconds=30)
    assert DeliveryPolicy().backoff(20) == timedelta(minutes=30)


async def test_a_two_part_announcement_is_finished_part_by_part(harness: Harness) -> None:
    """A deferred announcement with its lead goes out in two parts; when the second fails,
    the retry sends the second alone."""
    h = harness
    text = "Thông báo lịch tiêm chủng mở rộng cho trẻ em trong phường. " * 33 + "Xin cảm ơn."
    add_residents(h.db, {"a": "tdp-1"}, last_interaction=h.clock() - timedelta(days=8))
    ann = h.announce(text=text.strip())
    await h.run_until_settled(h.worker())
    assert _statuses(h, ann)["a"][0] is DeliveryStatus.deferred

    # The resident writes again: the hand-off sends the lead and the text, in two parts.
    with h.db.session() as session:
        follower = session.get(Follower, ("oa-1", "a"))
        assert follower is not None
        follower.last_interaction_at = h.clock()
        session.commit()
    echo = h.fake.on_accept

    def fail_the_second(message: FakeMessage) -> None:
        assert echo is not None
        echo(message)
        h.fake.fail_next_http(503, MESSAGE_CS_PATH)

    h.fake.on_accept = fail_the_second
    outbox = Outbox(h.db, h.sender())
    assert await deliver_deferred(h.db, outbox, "oa-1", "a", h.clock(), FAST) == 0
    h.fake.on_accept = echo
    first = h.fake.sent_texts("a")
    assert len(first) == 1 and first[0].startswith("Dạ, phường có 1 thông báo mới")
    assert _statuses(h, ann)["a"][0] is DeliveryStatus.pending

    await h.run_until_settled(h.worker())

    texts = h.fake.sent_texts("a")
    assert len(texts) == 2 and texts[0] == first[0]  # the second part, alone
    assert " ".join(texts).endswith(text.strip()[-200:])
    assert _statuses(h, ann)["a"][0] is DeliveryStatus.sent
    assert h.fake.accepted_per_user() == {"a": 2}
