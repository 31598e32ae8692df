"""The app's shared request budget in the database: a token bucket row per Zalo app.

Every process of a deployment takes tokens from the same row, so their sum stays within the
budget. Each change runs in one short transaction that starts by locking the row (an UPDATE
that returns it: a row lock on PostgreSQL, the write lock on SQLite), so two processes never
spend the same tokens. What the tokens mean and who may take them is app.zalo.budget's
business; this module only keeps the arithmetic atomic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from app.storage.database import Database
from app.storage.tables import AppRateBudget

_EPSILON = 1e-9
"""Keeps float rounding from refusing a token that has just come."""


@dataclass(frozen=True)
class Bucket:
    """At most `capacity` tokens, refilled at `refill_per_second`."""

    capacity: float
    refill_per_second: float


class Taken(NamedTuple):
    granted: int
    """Tokens taken now (0..want)."""
    wait: float
    """When nothing was granted: seconds until the tokens asked for can be there (the end of
    a back-off, or the refill), if nobody else takes them first."""


def take_tokens(
    db: Database,
    app_key: str,
    bucket: Bucket,
    *,
    want: int,
    now: float,
    least: int = 1,
    keep: float = 0.0,
) -> Taken:
    """Take up to `want` tokens, but only if at least `least` can be taken while `keep`
    tokens stay in the bucket for others; none during a back-off."""
    with db.engine.connect() as connection:
        row = _locked_row(connection, app_key, bucket, now)
        if row.backoff_until > now:
            connection.rollback()
            return Taken(0, row.backoff_until - now)
        elapsed = max(0.0, now - row.refilled_at)
        tokens = min(bucket.capacity, row.tokens + elapsed * bucket.refill_per_second)
        spare = math.floor(tokens - keep + _EPSILON)
        if spare < least:
            connection.rollback()  # nothing spent: the refill is a function of time anyway
            missing = keep + least - tokens
            return Taken(0, max(0.0, missing) / bucket.refill_per_second)
        granted = min(want, spare)
        connection.execute(
            update(AppRateBudget)
            .where(col(AppRateBudget.app_key) == app_key)
            .values(tokens=tokens - granted, refilled_at=max(now, row.refilled_at))
        )
        connection.commit()
        return Taken(granted, 0.0)


def record_rate_limited(
    db: Database, app_key: str, bucket: Bucket, *, now: float, first: float, longest: float
) -> float:
    """Zalo answered -32: every process stops sending until the returned moment.

    The back-off lasts `first` seconds, twice the previous one (at most `longest`) when -32
    comes again within `longest` seconds of the last back-off's end. A -32 received during a
    back-off answers a request sent before it began: it is counted, not extended. The bucket
    is emptied, so sending resumes at the refill rate instead of in a burst.
    """
    with db.engine.connect() as connection:
        row = _locked_row(connection, app_key, bucket, now)
        values: dict[str, Any] = {"rate_limited": col(AppRateBudget.rate_limited) + 1}
        until = row.backoff_until
        if until <= now:
            again_soon = row.backoff_seconds > 0 and now - until < longest
            seconds = min(longest, row.backoff_seconds * 2) if again_soon else first
            until = now + seconds
            values.update(backoff_until=until, backoff_seconds=seconds, tokens=0.0)
            values.update(refilled_at=until)
        connection.execute(
            update(AppRateBudget).where(col(AppRateBudget.app_key) == app_key).values(**values)
        )
        connection.commit()
        return until


def budget_state(db: Database, app_key: str) -> AppRateBudget | None:
    """The row as stored (for reports and tests); None before the first request."""
    with db.session() as session:
        return session.get(AppRateBudget, app_key)


class _Locked(NamedTuple):
    tokens: float
    refilled_at: float
    backoff_until: float
    backoff_seconds: float


def _locked_row(connection: Connection, app_key: str, bucket: Bucket, now: float) -> _Locked:
    """The app's row, locked until the transaction ends; created with a full bucket."""
    lock = (
        update(AppRateBudget)
        .where(col(AppRateBudget.app_key) == app_key)
        .values(tokens=col(AppRateBudget.tokens))
        .returning(
            col(AppRateBudget.tokens),
            col(AppRateBudget.refilled_at),
            col(AppRateBudget.backoff_until),
            col(AppRateBudget.backoff_seconds),
        )
    )
    row = connection.execute(lock).first()
    if row is None:
        postgresql = connection.dialect.name == "postgresql"
        insert = postgresql_insert if postgresql else sqlite_insert
        connection.execute(
            insert(AppRateBudget)
            .values(app_key=app_key, tokens=bucket.capacity, refilled_at=now)
            .on_conflict_do_nothing(index_elements=["app_key"])
        )
        row = connection.execute(lock).one()
    return _Locked(*(float(value) for value in row))


class DatabaseBudget:
    """The app's bucket for app.zalo.budget.RateBudget (its `BudgetStore`)."""

    def __init__(self, db: Database, app_key: str, bucket: Bucket) -> None:
        self.db = db
        self.app_key = app_key
        self.bucket = bucket

    def take(self, *, want: int, least: int, keep: float, now: float) -> tuple[int, float]:
        return take_tokens(
            self.db, self.app_key, self.bucket, want=want, least=least, keep=keep, now=now
        )

    def rate_limited(self, *, now: float, first: float, longest: float) -> float:
        return record_rate_limited(
            self.db, self.app_key, self.bucket, now=now, first=first, longest=longest
        )
