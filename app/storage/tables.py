"""SQLModel tables. Every row is keyed by the OA id so one deployment can serve several OAs."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
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
    """Where an outbound message stands, summed up from its parts (app.outbox)."""

    pending = "pending"
    """Recorded (the intent), not every part settled yet."""
    sent = "sent"
    simulated = "simulated"
    """Simulator mode: recorded instead of sent."""
    failed = "failed"
    held = "held"
    """A part could not go out because the Zalo connection was down (token refused or not
    refreshable, Zalo unreachable); it is sent later, once the connection is back."""


class OutboundPurpose(StrEnum):
    reply = "reply"
    """An answer to a resident's message (`inbound_event_id`)."""
    slow_down = "slow_down"
    """The throttle's "please slow down" (`inbound_event_id`)."""
    report_reply = "report_reply"
    """A staff member's answer to a report (`report_reply_id`)."""
    announcement = "announcement"
    """An announcement to one resident (`delivery_id`); its delivery row schedules retries."""
    booking_reminder = "booking_reminder"
    """The evening-before reminder of a booked visit (`Booking.reminder_message_id`)."""
    booking_notice = "booking_notice"
    """A booked visit's slot was cancelled by staff: the resident is told."""


class OutboundMessage(SQLModel, table=True):
    """A message the bot meant to send, recorded before any of it is sent (app.outbox).

    Its text is split once into `OutboundPart`s; `outcome` and `zalo_message_ids` sum up
    the parts."""

    __tablename__ = "outbound_messages"

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    user_id: str = Field(index=True)
    purpose: str = Field(default=OutboundPurpose.reply.value)
    """`OutboundPurpose`, stored as text."""
    inbound_event_id: int | None = Field(default=None, foreign_key="inbound_events.id", index=True)
    delivery_id: int | None = Field(
        default=None, foreign_key="announcement_deliveries.id", index=True
    )
    report_reply_id: int | None = Field(default=None, foreign_key="report_replies.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    buttons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    outcome: DeliveryOutcome
    zalo_message_ids: str = ""
    error_code: int | None = None
    reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    resent_at: datetime | None = None
    """When a held message was settled after the connection came back."""


class PartStatus(StrEnum):
    pending = "pending"
    """Recorded, not tried yet (or to be tried again by the owner of the message)."""
    sending = "sending"
    """Claimed by a process that is sending it now; an old claim is a dead process's, and the
    part may or may not have reached Zalo."""
    sent = "sent"
    held = "held"
    """Waiting for the Zalo connection; the held-replies job sends it."""
    failed = "failed"


class OutboundPart(SQLModel, table=True):
    """One Zalo message of an `OutboundMessage`: at most 2000 characters, split once.

    Position 0 is an apology put in front of a reply that was held before any of it went
    out; the reply's own parts are 1..n."""

    __tablename__ = "outbound_parts"
    __table_args__ = (
        UniqueConstraint("message_id", "position", name="uq_outbound_part"),
        Index("ix_outbound_parts_status", "status", "message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbound_messages.id", index=True)
    position: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    buttons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    """JSON list of {title, kind, payload}; only the last part carries the reply's buttons."""
    status: PartStatus = PartStatus.pending
    zalo_message_id: str | None = None
    attempts: int = 0
    claim_token: str | None = None
    claimed_at: datetime | None = None
    uncertain_since: datetime | None = None
    """An attempt since then may have reached Zalo unacknowledged (a timeout after the request
    went out, a crash after the send): Zalo's echo is looked for before it is sent again."""
    error_code: int | None = None
    reason: str | None = None
    sent_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


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


class Heartbeat(SQLModel, table=True):
    """A row /readyz writes: proof that the database takes writes (app.storage.database)."""

    __tablename__ = "heartbeats"

    name: str = Field(primary_key=True)
    at: datetime = Field(default_factory=utcnow)


# Booking a visit (app.booking) ------------------------------------------------------------------


class BookingStatus(StrEnum):
    booked = "booked"
    served = "served"
    no_show = "no_show"
    cancelled = "cancelled"
    """By the resident (or moved: a rescheduled booking keeps its row and code)."""
    cancelled_by_ward = "cancelled_by_ward"
    """Staff cancelled its slot (e.g. the officer is ill); the resident was told."""


class ReminderStatus(StrEnum):
    sending = "sending"
    """Claimed by a worker; an old claim is a dead worker's and is taken over."""
    sent = "sent"
    held = "held"
    """The Zalo connection was down: the outbox's held-replies job sends it."""
    failed = "failed"
    """Zalo refused it (`reminder_reason` says why)."""


class Booking(SQLModel, table=True):
    """A resident's booked visit at one counter and slot, in one ward (`oa_id`).

    Capacity is the database's: a live booking holds a seat (1..capacity) of its slot, and a
    seat is unique per (ward, counter, slot). `active_day` (the ward's local date) is unique
    per resident while the booking is live: one visit a day. Both are NULL once it is
    cancelled, which frees the seat and the day."""

    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("oa_id", "counter_id", "slot_start", "seat_no", name="uq_booking_seat"),
        UniqueConstraint("oa_id", "user_id", "active_day", name="uq_booking_resident_day"),
        UniqueConstraint("made_by_event", name="uq_booking_event"),
        CheckConstraint("seat_no >= 1", name="ck_booking_seat"),
        Index("ix_bookings_slot", "oa_id", "slot_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str
    """The ward's OA (its profile's key)."""
    user_id: str = Field(index=True)
    procedure_code: str | None = None
    counter_id: str
    slot_start: datetime
    slot_end: datetime
    seat_no: int | None = None
    active_day: str | None = None
    status: str = Field(default=BookingStatus.booked.value, index=True)
    """`BookingStatus`, stored as text."""
    made_by_event: int | None = None
    """The inbound event that booked it: an event handled again finds it instead of booking
    twice."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    marked_by: str | None = None
    """The staff member who marked it served, no-show, or cancelled its slot."""
    cancel_reason: str | None = None
    reminder_status: str | None = None
    """`ReminderStatus`; None: not reminded yet."""
    reminder_claimed_at: datetime | None = None
    reminder_message_id: int | None = None
    reminder_reason: str | None = None


class BookingClosure(SQLModel, table=True):
    """A slot staff closed at one counter: nobody may book it."""

    __tablename__ = "booking_closures"

    oa_id: str = Field(primary_key=True)
    counter_id: str = Field(primary_key=True)
    slot_start: datetime = Field(primary_key=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    closed_by: str
    closed_at: datetime = Field(default_factory=utcnow)


class BookingDraft(SQLModel, table=True):
    """A booking being chosen in the chat (app.booking.dialogue.Draft as JSON)."""

    __tablename__ = "booking_drafts"

    oa_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    state: str = Field(default="{}", sa_column=Column(Text, nullable=False))
