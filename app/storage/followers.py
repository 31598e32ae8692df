"""Followers: who follows the OA, and when each resident last wrote (Zalo's 7-day window)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.storage.database import Database
from app.storage.tables import Follower


def _follower(session: Session, oa_id: str, user_id: str) -> Follower:
    row = session.get(Follower, (oa_id, user_id))
    if row is None:
        # Non-followers may message an OA too; they are residents we can answer.
        row = Follower(oa_id=oa_id, user_id=user_id, following=False)
        session.add(row)
    return row


def mark_followed(db: Database, oa_id: str, user_id: str, at: datetime) -> None:
    with db.session() as session:
        row = _follower(session, oa_id, user_id)
        row.following, row.followed_at, row.last_interaction_at = True, at, at
        session.commit()


def mark_unfollowed(db: Database, oa_id: str, user_id: str, at: datetime) -> None:
    with db.session() as session:
        row = _follower(session, oa_id, user_id)
        row.following, row.unfollowed_at = False, at
        session.commit()


def touch_interaction(db: Database, oa_id: str, user_id: str, at: datetime) -> None:
    """Record that the resident wrote: it opens Zalo's 7-day consultation window."""
    with db.session() as session:
        _follower(session, oa_id, user_id).last_interaction_at = at
        session.commit()


def get_follower(db: Database, oa_id: str, user_id: str) -> Follower | None:
    with db.session() as session:
        return session.get(Follower, (oa_id, user_id))
