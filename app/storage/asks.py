"""Which procedures residents ask about: one row per answered procedure question (no text)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, func, select

from app.storage.database import Database
from app.storage.tables import ProcedureAsk


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
