"""What residents ask: the questions the bot was not sure about (for admins to teach it), and
which procedures are asked about (one row per answered procedure question, no text)."""

from __future__ import annotations

import json
from collections.abc import Sequence
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


def unanswered_since(db: Database, since: datetime | None = None) -> Sequence[UnansweredQuestion]:
    with db.session() as session:
        query = select(UnansweredQuestion).order_by(col(UnansweredQuestion.id))
        if since is not None:
            query = query.where(col(UnansweredQuestion.created_at) >= since)
        return session.exec(query).all()


def count_unanswered(db: Database, since: datetime) -> int:
    with db.session() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(UnansweredQuestion)
                .where(col(UnansweredQuestion.created_at) >= since)
            ).one()
        )


# --- procedures asked about ---------------------------------------------------------------


def record_procedure_ask(db: Database, oa_id: str, code: str, at: datetime) -> None:
    with db.session() as session:
        session.add(ProcedureAsk(oa_id=oa_id, code=code, asked_at=at))
        session.commit()


def top_asked(db: Database, since: datetime, limit: int = 5) -> list[tuple[str, int]]:
    with db.session() as session:
        count = func.count().label("asks")
        rows = session.exec(
            select(ProcedureAsk.code, count)
            .where(col(ProcedureAsk.asked_at) >= since)
            .group_by(col(ProcedureAsk.code))
            .order_by(count.desc(), col(ProcedureAsk.code))
            .limit(limit)
        ).all()
        return [(code, int(n)) for code, n in rows]
