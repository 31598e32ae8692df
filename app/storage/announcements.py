"""Group membership, announcements and their per-recipient deliveries: tables and queries.

A delivery moves pending -> sending -> sent | deferred | failed (deferred -> sending -> sent
when the resident writes again). Every move out of `pending`/`deferred` is a guarded UPDATE
(`WHERE id = :id AND status = :expected`) whose row count says who won, so two workers never
own the same delivery; every move out of `sending` also names the claim token, so a worker
whose claim was taken away (it looked dead) cannot overwrite the new owner's outcome.
Correctness does not depend on row locks: on PostgreSQL the candidate SELECT may add
`FOR UPDATE SKIP LOCKED` to cut contention between workers.

Every datetime is UTC; SQLite hands them back naive, so reads go through `as_utc`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    Column,
    Index,
    Text,
    UniqueConstraint,
    Update,
    and_,
    bindparam,
    func,
    insert,
    or_,
    update,
)
from sqlalchemy import select as core_select
from sqlmodel import Field, Session, SQLModel, col, select

from app.storage.database import Database, as_utc
from app.storage.tables import Follower


class DeliveryStatus(StrEnum):
    pending = "pending"
    """Waiting for its time (schedule, quiet hours, backoff) and a worker."""
    sending = "sending"
    """Claimed by a worker (or the inbox) that is sending it now."""
    sent = "sent"
    deferred = "deferred"
    """Outside Zalo's 7-day window: sent when the resident next writes to the OA."""
    failed = "failed"


PERSONAL: Final = "[]"
"""`Announcement.target_groups` of a notice to one resident (`create_personal_notice`)."""


class GroupMembership(SQLModel, table=True):
    """The resident's tổ dân phố; the local truth that the Zalo tag mirrors."""

    __tablename__ = "group_memberships"

    oa_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    group_id: str | None = Field(default=None, index=True)
    """None once the resident left; the row stays until the Zalo tag is removed."""
    joined_at: datetime | None = None
    updated_at: datetime
    zalo_tag: str | None = None
    """The tag Zalo has for this resident, as far as we know."""
    zalo_tag_synced: bool = Field(default=True, index=True)
    tag_attempts: int = 0
    tag_next_attempt_at: datetime | None = None
    tag_error: str | None = None
    """Why Zalo refused the tag for good (e.g. zalo:-213); no more retries until it changes."""


class Announcement(SQLModel, table=True):
    __tablename__ = "announcements"

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    image_url: str | None = None
    link_url: str | None = None
    link_title: str | None = None
    target_all: bool = False
    target_groups: str = "[]"
    """JSON list of group ids (empty when `target_all`)."""
    scheduled_at: datetime | None = None
    urgent: bool = False
    created_by: str = ""
    created_at: datetime


class Delivery(SQLModel, table=True):
    """One announcement to one resident."""

    __tablename__ = "announcement_deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "user_id", name="uq_delivery_recipient"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_resident", "user_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcements.id", index=True)
    user_id: str
    group_id: str | None = None
    """The resident's group when the announcement was created (None: a follower of "all")."""
    status: DeliveryStatus = DeliveryStatus.pending
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: datetime
    zalo_message_id: str | None = None
    claimed_at: datetime | None = None
    claim_token: str | None = None
    updated_at: datetime


# --- membership -------------------------------------------------------------------------------


def membership_group(db: Database, oa_id: str, user_id: str) -> str | None:
    with db.session() as session:
        row = session.get(GroupMembership, (oa_id, user_id))
        return row.group_id if row else None


def set_membership(
    db: Database, oa_id: str, user_id: str, group_id: str | None, now: datetime
) -> bool:
    """Store the resident's group (None: left). True when it changed; the tag then needs a sync."""
    with db.session() as session:
        changed = _set_membership(session, oa_id, user_id, group_id, now)
        session.commit()
        return changed


def _set_membership(
    session: Session,
    oa_id: str,
    user_id: str,
    group_id: str | None,
    now: datetime,
    row: GroupMembership | object | None = None,
) -> bool:
    if row is None:
        row = session.get(GroupMembership, (oa_id, user_id))
    if not isinstance(row, GroupMembership):
        if group_id is None:
            return False
        row = GroupMembership(oa_id=oa_id, user_id=user_id, updated_at=now)
        session.add(row)
    elif row.group_id == group_id:
        return False
    row.group_id = group_id
    row.joined_at = now if group_id else None
    row.updated_at = now
    row.zalo_tag_synced = False
    row.tag_attempts, row.tag_next_attempt_at, row.tag_error = 0, now, None
    return True


def members_per_group(db: Database, oa_id: str) -> dict[str, int]:
    with db.session() as session:
        rows = session.exec(
            select(GroupMembership.group_id, func.count())
            .where(GroupMembership.oa_id == oa_id)
            .where(col(GroupMembership.group_id).is_not(None))
            .group_by(col(GroupMembership.group_id))
        ).all()
        return {group_id: count for group_id, count in rows if group_id is not None}


