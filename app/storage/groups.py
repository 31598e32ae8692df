"""Residents' groups (tổ dân phố): who belongs to which, imported memberships, and the Zalo
tag that mirrors each membership (retried until it matches; the local row is the truth).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    func,
    or_,
    update,
)
from sqlmodel import Session, col, select

from app.storage.database import Database, rowcount
from app.storage.tables import (
    GroupMembership,
)


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
        return rowcount(result) == 1
