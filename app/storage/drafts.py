"""A resident's unfinished multi-step conversation (a report being written, a booking being
chosen): one JSON state per (OA, resident) in a draft table of the feature's own."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from app.storage.database import Database
from app.storage.tables import BookingDraft, ReportDraft

Draft = TypeVar("Draft", ReportDraft, BookingDraft)


def load_draft(db: Database, table: type[Draft], oa_id: str, user_id: str) -> dict[str, Any] | None:
    with db.session() as session:
        row = session.get(table, (oa_id, user_id))
        if row is None:
            return None
        state: dict[str, Any] = json.loads(row.state)
        return state


def save_draft(
    db: Database, table: type[Draft], oa_id: str, user_id: str, state: dict[str, Any] | None
) -> None:
    """Store the state; None ends the draft."""
    with db.session() as session:
        row = session.get(table, (oa_id, user_id))
        if state is None:
            if row is not None:
                session.delete(row)
        else:
            if row is None:
                row = table(oa_id=oa_id, user_id=user_id)
            row.state = json.dumps(state, ensure_ascii=False)
            session.add(row)
        session.commit()
