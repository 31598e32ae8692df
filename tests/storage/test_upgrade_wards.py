"""Migration 0014 upgrades a single-OA database filled through the schema before wards: every
row is kept, and the OA's rows are found by the per-ward queries (the OA is the first ward)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic.command import upgrade as alembic_upgrade
from sqlalchemy import Connection, inspect, text

from app.storage.announcements import deferred_delivery_ids
from app.storage.database import Database
from app.storage.followers import get_follower
from app.storage.groups import members_per_group
from app.storage.migrate import alembic_config, current_revision, schema_differences, upgrade
from app.storage.tokens import load_token
from tests.support.databases import postgres

OA = "4321000011112222333"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ROWS = {
    "announcements": (
        "INSERT INTO announcements (id, oa_id, text, target_all, target_groups, urgent, "
        "created_by, created_at) VALUES (1, :oa, 'Lịch tiêm chủng', false, '[\"tdp-1\"]', "
        "false, 'lan', :now)"
    ),
    "announcement_deliveries": (
        "INSERT INTO announcement_deliveries (id, announcement_id, user_id, status, attempts, "
        "next_attempt_at, updated_at) VALUES (1, 1, 'u1', 'deferred', 1, :now, :now), "
        "(2, 1, 'u2', 'sent', 1, :now, :now)"
    ),
    "followers": (
        "INSERT INTO followers (oa_id, user_id, following) VALUES (:oa, 'u1', true), "
        "(:oa, 'u2', true)"
    ),
    "group_memberships": (
        "INSERT INTO group_memberships (oa_id, user_id, group_id, updated_at, zalo_tag_synced, "
        "tag_attempts) VALUES (:oa, 'u1', 'tdp-1', :now, true, 0), "
        "(:oa, 'u2', 'tdp-1', :now, true, 0)"
    ),
    "reports": (
        "INSERT INTO reports (id, oa_id, user_id, what, status, created_at) "
        "VALUES (1, :oa, 'u1', 'Đèn đường hỏng', 'new', :now)"
    ),
    "unanswered_questions": (
        "INSERT INTO unanswered_questions (id, oa_id, user_id, text, kind, candidates, "
        "created_at) VALUES (1, :oa, 'u2', 'xin giấy phép nuôi rồng', 'none', '[]', :now)"
    ),
    "procedure_asks": (
        "INSERT INTO procedure_asks (id, oa_id, code, asked_at) VALUES (1, :oa, '1.001193', :now)"
    ),
    "conversations": (
        "INSERT INTO conversations (oa_id, user_id, state, updated_at) "
        "VALUES (:oa, 'u1', '{}', :now)"
    ),
    "inbound_events": (
        "INSERT INTO inbound_events (id, oa_id, event_key, event_name, payload, status, "
        "received_at) VALUES (1, :oa, 'k1', 'user_send_text', '{}', 'done', :now)"
    ),
    "outbound_messages": (
        "INSERT INTO outbound_messages (id, oa_id, user_id, text, buttons, outcome, "
        "zalo_message_ids, created_at, purpose) "
        "VALUES (1, :oa, 'u1', 'Dạ', '[]', 'sent', '[]', :now, 'reply')"
    ),
    "zalo_tokens": (
        "INSERT INTO zalo_tokens (oa_id, access_token, refresh_token, updated_at) "
        "VALUES (:oa, 'acc', 'ref', :now)"
    ),
}


def test_a_single_oa_database_upgrades_to_wards_without_losing_a_row(tmp_path: Path) -> None:
    pg = postgres()
    db = Database(pg.create(migrated=False) if pg else f"sqlite:///{tmp_path / 'old.db'}")
    try:
        config = alembic_config()
        with db.engine.connect() as connection:
            config.attributes["connection"] = connection
            alembic_upgrade(config, "0010")  # the schema before wards
            connection.commit()
        with db.engine.begin() as connection:
            assert current_revision(connection) == "0010"
            for statement in ROWS.values():
                connection.execute(text(statement), {"oa": OA, "now": NOW})
            before = {t: _count(connection, t) for t in ROWS}

        upgrade(db.engine)

        with db.engine.connect() as connection:
            assert current_revision(connection) == "0016"  # the head: typed messages follow 0017
            assert {t: _count(connection, t) for t in ROWS} == before  # no row lost
            keys = connection.execute(text("SELECT oa_id FROM announcement_deliveries")).all()
            assert {k for (k,) in keys} == {OA}  # deliveries now carry their OA
        assert schema_differences(db.engine) == []
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("announcement_deliveries")}
        assert "ix_delivery_oa_resident" in indexes

        # The OA's rows are the first ward's: the per-OA queries find them.
        assert deferred_delivery_ids(db, OA, "u1") == [1]
        assert deferred_delivery_ids(db, "another-oa", "u1") == []
        assert members_per_group(db, OA) == {"tdp-1": 2}
        follower = get_follower(db, OA, "u1")
        assert follower is not None and follower.following
        token = load_token(db, OA)
        assert token is not None and token.refresh_token == "ref"
    finally:
        db.close()


def _count(connection: Connection, table: str) -> int:
    return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
