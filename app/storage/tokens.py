"""The Zalo token pair kept in the database, so a refreshed pair survives restarts."""

from __future__ import annotations

from app.storage.database import Database, as_utc
from app.zalo.tokens import TokenPair


class DatabaseTokenStore:
    """Implements app.zalo.tokens.TokenStore for one OA."""

    def __init__(self, db: Database, oa_id: str) -> None:
        self._db = db
        self._oa_id = oa_id

    def load(self) -> TokenPair | None:
        row = self._db.load_token(self._oa_id)
        if row is None:
            return None
        return TokenPair(row.access_token, row.refresh_token, as_utc(row.expires_at))

    def save(self, pair: TokenPair) -> None:
        self._db.save_token(self._oa_id, pair.access_token, pair.refresh_token, pair.expires_at)
