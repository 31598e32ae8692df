"""Each resident's dialogue state (JSON), which the dialogue expires by itself."""

from __future__ import annotations

import json
from typing import Any

from app.storage.database import Database
from app.storage.tables import Conversation, utcnow


def load_conversation(db: Database, oa_id: str, user_id: str) -> dict[str, Any]:
    with db.session() as session:
        row = session.get(Conversation, (oa_id, user_id))
        if row is None:
            return {}
        data: dict[str, Any] = json.loads(row.state)
        return data


def save_conversation(db: Database, oa_id: str, user_id: str, state: dict[str, Any]) -> None:
    with db.session() as session:
        row = session.get(Conversation, (oa_id, user_id))
        if row is None:
            row = Conversation(oa_id=oa_id, user_id=user_id)
            session.add(row)
        row.state = json.dumps(state, ensure_ascii=False)
        row.updated_at = utcnow()
        session.commit()
