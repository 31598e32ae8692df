"""Residents' ratings of the service (đánh giá mức độ hài lòng): one row per resident and
subject (a visit or a dossier), created when the rating is requested, so it is asked once."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from app.storage.database import Database
from app.storage.tables import ServiceRating


def add_request(db: Database, row: ServiceRating) -> ServiceRating | None:
    """Store a new request; None when this resident was already asked about this subject."""
    with db.session() as session:
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return None
        session.refresh(row)
        return row


def get_rating(db: Database, rating_id: int) -> ServiceRating | None:
    with db.session() as session:
        return session.get(ServiceRating, rating_id)


def update_rating(db: Database, rating_id: int, **values: object) -> None:
    with db.session() as session:
        row = session.get(ServiceRating, rating_id)
        if row is not None:
            for key, value in values.items():
                setattr(row, key, value)
            session.commit()


def unasked(db: Database, oa_id: str, user_id: str) -> Sequence[ServiceRating]:
    with db.session() as session:
        return session.exec(
            select(ServiceRating)
            .where(ServiceRating.oa_id == oa_id)
            .where(ServiceRating.user_id == user_id)
            .where(col(ServiceRating.asked_at).is_(None))
            .order_by(col(ServiceRating.id))
        ).all()


def asked_of(db: Database, oa_id: str, user_id: str) -> Sequence[ServiceRating]:
    """The resident's asked ratings, latest first."""
    with db.session() as session:
        return session.exec(
            select(ServiceRating)
            .where(ServiceRating.oa_id == oa_id)
            .where(ServiceRating.user_id == user_id)
            .where(col(ServiceRating.asked_at).is_not(None))
            .order_by(col(ServiceRating.asked_at).desc(), col(ServiceRating.id).desc())
        ).all()


def awaiting_comment(db: Database, oa_id: str, user_id: str, now: datetime) -> ServiceRating | None:
    with db.session() as session:
        return session.exec(
            select(ServiceRating)
            .where(ServiceRating.oa_id == oa_id)
            .where(ServiceRating.user_id == user_id)
            .where(col(ServiceRating.comment_until) > now)
            .order_by(col(ServiceRating.rated_at).desc())
        ).first()


def rated(db: Database, oa_ids: Collection[str] | None = None) -> Sequence[ServiceRating]:
    """Every given rating of the given wards' OAs (None: every OA), oldest first (the
    console's tables and CSV)."""
    query = select(ServiceRating).where(col(ServiceRating.score).is_not(None))
    if oa_ids is not None:
        query = query.where(col(ServiceRating.oa_id).in_(oa_ids))
    with db.session() as session:
        return session.exec(query.order_by(col(ServiceRating.rated_at))).all()


@dataclass(frozen=True)
class Scores:
    """The 1-5 ratings of one OA: how many, and their sum (the average is sum / count)."""

    count: int
    total: int

    @property
    def average(self) -> float:
        return self.total / self.count if self.count else 0.0


def scores_per_oa(db: Database) -> dict[str, Scores]:
    """Given ratings per OA: the province dashboard."""
    with db.session() as session:
        rows = session.exec(
            select(ServiceRating.oa_id, func.count(), func.sum(ServiceRating.score))
            .where(col(ServiceRating.score).is_not(None))
            .group_by(col(ServiceRating.oa_id))
        ).all()
    return {oa_id: Scores(int(n), int(total or 0)) for oa_id, n, total in rows}


def requests_for(db: Database, subject_kind: str, subject_ref: str) -> Sequence[ServiceRating]:
    with db.session() as session:
        return session.exec(
            select(ServiceRating)
            .where(ServiceRating.subject_kind == subject_kind)
            .where(ServiceRating.subject_ref == subject_ref)
        ).all()
