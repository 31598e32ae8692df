"""SQLModel tables. Every row is keyed by the OA id so one deployment can serve several OAs."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventStatus(StrEnum):
    received = "received"
    """Recorded and acknowledged to Zalo; not yet handled."""
    processing = "processing"
    done = "done"
    ignored = "ignored"
    """Recorded only: an event type the bot does not act on."""
    failed = "failed"


class InboundEvent(SQLModel, table=True):
    """One webhook delivery, de-duplicated on (oa_id, event_key).

    `payload` holds the raw body so an acknowledged event can be handled after a crash.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("oa_id", "event_key", name="uq_inbound_event"),)

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    event_key: str
    """Zalo's msg_id for messages; a digest of the stable fields for other events."""
    event_name: str
    user_id: str | None = Field(default=None, index=True)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: EventStatus = Field(default=EventStatus.received, index=True)
    error: str | None = None
    received_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    """When a worker claimed it; a claim older than the lease is taken as a crashed worker's."""
    handled_at: datetime | None = None


class DeliveryOutcome(StrEnum):
    sent = "sent"
    simulated = "simulated"
    """Simulator mode: recorded instead of sent."""
    failed = "failed"
    held = "held"
    """Not sent because the Zalo connection was down (token refused or not refreshable);
    sent later, once the connection is back (app.jobs.held_replies)."""


class OutboundMessage(SQLModel, table=True):
    """A message the bot sent (or tried to), with Zalo's outcome."""

    __tablename__ = "outbound_messages"

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    user_id: str = Field(index=True)
    inbound_event_id: int | None = Field(default=None, foreign_key="inbound_events.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    buttons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    outcome: DeliveryOutcome
    zalo_message_ids: str = ""
    error_code: int | None = None
    reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    resent_at: datetime | None = None
    """Set when a held reply was sent (or finally failed) after the connection came back."""


class Follower(SQLModel, table=True):
    __tablename__ = "followers"

    oa_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    following: bool = True
    followed_at: datetime | None = None
    unfollowed_at: datetime | None = None
    last_interaction_at: datetime | None = None


class ZaloToken(SQLModel, table=True):
    """The OA's current token pair. The refresh token is single-use: saved before use."""

    __tablename__ = "zalo_tokens"

    oa_id: str = Field(primary_key=True)
    access_token: str
    refresh_token: str
    expires_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ZaloConnection(SQLModel, table=True):
    """The OA's Zalo connection as last seen by any process: what /readyz and the console's
    banner show, shared by every process of a deployment."""

    __tablename__ = "zalo_connection"

    oa_id: str = Field(primary_key=True)
    ok: bool = True
    error_code: int | None = None
    error: str | None = None
    changed_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """Per-resident dialogue state (JSON), which the dialogue expires by itself."""

    __tablename__ = "conversations"

    oa_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    state: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class UnansweredQuestion(SQLModel, table=True):
    """A message the bot was not sure about: fallback, clarification or low confidence."""

    __tablename__ = "unanswered_questions"

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    user_id: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    kind: str
    """`none` (fallback) or `clarify`."""
    candidates: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    """JSON list of {kind, id, score}: the nearest procedures at the time."""
    created_at: datetime = Field(default_factory=utcnow, index=True)