def memberships(db: Database, oa_id: str) -> list[tuple[str, str]]:
    """(user_id, group_id) of every current member, ordered by group then user."""
    with db.session() as session:
        rows = session.exec(
            select(GroupMembership.user_id, GroupMembership.group_id)
            .where(GroupMembership.oa_id == oa_id)
            .where(col(GroupMembership.group_id).is_not(None))
            .order_by(col(GroupMembership.group_id), col(GroupMembership.user_id))
        ).all()
        return [(user_id, group_id) for user_id, group_id in rows if group_id is not None]


_ABSENT: Final = object()
"""`_set_membership` need not look the row up: the caller knows there is none."""


@dataclass(frozen=True)
class ImportCounts:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def import_memberships(
    db: Database, oa_id: str, rows: Iterable[tuple[str, str]], now: datetime
) -> ImportCounts:
    """Upsert (user_id, group_id) pairs in one transaction; members not listed are kept."""
    added = changed = unchanged = 0
    with db.session() as session:
        existing = {
            row.user_id: row
            for row in session.exec(select(GroupMembership).where(GroupMembership.oa_id == oa_id))
        }
        for user_id, group_id in rows:
            before = existing.get(user_id)
            had_group = before is not None and before.group_id is not None
            if not _set_membership(session, oa_id, user_id, group_id, now, before or _ABSENT):
                unchanged += 1
            elif had_group:
                changed += 1
            else:
                added += 1
        session.commit()
    return ImportCounts(added, changed, unchanged)


@dataclass(frozen=True)
class TagSync:
    """A membership whose Zalo tag must change from `applied_tag` to the group's tag."""

    oa_id: str
    user_id: str
    group_id: str | None
    applied_tag: str | None
    attempts: int


def tag_syncs_due(db: Database, now: datetime, limit: int = 100) -> list[TagSync]:
    with db.session() as session:
        rows = session.exec(
            select(GroupMembership)
            .where(col(GroupMembership.zalo_tag_synced).is_(False))
            .where(col(GroupMembership.tag_error).is_(None))
            .where(
                or_(
                    col(GroupMembership.tag_next_attempt_at).is_(None),
                    col(GroupMembership.tag_next_attempt_at) <= now,
                )
            )
            .order_by(col(GroupMembership.updated_at))
            .limit(limit)
        ).all()
        return [_tag_sync(row) for row in rows]


def tag_sync_for(db: Database, oa_id: str, user_id: str) -> TagSync | None:
    with db.session() as session:
        row = session.get(GroupMembership, (oa_id, user_id))
        if row is None or row.zalo_tag_synced or row.tag_error is not None:
            return None
        return _tag_sync(row)


def _tag_sync(row: GroupMembership) -> TagSync:
    return TagSync(row.oa_id, row.user_id, row.group_id, row.zalo_tag, row.tag_attempts)


def record_tag_outcome(
    db: Database,
    sync: TagSync,
    now: datetime,
    *,
    applied_tag: str | None,
    synced: bool,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> bool:
    """Store what Zalo now has; ignored (False) if the membership changed meanwhile."""
    values: dict[str, Any] = {"zalo_tag": applied_tag, "zalo_tag_synced": synced}
    if not synced:
        values |= {
            "tag_attempts": GroupMembership.tag_attempts + 1,
            "tag_next_attempt_at": retry_at,
            "tag_error": error if retry_at is None else None,
        }
    group = col(GroupMembership.group_id)
    with db.session() as session:
        result = session.execute(
            update(GroupMembership)
            .where(col(GroupMembership.oa_id) == sync.oa_id)
            .where(col(GroupMembership.user_id) == sync.user_id)
            .where(group.is_(None) if sync.group_id is None else group == sync.group_id)
            .values(**values)
        )
        session.commit()
        return _rowcount(result) == 1


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
        if _rowcount(connection.execute(statement, parameters)) != 1:
            return None
        row = connection.execute(_WORK, {"b_id": delivery_id}).one()
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


_WORK = (
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
    .where(col(Delivery.id) == bindparam("b_id"))
)


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
        return _rowcount(connection.execute(statement, parameters)) == 1


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
        return _rowcount(result)


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
        return _rowcount(result) == 1


def deferred_delivery_ids(db: Database, oa_id: str, user_id: str) -> list[int]:
    with db.session() as session:
        ids = session.exec(
            select(Delivery.id)
            .join(Announcement, col(Announcement.id) == col(Delivery.announcement_id))
            .where(Announcement.oa_id == oa_id)
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


def _rowcount(result: object) -> int:
    count = getattr(result, "rowcount", 0)
    return count if isinstance(count, int) else 0
