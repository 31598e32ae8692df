"""Counts for the staff console's dashboard."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, func, select

from app.storage.database import Database
from app.storage.tables import InboundEvent, UnansweredQuestion

RESIDENT_MESSAGES = ("user_send_text", "user_send_image", "user_send_location")


def count_messages(db: Database, since: datetime) -> int:
    """Messages residents sent since `since` (all OAs)."""
    with db.session() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(InboundEvent)
                .where(col(InboundEvent.event_name).in_(RESIDENT_MESSAGES))
                .where(col(InboundEvent.received_at) >= since)
            ).one()
        )


def count_unanswered(db: Database, since: datetime) -> int:
    with db.session() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(UnansweredQuestion)
                .where(col(UnansweredQuestion.created_at) >= since)
            ).one()
        )


def recent_announcement_ids(db: Database, limit: int = 50) -> list[int]:
    from app.storage.announcements import PERSONAL, Announcement

    with db.session() as session:
        ids = session.exec(
            select(Announcement.id)
            # Notices to one resident (a dossier's status) are not the ward's announcements.
            .where(col(Announcement.target_all) | (col(Announcement.target_groups) != PERSONAL))
            .order_by(col(Announcement.id).desc())
            .limit(limit)
        ).all()
        return [i for i in ids if i is not None]
