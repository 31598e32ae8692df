"""The stored token bucket (app.storage.budget): refill, what `keep` leaves, and back-offs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.storage.budget import Bucket, Taken, budget_state, record_rate_limited, take_tokens
from app.storage.database import Database
from tests.support.databases import database_url

APP = "app-1"
BUCKET = Bucket(capacity=10, refill_per_second=2)
T0 = 1_800_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(database_url(tmp_path))
    database.create_schema()
    yield database
    database.close()


def test_a_new_bucket_is_full_and_refills_with_time_up_to_its_capacity(db: Database) -> None:
    assert take_tokens(db, APP, BUCKET, want=8, now=T0) == Taken(8, 0.0)
    # Two left; three needed: the wait is the refill of the missing one.
    assert take_tokens(db, APP, BUCKET, want=3, least=3, now=T0) == Taken(0, 0.5)
    assert take_tokens(db, APP, BUCKET, want=3, least=3, now=T0 + 0.5) == Taken(3, 0.0)
    assert take_tokens(db, APP, BUCKET, want=50, now=T0 + 3600) == Taken(10, 0.0)


def test_keep_leaves_tokens_for_others(db: Database) -> None:
    assert take_tokens(db, APP, BUCKET, want=10, keep=4, now=T0) == Taken(6, 0.0)
    assert take_tokens(db, APP, BUCKET, want=1, keep=4, now=T0).granted == 0
    assert take_tokens(db, APP, BUCKET, want=10, now=T0) == Taken(4, 0.0)


def test_a_rate_limit_stops_everyone_and_doubles_when_it_comes_again_soon(db: Database) -> None:
    until = record_rate_limited(db, APP, BUCKET, now=T0, first=10, longest=60)
    assert until == T0 + 10
    assert take_tokens(db, APP, BUCKET, want=1, now=T0 + 4) == Taken(0, 6.0)
    # An answer to a request sent before the back-off: counted, not extended.
    assert record_rate_limited(db, APP, BUCKET, now=T0 + 5, first=10, longest=60) == until
    # The bucket starts again empty when the back-off ends.
    assert take_tokens(db, APP, BUCKET, want=1, now=T0 + 10).granted == 0
    assert take_tokens(db, APP, BUCKET, want=5, now=T0 + 11) == Taken(2, 0.0)
    # Again soon after: twice as long, at most `longest`.
    assert record_rate_limited(db, APP, BUCKET, now=T0 + 12, first=10, longest=60) == T0 + 32
    for _ in range(3):
        until = record_rate_limited(db, APP, BUCKET, now=until + 1, first=10, longest=60)
    state = budget_state(db, APP)
    assert state is not None
    assert (state.backoff_seconds, state.rate_limited) == (60, 6)
    # Long after the last one: back to the first length.
    later = until + 600
    assert record_rate_limited(db, APP, BUCKET, now=later, first=10, longest=60) == later + 10
