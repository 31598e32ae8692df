"""What residents ask: the questions the bot was not sure about (for admins to teach it), and
which procedures are asked about (one row per answered procedure question, no text)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select

from app.storage.database import Database
from app.storage.tables import ProcedureAsk, UnansweredQuestion

# --- unanswered questions -----------------------------------------------------------------


def record_unanswered(
    db: Database,
    *,
    oa_id: str,
    user_id: str,
    text: str,
    kind: str,
    candidates: list[dict[str, Any]],
) -> None:
    with db.session() as session:
        session.add(
            UnansweredQuestion(
                oa_id=oa_id,
                user_id=user_id,
                text=text,
                kind=kind,
                candidates=json.dumps(candidates, ensure_ascii=False),
            )
        )
        session.commit()


def unanswered_since(
    db: Database, since: datetime | None = None, oa_ids: Collection[str] | None = None
) -> Sequence[UnansweredQuestion]:
    """Oldest first; of the given OAs only (None: every OA)."""
    with db.session() as session:
        query = select(UnansweredQuestion).order_by(col(UnansweredQuestion.id))
        if since is not None:
            query = query.where(col(UnansweredQuestion.created_at) >= since)
        if oa_ids is not None:
            query = query.where(col(UnansweredQuestion.oa_id).in_(oa_ids))
        return session.exec(query).all()


def get_unanswered(db: Database, question_id: int) -> UnansweredQuestion | None:
    with db.session() as session:
        return session.get(UnansweredQuestion, question_id)


def count_unanswered(db: Database, since: datetime, oa_ids: Collection[str] | None = None) -> int:
    with db.session() as session:
        query = (
            select(func.count())
            .select_from(UnansweredQuestion)
            .where(col(UnansweredQuestion.created_at) >= since)
        )
        if oa_ids is not None:
            query = query.where(col(UnansweredQuestion.oa_id).in_(oa_ids))
        return int(session.exec(query).one())


def unanswered_per_oa(db: Database, since: datetime) -> dict[str, int]:
    """Unanswered questions since `since`, per OA: the province dashboard."""
    with db.session() as session:
        rows = session.exec(
            select(UnansweredQuestion.oa_id, func.count())
            .where(col(UnansweredQuestion.created_at) >= since)
            .group_by(col(UnansweredQuestion.oa_id))
        ).all()
        return {oa_id: int(n) for oa_id, n in rows}


# --- procedures asked about ---------------------------------------------------------------


def record_procedure_ask(db: Database, oa_id: str, code: str, at: datetime) -> None:
    with db.session() as session:
        session.add(ProcedureAsk(oa_id=oa_id, code=code, asked_at=at))
        session.commit()


def top_asked(
    db: Database, since: datetime, limit: int = 5, oa_ids: Collection[str] | None = None
) -> list[tuple[str, int]]:
    with db.session() as session:
        count = func.count().label("asks")
        query = select(ProcedureAsk.code, count).where(col(ProcedureAsk.asked_at) >= since)
        if oa_ids is not None:
            query = query.where(col(ProcedureAsk.oa_id).in_(oa_ids))
        rows = session.exec(
            query.group_by(col(ProcedureAsk.code))
            .order_by(count.desc(), col(ProcedureAsk.code))
            .limit(limit)
        ).all()
        return [(code, int(n)) for code, n in rows]
