"""Announcements and their per-recipient deliveries: queries (memberships: app.storage.groups).

A delivery moves pending -> sending -> sent | deferred | failed (deferred -> sending -> sent
when the resident writes again). Every move out of `pending`/`deferred` is a guarded UPDATE
(`WHERE id = :id AND status = :expected`) whose row count says who won, so two workers never
own the same delivery; every move out of `sending` also names the claim token, so a worker
whose claim was taken away (it looked dead) cannot overwrite the new owner's outcome.
The worker claims due deliveries in batches (`claim_due_deliveries`: one guarded UPDATE of
up to n rows), so two workers take disjoint batches. Correctness does not depend on row
locks: on PostgreSQL the candidate SELECT adds `FOR UPDATE SKIP LOCKED` to cut contention.

Every datetime is UTC; SQLite hands them back naive, so reads go through `as_utc`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    Update,
    and_,
    bindparam,
    func,
    insert,
    or_,
    update,
)
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from app.storage.database import Database, as_utc, rowcount
from app.storage.tables import (
    Announcement,
    Delivery,
    DeliveryStatus,
    Follower,
    GroupMembership,
)

PERSONAL: Final = "[]"
"""`Announcement.target_groups` of a notice to one resident (`create_personal_notice`)."""

# --- announcements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnouncementDraft:
    oa_id: str
    text: str
    group_ids: tuple[str, ...] = ()
    all_followers: bool = False
    image_url: str | None = None
    link_url: str | None = None
    link_title: str | None = None
    scheduled_at: datetime | None = None
    urgent: bool = False
    created_by: str = ""

    def __post_init__(self) -> None:
        if self.all_followers == bool(self.group_ids):
            raise ValueError("an announcement targets either groups or all followers")
        if self.scheduled_at is not None and self.scheduled_at.utcoffset() is None:
            raise ValueError("scheduled_at must be timezone-aware")


def create_announcement(db: Database, draft: AnnouncementDraft, now: datetime) -> int:
    """Store the announcement and one pending delivery per recipient, in one transaction.

    Recipients are fixed now: the members of the target groups, or for "all" every follower
    and every member (residents who joined a group by chat need not follow the OA).
    """
    due = draft.scheduled_at or now
    with db.session() as session:
        recipients = _recipients(session, draft)
        row = Announcement(
            oa_id=draft.oa_id,
            text=draft.text,
            image_url=draft.image_url,
            link_url=draft.link_url,
            link_title=draft.link_title,
            target_all=draft.all_followers,
            target_groups=json.dumps(list(draft.group_ids)),
            scheduled_at=draft.scheduled_at,
            urgent=draft.urgent,
            created_by=draft.created_by,
            created_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        if recipients:
            session.execute(
                insert(Delivery),
                [
                    {
                        "announcement_id": row.id,
                        "oa_id": draft.oa_id,
                        "user_id": user_id,
                        "group_id": group_id,
                        "status": DeliveryStatus.pending,
                        "attempts": 0,
                        "next_attempt_at": due,
                        "updated_at": now,
                    }
                    for user_id, group_id in sorted(recipients.items())
                ],
            )
        session.commit()
        return row.id


def create_personal_notice(
    db: Database,
    oa_id: str,
    user_id: str,
    text: str,
    now: datetime,
    *,
    link_url: str | None = None,
    link_title: str | None = None,
    created_by: str = "",
) -> int:
    """A notice for one resident (e.g. their dossier's status changed), delivered like an
    announcement: paced, retried, and deferred to their next message outside Zalo's window.
    Addressed to neither groups nor all followers; returns the delivery's id."""
    with db.session() as session:
        row = Announcement(
            oa_id=oa_id,
            text=text,
            link_url=link_url,
            link_title=link_title,
            target_all=False,
            target_groups=PERSONAL,
            created_by=created_by,
            created_at=now,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        delivery = Delivery(
            announcement_id=row.id,
            oa_id=oa_id,  # the resident's OA: their next message there brings it if deferred
            user_id=user_id,
            status=DeliveryStatus.pending,
            next_attempt_at=now,
            updated_at=now,
        )
        session.add(delivery)
        session.commit()
        assert delivery.id is not None
        return delivery.id


def _recipients(session: Session, draft: AnnouncementDraft) -> dict[str, str | None]:
    members = select(GroupMembership.user_id, GroupMembership.group_id).where(
        GroupMembership.oa_id == draft.oa_id
    )
    if draft.all_followers:
        members = members.where(col(GroupMembership.group_id).is_not(None))
    else:
        members = members.where(col(GroupMembership.group_id).in_(draft.group_ids))
    recipients: dict[str, str | None] = dict(session.exec(members).all())
    if draft.all_followers:
        followers = session.exec(
            select(Follower.user_id)
            .where(Follower.oa_id == draft.oa_id)
            .where(col(Follower.following).is_(True))
        ).all()
        for user_id in followers:
            recipients.setdefault(user_id, None)
    return recipients


def get_announcement(db: Database, announcement_id: int) -> Announcement | None:
    with db.session() as session:
        return session.get(Announcement, announcement_id)


@dataclass(frozen=True)
class AnnouncementStatus:
    """Where every delivery of one announcement stands, with the reasons."""

    announcement: Announcement
    counts: dict[DeliveryStatus, int]
    reasons: dict[DeliveryStatus, dict[str, int]] = field(default_factory=dict)

    def count(self, status: DeliveryStatus) -> int:
        return self.counts.get(status, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def unsettled(self) -> int:
        """Pending or being sent right now."""
        return self.count(DeliveryStatus.pending) + self.count(DeliveryStatus.sending)

    @property
    def done(self) -> bool:
        return self.unsettled == 0

    def as_json(self) -> dict[str, Any]:
        """`pending` counts every delivery not settled yet; `sending` is the part in flight."""
        ann = self.announcement
        scheduled = as_utc(ann.scheduled_at)
        created = as_utc(ann.created_at)
        return {
            "id": ann.id,
            "total": self.total,
            "pending": self.unsettled,
            "sending": self.count(DeliveryStatus.sending),
            "sent": self.count(DeliveryStatus.sent),
            "deferred": self.count(DeliveryStatus.deferred),
            "failed": self.count(DeliveryStatus.failed),
            "done": self.done,
            "reasons": {status.value: dict(r) for status, r in self.reasons.items() if r},
            "target": {"all": ann.target_all, "groups": json.loads(ann.target_groups)},
            "urgent": ann.urgent,
            "scheduled_at": scheduled.isoformat() if scheduled else None,
            "created_at": created.isoformat() if created else None,
            "created_by": ann.created_by,
        }


def announcement_status(db: Database, announcement_id: int) -> AnnouncementStatus | None:
    with db.session() as session:
        ann = session.get(Announcement, announcement_id)
        if ann is None:
            return None
        rows = session.exec(
            select(Delivery.status, Delivery.reason, func.count())
            .where(Delivery.announcement_id == announcement_id)
            .group_by(col(Delivery.status), col(Delivery.reason))
        ).all()
    counts: Counter[DeliveryStatus] = Counter()
    reasons: dict[DeliveryStatus, dict[str, int]] = {}
    for status, reason, count in rows:
        status = DeliveryStatus(status)
        counts[status] += count
        if reason:
            reasons.setdefault(status, {})[reason] = count
    return AnnouncementStatus(ann, dict(counts), reasons)


# --- deliveries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryWork:
    """A claimed delivery with everything needed to decide and send it."""

    delivery_id: int
    claim_token: str
    claimed_at: datetime
    attempts: int
    """Including this one."""
    user_id: str
    group_id: str | None
    announcement_id: int
    oa_id: str
    text: str
    image_url: str | None
    link_url: str | None
    link_title: str | None
    target_all: bool
    urgent: bool
    following: bool | None
    """None: the resident never followed nor wrote (e.g. imported from a CSV)."""
    unfollowed_at: datetime | None
    last_interaction_at: datetime | None
    last_reason: str | None


def due_delivery_ids(
    db: Database, now: datetime, *, urgent_only: bool = False, limit: int = 500
) -> list[int]:
    """Pending deliveries whose time has come, urgent announcements first."""
    query = (
        select(Delivery.id)
        .join(Announcement, col(Announcement.id) == col(Delivery.announcement_id))
        .where(Delivery.status == DeliveryStatus.pending)
        .where(col(Delivery.next_attempt_at) <= now)
        .where(or_(col(Announcement.scheduled_at).is_(None), col(Announcement.scheduled_at) <= now))
        .order_by(col(Announcement.urgent).desc(), col(Delivery.id))
        .limit(limit)
    )
    if urgent_only:
        query = query.where(col(Announcement.urgent).is_(True))
    with db.session() as session:
        return [i for i in session.exec(query).all() if i is not None]


_CLAIM = (
    update(Delivery)
    .where(col(Delivery.id) == bindparam("b_id"))
    .where(col(Delivery.status) == bindparam("b_expected"))
    .values(
        status=DeliveryStatus.sending,
        claimed_at=bindparam("b_now"),
        claim_token=bindparam("b_token"),
        attempts=Delivery.attempts + 1,
        updated_at=bindparam("b_now"),
    )
)
_CLAIM_PENDING = _CLAIM.where(col(Delivery.next_attempt_at) <= bindparam("b_now"))
# PostgreSQL: a row another worker is claiming right now is skipped at once instead of
# waited for (its UPDATE would then match nothing anyway); the guard above stays the rule.
_UNLOCKED_ROW = (
    core_select(col(Delivery.id))
    .where(col(Delivery.id) == bindparam("b_id"))
    .with_for_update(skip_locked=True)
    .scalar_subquery()
)
_CLAIM_SKIP_LOCKED = _CLAIM.where(col(Delivery.id) == _UNLOCKED_ROW)
_CLAIM_PENDING_SKIP_LOCKED = _CLAIM_PENDING.where(col(Delivery.id) == _UNLOCKED_ROW)


def claim_due_deliveries(
    db: Database, now: datetime, token: str, *, limit: int, urgent_only: bool = False
) -> list[DeliveryWork]:
    """Claim up to `limit` due deliveries at once (pending -> sending, all under `token`),
    urgent announcements first; returns them in that order.

    One UPDATE of a batch: two workers take disjoint batches instead of racing for the same
    ids. On PostgreSQL the candidates are picked `FOR UPDATE OF … SKIP LOCKED`, so a worker
    skips the rows another one is claiming instead of waiting for them; on SQLite the single
    writer makes the UPDATE atomic. The outer status guard stays the rule either way. A
    claim the worker never gets to (it stopped or died) is released by it or by the lease.
    """
    due = (
        core_select(col(Delivery.id))
        .join(Announcement, col(Announcement.id) == col(Delivery.announcement_id))
        .where(col(Delivery.status) == DeliveryStatus.pending)
        .where(col(Delivery.next_attempt_at) <= now)
        .where(or_(col(Announcement.scheduled_at).is_(None), col(Announcement.scheduled_at) <= now))
        .order_by(col(Announcement.urgent).desc(), col(Delivery.id))
        .limit(limit)
    )
    if urgent_only:
        due = due.where(col(Announcement.urgent).is_(True))
    if db.engine.dialect.name == "postgresql":
        # OF the deliveries only: the announcement row is shared by every claimer.
        due = due.with_for_update(skip_locked=True, of=Delivery)
    claim = (
        update(Delivery)
        .where(col(Delivery.id).in_(due))
        .where(col(Delivery.status) == DeliveryStatus.pending)
        .values(
            status=DeliveryStatus.sending,
            claimed_at=now,
            claim_token=token,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .returning(col(Delivery.id))
    )
    with db.engine.begin() as connection:
        ids = [row[0] for row in connection.execute(claim)]
        if not ids:
            return []
        rows = connection.execute(
            _WORK_COLUMNS.add_columns(col(Delivery.id)).where(col(Delivery.id).in_(ids))
        ).all()
    works = {row.id: _work(row.id, row) for row in rows}
    return [works[i] for i in sorted(works, key=lambda i: (not works[i].urgent, i))]


def claim_delivery(
    db: Database,
    delivery_id: int,
    now: datetime,
    token: str,
    *,
    expected: DeliveryStatus = DeliveryStatus.pending,
) -> DeliveryWork | None:
    """Atomically move a delivery from `expected` to sending; None if someone else has it."""
    if db.engine.dialect.name == "postgresql":
        pending, other = _CLAIM_PENDING_SKIP_LOCKED, _CLAIM_SKIP_LOCKED
    else:
        pending, other = _CLAIM_PENDING, _CLAIM
    statement = pending if expected is DeliveryStatus.pending else other
    parameters = {"b_id": delivery_id, "b_expected": expected, "b_now": now, "b_token": token}
    # Core on one connection with statements built once: this runs for every delivery.
    with db.engine.begin() as connection:
        if rowcount(connection.execute(statement, parameters)) != 1:
            return None
        row = connection.execute(_WORK, {"b_id": delivery_id}).one()
    return _work(delivery_id, row)


def _work(delivery_id: int, row: Any) -> DeliveryWork:
    claimed_at = as_utc(row.claimed_at)
    assert claimed_at is not None and row.claim_token is not None
    return DeliveryWork(
        delivery_id=delivery_id,
        claim_token=row.claim_token,
        claimed_at=claimed_at,
        attempts=row.attempts,
        user_id=row.user_id,
        group_id=row.group_id,
        announcement_id=row.announcement_id,
        oa_id=row.oa_id,
        text=row.text,
        image_url=row.image_url,
        link_url=row.link_url,
        link_title=row.link_title,
        target_all=row.target_all,
        urgent=row.urgent,
        following=row.following,
        unfollowed_at=as_utc(row.unfollowed_at),
        last_interaction_at=as_utc(row.last_interaction_at),
        last_reason=row.reason,
    )


_WORK_COLUMNS = (
    core_select(
        col(Delivery.claim_token),
        col(Delivery.claimed_at),
        col(Delivery.attempts),
        col(Delivery.user_id),
        col(Delivery.group_id),
        col(Delivery.announcement_id),
        col(Delivery.reason),
        col(Announcement.oa_id),
        col(Announcement.text),
        col(Announcement.image_url),
        col(Announcement.link_url),
        col(Announcement.link_title),
        col(Announcement.target_all),
        col(Announcement.urgent),
        col(Follower.following),
        col(Follower.unfollowed_at),
        col(Follower.last_interaction_at),
    )
    .join(Announcement, col(Announcement.id) == col(Delivery.announcement_id))
    .outerjoin(
        Follower,
        and_(
            col(Follower.oa_id) == col(Announcement.oa_id),
            col(Follower.user_id) == col(Delivery.user_id),
        ),
    )
)
_WORK = _WORK_COLUMNS.where(col(Delivery.id) == bindparam("b_id"))


def finish_delivery(
    db: Database,
    work: DeliveryWork,
    now: datetime,
    status: DeliveryStatus,
    *,
    reason: str | None = None,
    message_id: str | None = None,
    next_attempt_at: datetime | None = None,
    refund_attempt: bool = False,
) -> bool:
    """Record the outcome of a claimed delivery; False if the claim was lost meanwhile."""
    values: dict[str, Any] = {"status": status, "reason": reason, "updated_at": now}
    if message_id is not None:
        values["zalo_message_id"] = message_id
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    statement = _finish_statement(tuple(sorted(values)), refund_attempt)
    parameters = {"b_id": work.delivery_id, "b_token": work.claim_token, **values}
    with db.engine.begin() as connection:
        return rowcount(connection.execute(statement, parameters)) == 1


@lru_cache(maxsize=64)
def _finish_statement(columns: tuple[str, ...], refund_attempt: bool) -> Update:
    """The settling UPDATE for one combination of columns, built once."""
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    values["claim_token"] = None
    if refund_attempt:
        values["attempts"] = Delivery.attempts - 1
    return (
        update(Delivery)
        .where(col(Delivery.id) == bindparam("b_id"))
        .where(col(Delivery.status) == DeliveryStatus.sending)
        .where(col(Delivery.claim_token) == bindparam("b_token"))
        .values(values)
    )


def release_stale_claims(db: Database, claimed_before: datetime, now: datetime) -> int:
    """Claims older than the lease belong to a dead worker: back to pending.

    The dead worker may have sent the message without recording it: the outbox finds its
    part claimed by a dead process and looks for Zalo's echo before sending it again.
    """
    with db.session() as session:
        result = session.execute(
            update(Delivery)
            .where(col(Delivery.status) == DeliveryStatus.sending)
            .where(col(Delivery.claimed_at) < claimed_before)
            .values(
                status=DeliveryStatus.pending,
                claim_token=None,
                next_attempt_at=now,
                updated_at=now,
            )
        )
        session.commit()
        return rowcount(result)


def requeue_if_resident_wrote(db: Database, work: DeliveryWork, now: datetime) -> bool:
    """A delivery just deferred goes back to pending if the resident wrote since its claim.

    Their message may have been handled while we held the claim, in which case the inbox
    found nothing deferred to hand over; without this the announcement would wait for the
    message after that.
    """
    with db.session() as session:
        follower = session.get(Follower, (work.oa_id, work.user_id))
        last = as_utc(follower.last_interaction_at) if follower else None
        if last is None or last <= work.claimed_at:
            return False
        result = session.execute(
            update(Delivery)
            .where(col(Delivery.id) == work.delivery_id)
            .where(col(Delivery.status) == DeliveryStatus.deferred)
            .values(status=DeliveryStatus.pending, next_attempt_at=now, updated_at=now)
        )
        session.commit()
        return rowcount(result) == 1


def deferred_delivery_ids(db: Database, oa_id: str, user_id: str) -> list[int]:
    with db.session() as session:
        ids = session.exec(
            select(Delivery.id)
            .where(Delivery.oa_id == oa_id)
            .where(Delivery.user_id == user_id)
            .where(Delivery.status == DeliveryStatus.deferred)
            .order_by(col(Delivery.id))
        ).all()
        return [i for i in ids if i is not None]


def delivery_rows(db: Database, announcement_id: int) -> Sequence[Delivery]:
    with db.session() as session:
        return session.exec(
            select(Delivery)
            .where(Delivery.announcement_id == announcement_id)
            .order_by(col(Delivery.id))
        ).all()


def recent_announcement_ids(
    db: Database, limit: int = 50, oa_ids: Collection[str] | None = None
) -> list[int]:
    """The newest announcements first, of the given OAs (None: every OA): the console's
    history."""
    with db.session() as session:
        query = (
            select(Announcement.id)
            # Notices to one resident (a dossier's status) are not the ward's announcements.
            .where(col(Announcement.target_all) | (col(Announcement.target_groups) != PERSONAL))
            .order_by(col(Announcement.id).desc())
            .limit(limit)
        )
        if oa_ids is not None:
            query = query.where(col(Announcement.oa_id).in_(oa_ids))
        ids = session.exec(query).all()
        return [i for i in ids if i is not None]
