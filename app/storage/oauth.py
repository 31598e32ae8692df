"""Pending OA consent requests: the PKCE verifier kept between `wardbot zalo connect` and the
callback (reference §6: the code is single-use and valid 10 minutes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col

from app.storage.database import Database, as_utc
from app.storage.tables import ZaloOAuthRequest


def save_oauth_request(
    db: Database, *, state: str, oa_id: str, code_verifier: str, redirect_uri: str
) -> None:
    with db.session() as session:
        session.add(
            ZaloOAuthRequest(
                state=state, oa_id=oa_id, code_verifier=code_verifier, redirect_uri=redirect_uri
            )
        )
        session.commit()


def take_oauth_request(
    db: Database, state: str, now: datetime, max_age: timedelta
) -> ZaloOAuthRequest | None:
    """The request for `state`, removed so it is used once; None if unknown or too old."""
    with db.session() as session:
        row = session.get(ZaloOAuthRequest, state)
        if row is None:
            return None
        removed = session.execute(
            delete(ZaloOAuthRequest).where(col(ZaloOAuthRequest.state) == state)
        )
        session.commit()
        if getattr(removed, "rowcount", 0) != 1:
            return None  # another process took it first
        created = as_utc(row.created_at)
        if created is None or now - created > max_age:
            return None
        return row
