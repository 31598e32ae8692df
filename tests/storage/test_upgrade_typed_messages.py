"""Migration 0016 back-fills the typed message of events recorded before it, from their stored
payload, exactly as the webhook translates a new event; the payload itself stays."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.command import upgrade as alembic_upgrade
from sqlalchemy import text

from app.messages import InboundMessage, MessageKind
from app.storage.database import Database
from app.storage.events import get_event, message_of
from app.storage.migrate import alembic_config, current_revision, schema_differences, upgrade
from tests.support.databases import postgres

OA = "4321000011112222333"
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def _user(name: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_name": name,
        "timestamp": "1764662400000",
        "sender": {"id": "u1"},
        "recipient": {"id": OA},
        "message": message,
    }


EVENTS: dict[str, tuple[str, str]] = {
    # key: (event_name, stored payload)
    "text": (
        "user_send_text",
        json.dumps(_user("user_send_text", {"msg_id": "m1", "text": "Chào"})),
    ),
    "image": (
        "user_send_image",
        json.dumps(
            _user(
                "user_send_image",
                {"msg_id": "m2", "attachments": [{"payload": {"url": "https://z/p.jpg"}}]},
            )
        ),
    ),
    "location": (
        "user_send_location",
        json.dumps(
            _user(
                "user_send_location",
                {
                    "msg_id": "m3",
                    "attachments": [
                        {"payload": {"coordinates": {"latitude": "21.03", "longitude": "105.85"}}}
                    ],
                },
            )
        ),
    ),
    "echo": (
        "oa_send_text",
        json.dumps(
            {
                "event_name": "oa_send_text",
                "timestamp": "1764662400000",
                "sender": {"id": OA, "admin_id": "staff-7"},
                "recipient": {"id": "u1"},
                "message": {"msg_id": "m4", "text": "Dạ, cán bộ trả lời"},
            }
        ),
    ),
    "sticker": ("user_send_sticker", json.dumps(_user("user_send_sticker", {"msg_id": "m5"}))),
    "follow": (
        "follow",
        json.dumps(
            {
                "event_name": "follow",
                "timestamp": "1764662400000",
                "oa_id": OA,
                "follower": {"id": "u1"},
            }
        ),
    ),
    "broken": ("user_send_text", "{}"),  # not a valid event: only its kind is known
}

EXPECTED = {
    "text": InboundMessage(MessageKind.text, text="Chào", msg_id="m1"),
    "image": InboundMessage(MessageKind.image, msg_id="m2", image_url="https://z/p.jpg"),
    "location": InboundMessage(MessageKind.location, msg_id="m3", latitude=21.03, longitude=105.85),
    "echo": InboundMessage(
        MessageKind.echo, text="Dạ, cán bộ trả lời", msg_id="m4", admin_id="staff-7"
    ),
    "sticker": InboundMessage(MessageKind.media, msg_id="m5"),
    "follow": InboundMessage(MessageKind.follow),
    "broken": InboundMessage(MessageKind.text),
}


def test_events_recorded_before_get_their_typed_message(tmp_path: Path) -> None:
    pg = postgres()
    db = Database(pg.create(migrated=False) if pg else f"sqlite:///{tmp_path / 'old.db'}")
    try:
        config = alembic_config()
        with db.engine.connect() as connection:
            config.attributes["connection"] = connection
            alembic_upgrade(config, "0017")  # the schema before typed messages
            connection.commit()
        with db.engine.begin() as connection:
            for number, (key, (name, payload)) in enumerate(EVENTS.items(), start=1):
                connection.execute(
                    text(
                        "INSERT INTO inbound_events (id, oa_id, event_key, event_name, user_id, "
                        "payload, status, received_at) "
                        "VALUES (:id, :oa, :key, :name, 'u1', :payload, 'received', :now)"
                    ),
                    {
                        "id": number,
                        "oa": OA,
                        "key": key,
                        "name": name,
                        "payload": payload,
                        "now": NOW,
                    },
                )

        upgrade(db.engine)

        with db.engine.connect() as connection:
            assert current_revision(connection) == "0016"
        assert schema_differences(db.engine) == []
        for number, (key, (_, payload)) in enumerate(EVENTS.items(), start=1):
            event = get_event(db, number)
            assert event is not None
            assert message_of(event) == EXPECTED[key], key
            assert event.payload == payload  # kept for audit
    finally:
        db.close()
