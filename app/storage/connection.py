"""The Zalo connection's state as every process of a deployment sees it (the replies held
while it was down are the outbox's: app.storage.outbox)."""

from __future__ import annotations

from sqlmodel import select

from app.storage.database import Database
from app.storage.tables import ZaloConnection, utcnow


def record_connection(
    db: Database, oa_id: str, *, ok: bool, error_code: int | None = None, error: str | None = None
) -> None:
    """Store the latest state; `changed_at` moves only when the state itself changes."""
    with db.session() as session:
        row = session.get(ZaloConnection, oa_id)
        if row is None:
            row = ZaloConnection(oa_id=oa_id)
        elif (row.ok, row.error_code, row.error) == (ok, error_code, error):
            return
        row.ok, row.error_code, row.error, row.changed_at = ok, error_code, error, utcnow()
        session.add(row)
        session.commit()


def connection_status(db: Database, oa_id: str) -> ZaloConnection | None:
    """None until some process has talked to Zalo's OAuth or been connected."""
    with db.session() as session:
        return session.get(ZaloConnection, oa_id)


def all_connections(db: Database) -> dict[str, ZaloConnection]:
    """Every OA's latest state, by the key its token pair is stored under."""
    with db.session() as session:
        return {row.oa_id: row for row in session.exec(select(ZaloConnection)).all()}
