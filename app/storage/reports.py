"""Residents' reports, staff replies to them, and drafts being written: tables and queries."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select

from app.storage import drafts
from app.storage.database import Database
from app.storage.tables import Report, ReportDraft, ReportReply


def load_draft(db: Database, oa_id: str, user_id: str) -> dict[str, Any] | None:
    return drafts.load_draft(db, ReportDraft, oa_id, user_id)


def save_draft(db: Database, oa_id: str, user_id: str, state: dict[str, Any] | None) -> None:
    drafts.save_draft(db, ReportDraft, oa_id, user_id, state)


def create_report(db: Database, report: Report) -> Report:
    with db.session() as session:
        session.add(report)
        session.commit()
        return report


def get_report(db: Database, report_id: int) -> Report | None:
    with db.session() as session:
        return session.get(Report, report_id)


def list_reports(
    db: Database,
    status: str | None = None,
    limit: int = 200,
    oa_ids: Collection[str] | None = None,
) -> Sequence[Report]:
    """The newest reports first; of the given OAs only (None: every OA)."""
    with db.session() as session:
        query = select(Report).order_by(col(Report.id).desc()).limit(limit)
        if status:
            query = query.where(Report.status == status)
        if oa_ids is not None:
            query = query.where(col(Report.oa_id).in_(oa_ids))
        return session.exec(query).all()


def update_report(db: Database, report_id: int, **values: Any) -> Report | None:
    with db.session() as session:
        row = session.get(Report, report_id)
        if row is None:
            return None
        for key, value in values.items():
            setattr(row, key, value)
        session.commit()
        return row


def add_reply(db: Database, reply: ReportReply) -> ReportReply:
    with db.session() as session:
        session.add(reply)
        session.commit()
        return reply


def replies_of(db: Database, report_id: int) -> Sequence[ReportReply]:
    with db.session() as session:
        return session.exec(
            select(ReportReply)
            .where(ReportReply.report_id == report_id)
            .order_by(col(ReportReply.id))
        ).all()


def mark_reply(
    db: Database, reply_id: int, delivered_at: datetime | None, failure: str | None
) -> None:
    with db.session() as session:
        row = session.get(ReportReply, reply_id)
        if row is not None:
            row.delivered_at, row.failure = delivered_at, failure
            session.commit()


def waiting_replies(db: Database, oa_id: str, user_id: str) -> list[tuple[Report, ReportReply]]:
    """Replies not yet delivered to this resident, oldest first."""
    with db.session() as session:
        rows = session.exec(
            select(Report, ReportReply)
            .where(col(ReportReply.report_id) == col(Report.id))
            .where(Report.oa_id == oa_id)
            .where(Report.user_id == user_id)
            .where(col(ReportReply.delivered_at).is_(None))
            .order_by(col(ReportReply.id))
        ).all()
        return [(r, p) for r, p in rows]


def awaiting_rating(db: Database, oa_id: str, user_id: str) -> Report | None:
    """The resident's most recently closed report that is not rated yet."""
    with db.session() as session:
        return session.exec(
            select(Report)
            .where(Report.oa_id == oa_id)
            .where(Report.user_id == user_id)
            .where(Report.status == "closed")
            .where(col(Report.rating).is_(None))
            .order_by(col(Report.closed_at).desc())
        ).first()


def counts_by(db: Database, column: str, oa_ids: Collection[str] | None = None) -> dict[str, int]:
    """Reports per status or per rating, of the given OAs (None: every OA)."""
    field = getattr(Report, column)
    with db.session() as session:
        query = select(field, func.count()).group_by(field)
        if oa_ids is not None:
            query = query.where(col(Report.oa_id).in_(oa_ids))
        rows = session.exec(query).all()
        return {str(key): int(count) for key, count in rows if key is not None}


def counts_per_oa(db: Database, column: str) -> dict[str, dict[str, int]]:
    """Reports per OA, then per status or per rating: the province dashboard."""
    field = getattr(Report, column)
    with db.session() as session:
        rows = session.exec(
            select(Report.oa_id, field, func.count()).group_by(col(Report.oa_id), field)
        ).all()
    counts: dict[str, dict[str, int]] = {}
    for oa_id, key, count in rows:
        if key is not None:
            counts.setdefault(oa_id, {})[str(key)] = int(count)
    return counts
