"""The outbox end to end: each part of each reply reaches the resident once, whatever fails
(Zalo halfway through a reply, a resend halfway through, the database after a send)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.dialogue.conversation import ConversationState
from app.dialogue.reply import Reply
from app.outbox import Outbox
from app.outbox.held import HeldReplies
from app.storage.events import get_event, list_events, release_stale_events
from app.storage.held import count_held
from app.storage.outbox import messages_to, parts_of
from app.storage.tables import DeliveryOutcome, EventStatus, PartStatus
from app.zalo.split import split_text
from tests.conftest import RunningApp
from tests.support.announce import new_database
from tests.support.fake_zalo import MESSAGE_CS_PATH, FakeMessage, FakeZalo
from tests.support.outbox import RefusingWrites, accepted, fast_retries, post_echoes
from tests.support.webhook import text_event

pytestmark = pytest.mark.anyio

QUESTION = "Xem đầy đủ: Đăng ký khai sinh"  # an answer in two parts (asserted below)
APOLOGY = "Dạ, xin lỗi anh/chị vì phường trả lời chậm"


def expected_parts(running: RunningApp, question: str = QUESTION) -> list[str]:
    """What a new resident asking `question` is meant to receive: the dialogue's replies,
    each split once."""
    dialogue = running.services.knowledge.current.dialogue
    turn = dialogue.respond(question, ConversationState(), datetime.now(UTC))
    return [part for reply in turn.replies for part in split_text(reply.text)]


def held_replies(running: RunningApp, **options: object) -> HeldReplies:
    services = running.services
    return HeldReplies(services.inbox.outbox, services.settings.own_oa_id, **options)  # type: ignore[arg-type]


async def resend_until_done(running: RunningApp, rounds: int = 10) -> None:
    held = held_replies(running)
    for _ in range(rounds):
        counts = await held.resend()
        if counts.still_held == 0 and counts.sent == 0:
            return
    raise AssertionError("held replies kept coming back")


# --- item 1: partial sends ----------------------------------------------------------------------


async def test_partial_sends_are_finished_part_by_part_never_resent_whole(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    """The issue's probe: HTTP 500 on 70% of requests while 10 residents ask for a reply that
    goes out in two parts. Afterwards every resident has each part exactly once."""
    fast_retries(running.services)
    parts = expected_parts(running)
    assert len(parts) == 2
    residents = [f"r{i}" for i in range(10)]
    fake_zalo.inject_faults(0.7, seed=14, kinds=("http_500",))
    for resident in residents:
        await running.webhook.post(text_event(resident, QUESTION))
    await running.settle()
    got_first_only = [r for r in residents if fake_zalo.sent_texts(r) == parts[:1]]
    got_nothing = [r for r in residents if fake_zalo.sent_texts(r) == []]
    assert got_first_only and got_nothing, "the seed no longer gives both cases"

    fake_zalo.inject_faults(0)  # Zalo recovers
    await resend_until_done(running)

    for resident in residents:
        texts = fake_zalo.sent_texts(resident)
        if resident in got_nothing:
            # Nothing had gone out: an apology first, as a message of its own.
            assert texts[0].startswith(APOLOGY)
            texts = texts[1:]
        assert texts == parts, resident  # each part once, split where it was split first
    assert all(APOLOGY not in t for r in got_first_only for t in fake_zalo.sent_texts(r))
    assert max(accepted(fake_zalo).values()) == 1
    for resident in residents:
        [row] = messages_to(running.services.db, resident)
        assert row.outcome == DeliveryOutcome.sent
        assert len(row.zalo_message_ids.split(",")) == len(fake_zalo.sent_texts(resident))


async def test_a_resend_that_fails_halfway_is_finished_later_without_repeats(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    fast_retries(running.services)
    parts = expected_parts(running)
    fake_zalo.fail_next_http(500, MESSAGE_CS_PATH, times=3)  # the first part: all three tries
    await running.webhook.post(text_event("u1", QUESTION))
    await running.settle()
    assert fake_zalo.sent_texts("u1") == []

    # The resend: the apology and the first part go; the second fails on every try.
    def fail_after_two(message: FakeMessage) -> None:
        if len(fake_zalo.sent_texts("u1")) == 2:
            fake_zalo.fail_next_http(500, MESSAGE_CS_PATH, times=3)

    fake_zalo.on_accept = fail_after_two
    counts = await held_replies(running).resend()
    assert counts.still_held == 1
    assert fake_zalo.sent_texts("u1")[1:] == parts[:1]

    fake_zalo.on_accept = None
    assert (await held_replies(running).resend()).sent == 1
    texts = fake_zalo.sent_texts("u1")
    assert texts[0].startswith(APOLOGY) and texts[1:] == parts
    # Nothing left, nothing sent twice.
    assert (await held_replies(running).resend()).sent == 0
    assert len(fake_zalo.sent_texts("u1")) == 3


async def test_a_refused_part_gives_up_the_rest_of_its_reply(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    parts = expected_parts(running)

    def refuse_next(message: FakeMessage) -> None:
        fake_zalo.queue_error(MESSAGE_CS_PATH, -201)

    fake_zalo.on_accept = refuse_next
    await running.webhook.post(text_event("u1", QUESTION))
    await running.settle()
    assert fake_zalo.sent_texts("u1") == parts[:1]
    [row] = messages_to(running.services.db, "u1")
    assert (row.outcome, row.error_code) == (DeliveryOutcome.failed, -201)
    assert row.id is not None
    assert [p.status for p in parts_of(running.services.db, row.id)] == [
        PartStatus.sent,
        PartStatus.failed,
    ]
    assert (await held_replies(running).resend()).sent == 0  # refused for good: not held


# --- item 2: a sent part whose record cannot be written -----------------------------------------


async def _send_then_refuse_writes(
    running: RunningApp, fake_zalo: FakeZalo
) -> tuple[int, RefusingWrites]:
    """The resident asks; Zalo accepts the first part; then the database refuses every
    write (the part's record, the event's outcome) until the handling has given up."""
    refusing = RefusingWrites(running.services.db)
    refusing.arm_after_accept(fake_zalo)
    await running.webhook.post(text_event("u1", QUESTION))
    await running.settle()
    refusing.armed = False
    fake_zalo.on_accept = None
    assert refusing.refused >= 2
    [event] = list_events(running.services.db)
    assert event.status == EventStatus.processing and event.id is not None  # looks crashed
    assert len(fake_zalo.sent_messages) == 1
    return event.id, refusing


async def test_a_sent_part_whose_record_failed_is_confirmed_by_its_echo_not_resent(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    parts = expected_parts(running)
    event_id, refusing = await _send_then_refuse_writes(running, fake_zalo)
    try:
        await post_echoes(running, list(fake_zalo.sent_messages))  # Zalo's echo arrives

        # Five minutes later the claim is released as a dead process's, and handled again.
        later = datetime.now(UTC) + timedelta(minutes=6)
        assert release_stale_events(running.services.db, now=later) == [event_id]
        running.services.inbox.clock = lambda: later
        await running.services.inbox.handle(event_id)
    finally:
        refusing.close()

    assert fake_zalo.sent_texts("u1") == parts  # the first part was not sent again
    [row] = messages_to(running.services.db, "u1")
    assert row.outcome == DeliveryOutcome.sent
    assert row.zalo_message_ids.split(",") == [m.message_id for m in fake_zalo.sent_messages]
    event = get_event(running.services.db, event_id)
    assert event is not None and event.status == EventStatus.done


async def test_a_failed_record_is_recovered_by_the_held_replies_job_too(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    """Whoever comes first, the released event or the held-replies job: the same parts."""
    parts = expected_parts(running)
    _, refusing = await _send_then_refuse_writes(running, fake_zalo)
    refusing.close()
    await post_echoes(running, list(fake_zalo.sent_messages))
    later = datetime.now(UTC) + timedelta(minutes=6)

    counts = await held_replies(running, clock=lambda: later).resend()

    assert counts.sent == 1
    texts = fake_zalo.sent_texts("u1")
    assert texts == parts  # no apology: the first part had gone out


async def test_without_the_echo_an_unconfirmed_part_is_sent_again(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    """The documented residual risk (as for announcements): at-least-once for a part whose
    send was accepted but neither recorded nor echoed."""
    parts = expected_parts(running)
    event_id, refusing = await _send_then_refuse_writes(running, fake_zalo)
    refusing.close()
    later = datetime.now(UTC) + timedelta(minutes=6)
    release_stale_events(running.services.db, now=later)
    running.services.inbox.clock = lambda: later
    await running.services.inbox.handle(event_id)
    assert Counter(fake_zalo.sent_texts("u1")) == Counter({parts[0]: 2, parts[1]: 1})


async def test_an_answer_lost_in_a_timeout_waits_for_the_echo(
    running: RunningApp, fake_zalo: FakeZalo
) -> None:
    parts = expected_parts(running)
    fake_zalo.accept_then_timeout()  # the first part is accepted, but the answer is lost
    await running.webhook.post(text_event("u1", QUESTION))
    await running.settle()
    assert fake_zalo.sent_texts("u1") == parts[:1]  # not retried blindly
    await post_echoes(running, list(fake_zalo.sent_messages))

    soon = datetime.now(UTC) + timedelta(minutes=1)
    await held_replies(running, clock=lambda: soon).resend()

    assert fake_zalo.sent_texts("u1") == parts


async def test_a_resident_who_cannot_receive_has_the_rest_given_up_not_held(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    db = new_database(tmp_path)
    try:
        async with httpx.AsyncClient() as http:
            outbox = Outbox(db, fake_zalo.client(http))
            now = datetime.now(UTC)
            ids = outbox.record("oa", "u1", [Reply("Một"), Reply("Hai"), Reply("Ba")], now=now)
            fake_zalo.recipient_errors["u1"] = -230

            result = await outbox.deliver(ids, now=now)

        assert result.error is not None and result.error.code == -230
        assert len(fake_zalo.requests_to(MESSAGE_CS_PATH)) == 1  # not asked three times
        statuses = [p.status for i in ids for p in parts_of(db, i)]
        assert statuses == [PartStatus.failed] * 3
        assert count_held(db, None) == 0
    finally:
        db.close()
