"""Every table of the service, in one module: importing it registers them all.

Alembic's environment (app.storage.migrate), `Database.create_schema` and the tests take the
schema from here (`metadata`), so what a migration compares, or a foreign key resolves to,
never depends on which modules happened to be imported first. The queries live beside it, one
module per area (app.storage.events, .outbox, .followers, .groups, ...). Every row is keyed by
the OA id so one deployment can serve several OAs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, LargeBinary, MetaData, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- Inbound events (app.storage.events) ----------------------------------------------------------


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
    """Kept for audit; the bot reads the typed fields below (app.messages, migration 0016)."""
    kind: str = Field(default="other")
    """An `app.messages.MessageKind` (this registry imports nothing of the app)."""
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    msg_id: str | None = None
    admin_id: str | None = None
    image_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    latitude: float | None = None
    longitude: float | None = None
    status: EventStatus = Field(default=EventStatus.received, index=True)
    error: str | None = None
    received_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    """When a worker claimed it; a claim older than the lease is taken as a crashed worker's."""
    handled_at: datetime | None = None


# --- Outbound messages: the outbox (app.storage.outbox, app.storage.held) -------------------------


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


# --- Residents (app.storage.followers, .conversations, .questions, .groups) -----------------------


class Follower(SQLModel, table=True):
    __tablename__ = "followers"

    oa_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    following: bool = True
    followed_at: datetime | None = None
    unfollowed_at: datetime | None = None
    last_interaction_at: datetime | None = None


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
    __table_args__ = (Index("ix_unanswered_oa_created", "oa_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    user_id: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    kind: str
    """`none` (fallback) or `clarify`."""
    candidates: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    """JSON list of {kind, id, score}: the nearest procedures at the time."""
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ProcedureAsk(SQLModel, table=True):
    __tablename__ = "procedure_asks"
    __table_args__ = (Index("ix_procedure_asks_oa_asked", "oa_id", "asked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str
    code: str = Field(index=True)
    asked_at: datetime = Field(default_factory=utcnow, index=True)


class GroupMembership(SQLModel, table=True):
    """The resident's tổ dân phố; the local truth that the Zalo tag mirrors."""

    __tablename__ = "group_memberships"
    __table_args__ = (Index("ix_group_memberships_oa_group", "oa_id", "group_id"),)

    oa_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    group_id: str | None = Field(default=None, index=True)
    """None once the resident left; the row stays until the Zalo tag is removed."""
    joined_at: datetime | None = None
    updated_at: datetime
    zalo_tag: str | None = None
    """The tag Zalo has for this resident, as far as we know."""
    zalo_tag_synced: bool = Field(default=True, index=True)
    tag_attempts: int = 0
    tag_next_attempt_at: datetime | None = None
    tag_error: str | None = None
    """Why Zalo refused the tag for good (e.g. zalo:-213); no more retries until it changes."""


# --- Announcements (app.storage.announcements) ----------------------------------------------------


class DeliveryStatus(StrEnum):
    pending = "pending"
    """Waiting for its time (schedule, quiet hours, backoff) and a worker."""
    sending = "sending"
    """Claimed by a worker (or the inbox) that is sending it now."""
    sent = "sent"
    deferred = "deferred"
    """Outside Zalo's 7-day window: sent when the resident next writes to the OA."""
    failed = "failed"


class Announcement(SQLModel, table=True):
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_oa_created", "oa_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    image_url: str | None = None
    link_url: str | None = None
    link_title: str | None = None
    target_all: bool = False
    target_groups: str = "[]"
    """JSON list of group ids (empty when `target_all`)."""
    scheduled_at: datetime | None = None
    urgent: bool = False
    created_by: str = ""
    created_at: datetime


class Delivery(SQLModel, table=True):
    """One announcement to one resident."""

    __tablename__ = "announcement_deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "user_id", name="uq_delivery_recipient"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_resident", "user_id", "status"),
        Index("ix_delivery_oa_resident", "oa_id", "user_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcements.id", index=True)
    oa_id: str = Field(default="", sa_column_kwargs={"server_default": ""})
    """The announcement's OA (its ward): a resident's deliveries are looked up per OA."""
    user_id: str
    group_id: str | None = None
    """The resident's group when the announcement was created (None: a follower of "all")."""
    status: DeliveryStatus = DeliveryStatus.pending
    reason: str | None = None
    attempts: int = 0
    next_attempt_at: datetime
    zalo_message_id: str | None = None
    claimed_at: datetime | None = None
    claim_token: str | None = None
    updated_at: datetime


# --- Residents' reports (app.storage.reports) -----------------------------------------------------


class Report(SQLModel, table=True):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_oa_created", "oa_id", "created_at"),
        Index("ix_reports_oa_status", "oa_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    user_id: str = Field(index=True)
    what: str = Field(sa_column=Column(Text, nullable=False))
    location: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    latitude: float | None = None
    longitude: float | None = None
    image_url: str | None = None
    status: str = Field(default="new", index=True)
    """app.reports.dialogue.Status."""
    assignee: str | None = None
    rating: str | None = None
    """app.reports.dialogue.Rating, once the resident has rated the handling."""
    created_at: datetime = Field(default_factory=utcnow, index=True)
    closed_at: datetime | None = None


class ReportReply(SQLModel, table=True):
    """A staff answer to a report. `delivered_at` stays empty while it waits for the resident
    to write again (outside Zalo's 7-day window)."""

    __tablename__ = "report_replies"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="reports.id", index=True)
    staff: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    closing: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None
    failure: str | None = None


class ReportDraft(SQLModel, table=True):
    __tablename__ = "report_drafts"

    oa_id: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True)
    state: str = Field(default="{}", sa_column=Column(Text, nullable=False))


# --- Staff accounts (app.storage.staff) -----------------------------------------------------------


class StaffAccount(SQLModel, table=True):
    __tablename__ = "staff_accounts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    password_hash: str
    role: str
    """`admin`, `staff` or `province` (app.staff.Role)."""
    ward: str | None = Field(default=None, index=True)
    """The ward's slug (app.wards); None for a province admin, and for the accounts of a
    one-ward deployment made before wards existed (they belong to that one ward)."""
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class StaffSession(SQLModel, table=True):
    """A console login. Only a digest of the cookie's token is stored."""

    __tablename__ = "staff_sessions"

    token_digest: str = Field(primary_key=True)
    staff_id: int = Field(foreign_key="staff_accounts.id", index=True)
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class LoginAttempt(SQLModel, table=True):
    """Password checks per username (a successful login clears them), counted for the
    lockout: each is written before its password is checked."""

    __tablename__ = "staff_login_failures"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True)
    at: datetime = Field(default_factory=utcnow, index=True)


class LoginGate(SQLModel, table=True):
    """One row per username tried: its lock serialises the attempts on that username, across
    every process sharing the database (see `take_login_attempt`)."""

    __tablename__ = "staff_login_gates"

    username: str = Field(primary_key=True)
    touched_at: datetime


# --- The Zalo connection (app.storage.tokens, .connection, .oauth) --------------------------------


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


class ZaloOAuthRequest(SQLModel, table=True):
    __tablename__ = "zalo_oauth_requests"

    state: str = Field(primary_key=True)
    oa_id: str
    code_verifier: str
    redirect_uri: str
    created_at: datetime = Field(default_factory=utcnow)


# --- The catalogue's versions (app.storage.catalogue) ---------------------------------------------


class CatalogueText(SQLModel, table=True):
    """One document's text, stored once however many versions hold it."""

    __tablename__ = "catalogue_texts"

    sha256: str = Field(primary_key=True)
    """Of the text itself (UTF-8), not of the compressed bytes."""
    compressed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """zlib of the UTF-8 text: procedures.yaml with the portal's records is ~0.9 MB, ~0.1 MB
    compressed, and every console edit stores a new one."""


class CatalogueVersion(SQLModel, table=True):
    """A saved catalogue: who, when, why, and what changed against the version before."""

    __tablename__ = "catalogue_versions"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    content_hash: str
    """app.catalogue.documents.documents_hash of every document of the version."""
    author: str
    origin: str
    """How it was made (app.catalogue_store.Origin): seed, file, import, console, rollback."""
    reason: str
    restored_from: int | None = None
    """For a rollback: the version whose documents it restored."""
    changed: str = ""
    """The documents that differ from the version before, comma-separated."""
    lines_added: int = 0
    lines_removed: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class CatalogueDocument(SQLModel, table=True):
    __tablename__ = "catalogue_documents"

    version: int = Field(foreign_key="catalogue_versions.version", primary_key=True)
    name: str = Field(primary_key=True)
    """The path relative to the content root: procedures.yaml, intents/intents.yaml, ..."""
    sha256: str = Field(foreign_key="catalogue_texts.sha256")


class CatalogueFileSync(SQLModel, table=True):
    """What a set of files on one host last held when it was imported or exported.

    The file watch compares the files with it to tell "the files changed since" (import them)
    from "the database moved on since" (serve the database, leave the files alone).
    """

    __tablename__ = "catalogue_file_syncs"

    location: str = Field(primary_key=True)
    """host:/absolute/path/of/procedures.yaml"""
    content_hash: str
    version: int | None = None
    synced_at: datetime = Field(default_factory=utcnow)


# --- Dossiers residents follow (app.storage.dossiers) ---------------------------------------------


class Dossier(SQLModel, table=True):
    __tablename__ = "dossiers"
    __table_args__ = (
        # The console's list per ward (newest first), and a code looked up across wards.
        Index("ix_dossiers_oa_updated", "oa_id", "updated_at"),
        Index("ix_dossiers_code", "code"),
    )

    oa_id: str = Field(primary_key=True)
    code: str = Field(primary_key=True)
    state: str | None = None
    """app.dossiers.status.DossierState; None while nothing is known."""
    missing: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The papers still needed (state `needs_papers`)."""
    pickup_date: date | None = None
    procedure_code: str | None = None
    updated_by: str | None = None
    """The staff member who entered the status, or `provider` (the province's system)."""
    updated_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)


class DossierFollower(SQLModel, table=True):
    """A resident told on Zalo when the dossier's status changes."""

    __tablename__ = "dossier_followers"

    oa_id: str = Field(primary_key=True)
    code: str = Field(primary_key=True)
    user_id: str = Field(primary_key=True, index=True)
    followed_at: datetime = Field(default_factory=utcnow)
    last_delivery_id: int | None = None
    """The announcement delivery (app.storage.announcements) of the last status notice."""


# --- Service ratings (app.storage.ratings) --------------------------------------------------------


class ServiceRating(SQLModel, table=True):
    __tablename__ = "service_ratings"
    __table_args__ = (
        UniqueConstraint("oa_id", "user_id", "subject_kind", "subject_ref", name="uq_rating_once"),
        Index("ix_service_ratings_oa_rated", "oa_id", "rated_at"),  # the console, per ward
    )

    id: int | None = Field(default=None, primary_key=True)
    oa_id: str = Field(index=True)
    user_id: str = Field(index=True)
    subject_kind: str
    """app.ratings.service.SubjectKind: visit or dossier."""
    subject_ref: str
    """The booking code (LH-…) or the dossier code."""
    procedure_code: str | None = None
    procedure_name: str | None = None
    counter: str | None = None
    requested_at: datetime = Field(default_factory=utcnow)
    asked_at: datetime | None = None
    """None while the question waits for the resident's next message (outside Zalo's window)."""
    score: int | None = None
    rated_at: datetime | None = Field(default=None, index=True)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    comment_until: datetime | None = None
    """The resident's next message until then is their comment."""


# --- Operations -----------------------------------------------------------------------------------


class Heartbeat(SQLModel, table=True):
    """A row /readyz writes: proof that the database takes writes (app.storage.database)."""

    __tablename__ = "heartbeats"

    name: str = Field(primary_key=True)
    at: datetime = Field(default_factory=utcnow)


# --- The app's Zalo request budget (app.storage.budget) ------------------------------------------


class AppRateBudget(SQLModel, table=True):
    """The Zalo app's request budget shared by every process: one token bucket per app
    (app.storage.budget stores it, app.zalo.budget spends it). Times are Unix seconds, which
    keeps the refill arithmetic the same on SQLite and PostgreSQL."""

    __tablename__ = "app_rate_budgets"

    app_key: str = Field(primary_key=True)
    tokens: float
    """Requests that may be made now (at most the bucket's capacity)."""
    refilled_at: float
    """When `tokens` was last brought up to date."""
    backoff_until: float = 0.0
    """After Zalo's -32: nobody sends before this moment."""
    backoff_seconds: float = 0.0
    """Length of the latest back-off, doubled when -32 comes again soon after it."""
    rate_limited: int = 0
    """-32 answers received so far, by every process."""


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


metadata: MetaData = SQLModel.metadata
"""The schema as the code declares it: every table above, whatever else was imported."""
