"""Dossiers residents follow (tra cứu hồ sơ): their last known status and their followers.

Keyed by the OA (ward) and the code printed on the receipt; the status is what staff entered
or what the province's system said last (app.dossiers.status)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select

from app.storage.database import Database, as_utc
from app.storage.tables import Delivery, Dossier, DossierFollower


@dataclass(frozen=True)
class Follow:
    user_id: str
    followed_at: datetime
    notice_status: str | None
    """The last notice's delivery status (pending, sent, deferred, failed), if any."""


def get_dossier(db: Database, oa_id: str, code: str) -> Dossier | None:
    with db.session() as session:
        return session.get(Dossier, (oa_id, code))


def save_status(
    db: Database,
    oa_id: str,
    code: str,
    *,
    state: str,
    missing: str | None,
    pickup_date: date | None,
    procedure_code: str | None,
    updated_by: str,
    now: datetime,
) -> Dossier:
    with db.session() as session:
        row = session.get(Dossier, (oa_id, code))
        if row is None:
            row = Dossier(oa_id=oa_id, code=code, created_at=now)
            session.add(row)
        row.state, row.missing, row.pickup_date = state, missing, pickup_date
        row.procedure_code = procedure_code or row.procedure_code
        row.updated_by, row.updated_at = updated_by, now
        session.commit()
        session.refresh(row)
        return row


def follow(db: Database, oa_id: str, code: str, user_id: str, now: datetime) -> bool:
    """Add a follower (and the dossier, status unknown); False if they already follow it."""
    with db.session() as session:
        if session.get(Dossier, (oa_id, code)) is None:
            session.add(Dossier(oa_id=oa_id, code=code, updated_at=now, created_at=now))
        if session.get(DossierFollower, (oa_id, code, user_id)) is not None:
            session.commit()
            return False
        session.add(DossierFollower(oa_id=oa_id, code=code, user_id=user_id, followed_at=now))
        session.commit()
        return True


def unfollow(db: Database, oa_id: str, code: str, user_id: str) -> bool:
    with db.session() as session:
        row = session.get(DossierFollower, (oa_id, code, user_id))
        if row is None:
            return False
        session.delete(row)
        session.commit()
        return True


def is_following(db: Database, oa_id: str, code: str, user_id: str) -> bool:
    with db.session() as session:
        return session.get(DossierFollower, (oa_id, code, user_id)) is not None


def follower_ids(db: Database, oa_id: str, code: str) -> list[str]:
    with db.session() as session:
        return list(
            session.exec(
                select(DossierFollower.user_id)
                .where(DossierFollower.oa_id == oa_id)
                .where(DossierFollower.code == code)
                .order_by(col(DossierFollower.followed_at))
            ).all()
        )


def set_last_delivery(
    db: Database, oa_id: str, code: str, user_id: str, delivery_id: int | None
) -> None:
    with db.session() as session:
        row = session.get(DossierFollower, (oa_id, code, user_id))
        if row is not None:
            row.last_delivery_id = delivery_id
            session.commit()


def follows_of(db: Database, oa_id: str, code: str) -> list[Follow]:
    """Who follows the dossier, with how their last notice went."""
    with db.session() as session:
        rows = session.exec(
            select(DossierFollower, Delivery.status)
            .outerjoin(Delivery, col(Delivery.id) == col(DossierFollower.last_delivery_id))
            .where(DossierFollower.oa_id == oa_id)
            .where(DossierFollower.code == code)
            .order_by(col(DossierFollower.followed_at))
        ).all()
        return [
            Follow(f.user_id, as_utc(f.followed_at) or f.followed_at, s and str(s)) for f, s in rows
        ]


def followed_codes(db: Database, oa_id: str, *, skip_state: str | None = None) -> list[str]:
    """Codes someone follows, except those in `skip_state` (e.g. already picked up)."""
    query = (
        select(Dossier.code)
        .where(Dossier.oa_id == oa_id)
        .where(
            col(Dossier.code).in_(
                select(DossierFollower.code).where(DossierFollower.oa_id == oa_id)
            )
        )
        .order_by(col(Dossier.code))
    )
    if skip_state is not None:
        query = query.where((col(Dossier.state).is_(None)) | (col(Dossier.state) != skip_state))
    with db.session() as session:
        return list(session.exec(query).all())


def oa_ids_with_code(db: Database, code: str, oa_ids: Collection[str] | None = None) -> list[str]:
    """The OAs (wards) that know a dossier code, among `oa_ids` (None: every OA)."""
    query = select(Dossier.oa_id).where(Dossier.code == code).order_by(col(Dossier.oa_id))
    if oa_ids is not None:
        query = query.where(col(Dossier.oa_id).in_(oa_ids))
    with db.session() as session:
        return list(session.exec(query).all())


def oa_ids_following(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.exec(select(DossierFollower.oa_id).distinct()).all())


@dataclass(frozen=True)
class DossierListing:
    dossier: Dossier
    followers: int


def list_dossiers(
    db: Database, limit: int = 200, oa_ids: Collection[str] | None = None
) -> list[DossierListing]:
    """The most recently changed dossiers of the given wards' OAs (None: every OA), with how
    many residents follow each (per ward it reads ix_dossiers_oa_updated)."""
    followers = (
        select(
            DossierFollower.oa_id,
            DossierFollower.code,
            func.count().label("followers"),
        )
        .group_by(col(DossierFollower.oa_id), col(DossierFollower.code))
        .subquery()
    )
    query = (
        select(Dossier, followers.c.followers)
        .outerjoin(
            followers,
            (followers.c.oa_id == col(Dossier.oa_id)) & (followers.c.code == col(Dossier.code)),
        )
        .order_by(col(Dossier.updated_at).desc())
        .limit(limit)
    )
    if oa_ids is not None:
        query = query.where(col(Dossier.oa_id).in_(oa_ids))
    with db.session() as session:
        return [DossierListing(d, int(n or 0)) for d, n in session.exec(query).all()]
