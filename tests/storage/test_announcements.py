"""Announcement storage: recipients, atomic claims, stale claims, the report, CSV rows, echoes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from app.outbox.outbox import split_reply
from app.storage import outbox as outbox_store
from app.storage.announcements import (
    AnnouncementDraft,
    announcement_status,
    claim_delivery,
    claim_due_deliveries,
    create_announcement,
    delivery_rows,
    due_delivery_ids,
    finish_delivery,
    release_stale_claims,
)
from app.storage.database import Database
from app.storage.groups import (
    import_memberships,
    members_per_group,
    memberships,
    set_membership,
    tag_syncs_due,
)
from app.storage.tables import DeliveryStatus, OutboundPurpose, PartStatus
from tests.support.announce import OA, Clock, add_residents, new_database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = new_database(tmp_path)
    yield database
    database.close()


def _draft(**fields: object) -> AnnouncementDraft:
    values: dict[str, object] = {"oa_id": OA, "text": "Cắt điện 8h-11h ngày mai."}
    values.update(fields)
    return AnnouncementDraft(**values)  # type: ignore[arg-type]


def test_schema_has_the_announcement_tables(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"group_memberships", "announcements", "announcement_deliveries"} <= tables


def test_recipients_of_groups_and_of_all(db: Database) -> None:
    clock = Clock()
    add_residents(db, {"a": "tdp-1", "b": "tdp-2", "c": "tdp-2"}, last_interaction=clock())
    add_residents(db, {"gone": "tdp-2"}, last_interaction=clock(), following=False)
    set_membership(db, OA, "chat-only", "tdp-3", clock())  # joined by chat, never followed
    set_membership(db, "another-oa", "x", "tdp-2", clock())

    to_two = create_announcement(db, _draft(group_ids=("tdp-2",)), clock())
    assert sorted(d.user_id for d in delivery_rows(db, to_two)) == ["b", "c", "gone"]

    to_all = create_announcement(db, _draft(all_followers=True), clock())
    rows = {d.user_id: d.group_id for d in delivery_rows(db, to_all)}
    # Members are reached even if they do not follow; the unfollowed member stays a member.
    assert rows == {"a": "tdp-1", "b": "tdp-2", "c": "tdp-2", "gone": "tdp-2", "chat-only": "tdp-3"}
    status = announcement_status(db, to_all)
    assert status is not None and status.total == 5 and status.unsettled == 5


def test_a_draft_targets_groups_or_all_never_both() -> None:
    with pytest.raises(ValueError, match="either groups or all"):
        _draft(group_ids=("tdp-1",), all_followers=True)
    with pytest.raises(ValueError, match="either groups or all"):
        _draft()


def test_claim_is_won_once_and_a_lost_claim_cannot_record(db: Database) -> None:
    clock = Clock()
    add_residents(db, {"a": "tdp-1"}, last_interaction=clock())
    ann = create_announcement(db, _draft(group_ids=("tdp-1",)), clock())
    (delivery_id,) = due_delivery_ids(db, clock())

    first = claim_delivery(db, delivery_id, clock(), "token-1")
    assert first is not None and first.attempts == 1
    assert claim_delivery(db, delivery_id, clock(), "token-2") is None

    # The first worker looks dead; its claim goes back to pending and someone else takes it.
    clock.advance(minutes=10)
    assert release_stale_claims(db, clock() - timedelta(minutes=5), clock()) == 1
    second = claim_delivery(db, delivery_id, clock(), "token-3")
    assert second is not None and second.attempts == 2
    assert not finish_delivery(db, first, clock(), DeliveryStatus.sent, message_id="late")
    assert finish_delivery(db, second, clock(), DeliveryStatus.sent, message_id="m-1")
    (row,) = delivery_rows(db, ann)
    assert (row.status, row.zalo_message_id, row.attempts) == (DeliveryStatus.sent, "m-1", 2)


def test_concurrent_claimers_never_share_a_delivery(db: Database) -> None:
    clock = Clock()
    add_residents(db, {f"u{i}": "tdp-1" for i in range(200)}, last_interaction=clock())
    create_announcement(db, _draft(group_ids=("tdp-1",)), clock())
    ids = due_delivery_ids(db, clock(), limit=1000)

    def claimer(index: int) -> list[int]:
        return [
            delivery_id
            for delivery_id in ids
            if claim_delivery(db, delivery_id, clock(), f"w{index}-{delivery_id}") is not None
        ]

    assert sorted(_in_threads(claimer)) == sorted(ids)  # every delivery claimed, none twice


def test_two_claimers_take_disjoint_batches_urgent_first(db: Database) -> None:
    clock = Clock()
    add_residents(db, {f"u{i}": "tdp-1" for i in range(10)}, last_interaction=clock())
    plain = create_announcement(db, _draft(group_ids=("tdp-1",)), clock())
    urgent = create_announcement(db, _draft(group_ids=("tdp-1",), urgent=True), clock())

    first = claim_due_deliveries(db, clock(), "w1", limit=6)
    second = claim_due_deliveries(db, clock(), "w2", limit=6)
    assert [w.announcement_id for w in first] == [urgent] * 6
    assert [w.announcement_id for w in second] == [urgent] * 4 + [plain] * 2
    assert {w.delivery_id for w in first}.isdisjoint(w.delivery_id for w in second)
    assert {w.claim_token for w in first} == {"w1"} and {w.attempts for w in first} == {1}
    # Quiet hours: only urgent ones, and none of those is left.
    assert claim_due_deliveries(db, clock(), "w3", limit=6, urgent_only=True) == []
    rest = claim_due_deliveries(db, clock(), "w3", limit=100)
    assert len(rest) == 8 and {w.announcement_id for w in rest} == {plain}
    assert claim_due_deliveries(db, clock(), "w4", limit=100) == []
    counts = announcement_status(db, plain)
    assert counts is not None and counts.count(DeliveryStatus.sending) == 10


def test_concurrent_batch_claimers_never_share_a_delivery(db: Database) -> None:
    clock = Clock()
    add_residents(db, {f"u{i}": "tdp-1" for i in range(300)}, last_interaction=clock())
    create_announcement(db, _draft(group_ids=("tdp-1",)), clock())
    ids = due_delivery_ids(db, clock(), limit=1000)

    def claimer(index: int) -> list[int]:
        won: list[int] = []
        while batch := claim_due_deliveries(db, clock(), f"w{index}", limit=7):
            won.extend(work.delivery_id for work in batch)
        return won

    assert sorted(_in_threads(claimer)) == sorted(ids)  # every delivery claimed, none twice


def _in_threads(claimer: Callable[[int], list[int]], workers: int = 4) -> list[int]:
    """Run `claimer(i)` for each of `workers` threads at once; every id any of them won."""
    won: list[list[int]] = [[] for _ in range(workers)]

    def run(index: int) -> None:
        won[index] = claimer(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [i for per_worker in won for i in per_worker]


def test_an_expired_batch_claim_is_claimed_again_and_the_old_one_cannot_record(
    db: Database,
) -> None:
    clock = Clock()
    add_residents(db, {"a": "tdp-1", "b": "tdp-1"}, last_interaction=clock())
    ann = create_announcement(db, _draft(group_ids=("tdp-1",)), clock())
    dead = claim_due_deliveries(db, clock(), "dead", limit=10)
    assert len(dead) == 2
    clock.advance(minutes=4)  # inside the lease: still the dead worker's
    assert release_stale_claims(db, clock() - timedelta(minutes=5), clock()) == 0
    assert claim_due_deliveries(db, clock(), "alive", limit=10) == []

    clock.advance(minutes=2)  # the lease expired: due again, never lost
    assert release_stale_claims(db, clock() - timedelta(minutes=5), clock()) == 2
    again = claim_due_deliveries(db, clock(), "alive", limit=10)
    assert sorted(w.delivery_id for w in again) == sorted(w.delivery_id for w in dead)
    assert {w.attempts for w in again} == {2}
    assert not finish_delivery(db, dead[0], clock(), DeliveryStatus.sent, message_id="late")
    for work in again:
        assert finish_delivery(db, work, clock(), DeliveryStatus.sent, message_id="m")
    assert {(r.status, r.zalo_message_id) for r in delivery_rows(db, ann)} == {
        (DeliveryStatus.sent, "m")
    }


def test_schedule_and_backoff_decide_what_is_due(db: Database) -> None:
    clock = Clock()
    add_residents(db, {"a": "tdp-1"}, last_interaction=clock())
    later = create_announcement(
        db, _draft(group_ids=("tdp-1",), scheduled_at=clock() + timedelta(hours=1)), clock()
    )
    assert due_delivery_ids(db, clock()) == []
    clock.advance(hours=1)
    (delivery_id,) = due_delivery_ids(db, clock())
    work = claim_delivery(db, delivery_id, clock(), "t")
    assert work is not None and work.announcement_id == later
    finish_delivery(
        db,
        work,
        clock(),
        DeliveryStatus.pending,
        reason="zalo:-32",
        next_attempt_at=clock() + timedelta(seconds=30),
    )
    assert due_delivery_ids(db, clock()) == []
    clock.advance(seconds=30)
    assert due_delivery_ids(db, clock()) == [delivery_id]


def test_status_counts_by_status_and_reason(db: Database) -> None:
    clock = Clock()
    add_residents(db, {u: "tdp-1" for u in "abcde"}, last_interaction=clock())
    ann = create_announcement(db, _draft(group_ids=("tdp-1",), urgent=True), clock())
    outcomes = [
        (DeliveryStatus.sent, None),
        (DeliveryStatus.sent, None),
        (DeliveryStatus.deferred, "outside_window"),
        (DeliveryStatus.failed, "zalo:-213"),
    ]
    for delivery_id, (status, reason) in zip(due_delivery_ids(db, clock()), outcomes, strict=False):
        work = claim_delivery(db, delivery_id, clock(), f"t{delivery_id}")
        assert work is not None
        finish_delivery(db, work, clock(), status, reason=reason)
    report = announcement_status(db, ann)
    assert report is not None
    data = report.as_json()
    assert {k: data[k] for k in ("total", "pending", "sent", "deferred", "failed")} == {
        "total": 5,
        "pending": 1,
        "sent": 2,
        "deferred": 1,
        "failed": 1,
    }
    assert data["reasons"] == {"deferred": {"outside_window": 1}, "failed": {"zalo:-213": 1}}
    assert data["target"] == {"all": False, "groups": ["tdp-1"]} and data["urgent"] is True
    assert data["done"] is False
    assert announcement_status(db, ann + 1) is None


def test_membership_changes_queue_a_tag_sync(db: Database) -> None:
    clock = Clock()
    assert set_membership(db, OA, "a", "tdp-1", clock())
    assert not set_membership(db, OA, "a", "tdp-1", clock())
    assert [s.user_id for s in tag_syncs_due(db, clock())] == ["a"]
    assert set_membership(db, OA, "a", None, clock())
    assert members_per_group(db, OA) == {}
    assert not set_membership(db, OA, "never-member", None, clock())


def test_import_adds_moves_and_keeps(db: Database) -> None:
    clock = Clock()
    set_membership(db, OA, "a", "tdp-1", clock())
    set_membership(db, OA, "z", "tdp-9", clock())
    counts = import_memberships(db, OA, [("a", "tdp-2"), ("b", "tdp-2"), ("z", "tdp-9")], clock())
    assert (counts.added, counts.changed, counts.unchanged) == (1, 1, 1)
    assert memberships(db, OA) == [("a", "tdp-2"), ("b", "tdp-2"), ("z", "tdp-9")]


def test_open_messages_of_a_batch_in_one_look_up(db: Database) -> None:
    clock = Clock()
    add_residents(db, {"a": "tdp-1", "b": "tdp-1", "c": "tdp-1"}, last_interaction=clock())
    create_announcement(db, _draft(group_ids=("tdp-1",)), clock())
    first, second, third = (w.delivery_id for w in claim_due_deliveries(db, clock(), "w", limit=3))

    def record(delivery_id: int) -> int:
        return outbox_store.record_message(
            db,
            oa_id=OA,
            user_id="a",
            purpose=OutboundPurpose.announcement,
            text="Cắt điện",
            buttons="[]",
            parts=split_reply("Cắt điện", "[]"),
            now=clock(),
            delivery_id=delivery_id,
        )

    record(first)
    newest = record(first)
    given_up = record(second)
    outbox_store.move_unsent(db, [given_up], clock(), PartStatus.failed, reason="x")
    found = outbox_store.open_messages_for_deliveries(db, [first, second, third])
    assert found == {first: newest}  # the newest open one; none for the other two
    for delivery_id in (first, second, third):
        assert outbox_store.open_message_for_delivery(db, delivery_id) == found.get(delivery_id)
    assert outbox_store.open_messages_for_deliveries(db, []) == {}
