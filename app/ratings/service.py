"""The ratings use case: ask once per subject, take the score and an optional comment.

`Ratings.request_rating(resident, subject)` is what the rest of the service calls when a
visit is marked served (booking) or a dossier's result is picked up (app.dossiers). Inside
Zalo's 7-day window the question goes out at once through the outbox; outside it, it is
asked right after the bot answers the resident's next message (`after_message`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from app.dialogue.reply import Reply
from app.errors import ZaloRecipientError
from app.outbox import Outbox
from app.ratings.dialogue import (
    ALREADY_RATED,
    COMMENT_MAX_CHARS,
    COMMENT_TAKEN,
    NO_COMMENT,
    is_skip,
    question,
    read_score,
    thanks_for_score,
)
from app.storage.database import Database, as_utc
from app.storage.followers import get_follower
from app.storage.ratings import (
    add_request,
    asked_of,
    awaiting_comment,
    unasked,
    update_rating,
)
from app.storage.tables import ServiceRating

log = logging.getLogger(__name__)

CONSULTATION_WINDOW = timedelta(days=7) - timedelta(minutes=10)
"""Zalo's 7-day window, with the announcements' margin (announcements.delivery.DeliveryPolicy)."""
WINDOW_CODES = frozenset({-230, -232})
COMMENT_WAIT = timedelta(minutes=15)
"""How long after the score the resident's next message is taken as their comment."""


class SubjectKind(StrEnum):
    visit = "visit"
    """A booked visit to the one-stop centre (ref: the booking code, LH-…)."""
    dossier = "dossier"
    """A dossier whose result was picked up (ref: its code)."""


@dataclass(frozen=True)
class Resident:
    oa_id: str
    user_id: str


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    ref: str
    procedure_code: str | None = None
    procedure_name: str | None = None
    counter: str | None = None
    """The counter (quầy) that served the visit, when known."""


class RequestOutcome(StrEnum):
    asked = "asked"
    deferred = "deferred"
    """Outside Zalo's window (or refused for it): asked after the resident's next message."""
    already = "already"
    """This resident was asked about this subject before: not asked again."""
    failed = "failed"


def _lead(row: ServiceRating) -> str:
    name = f" {row.procedure_name}" if row.procedure_name else ""
    if row.subject_kind == SubjectKind.dossier:
        return f"Dạ, hồ sơ {row.subject_ref} của anh/chị đã được trả kết quả."
    return f"Dạ, cảm ơn anh/chị đã đến làm thủ tục{name} theo lịch hẹn {row.subject_ref}."


class Ratings:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.is_command: Callable[[str, str], bool] = lambda oa_id, text: False
        """(oa_id, text) -> whether a text is a command of another feature (a dossier code):
        such a message is never taken as a comment."""

    async def request_rating(
        self, resident: Resident, subject: Subject, now: datetime | None = None
    ) -> RequestOutcome:
        """Ask the resident to rate the subject, once; see the module docstring."""
        now = now or self.clock()
        row = add_request(
            self.db,
            ServiceRating(
                oa_id=resident.oa_id,
                user_id=resident.user_id,
                subject_kind=subject.kind,
                subject_ref=subject.ref,
                procedure_code=subject.procedure_code,
                procedure_name=subject.procedure_name,
                counter=subject.counter,
                requested_at=now,
            ),
        )
        if row is None:
            return RequestOutcome.already
        follower = get_follower(self.db, resident.oa_id, resident.user_id)
        last = as_utc(follower.last_interaction_at) if follower else None
        if last is None or now - last > CONSULTATION_WINDOW:
            log.info("rating deferred", extra={"rating_id": row.id})
            return RequestOutcome.deferred
        return await self._ask(row, now)

    async def _ask(self, row: ServiceRating, now: datetime) -> RequestOutcome:
        assert row.id is not None
        update_rating(self.db, row.id, asked_at=now)
        [message_id] = self.outbox.record(
            row.oa_id, row.user_id, (question(_lead(row), row.subject_ref),), now=now
        )
        result = await self.outbox.deliver([message_id], now=now)
        if result.complete:
            log.info("rating asked", extra={"rating_id": row.id})
            return RequestOutcome.asked
        if isinstance(result.error, ZaloRecipientError) and result.error.code in WINDOW_CODES:
            update_rating(self.db, row.id, asked_at=None)
            return RequestOutcome.deferred
        # Held (the connection is down) goes out by itself; a refusal for good is recorded
        # with the message (app.outbox).
        return RequestOutcome.asked if result.held else RequestOutcome.failed

    async def after_message(self, oa_id: str, user_id: str, now: datetime) -> None:
        """The resident wrote (the window is open): ask the oldest question that waited.
        Never raises."""
        try:
            waiting = unasked(self.db, oa_id, user_id)
            if waiting:
                await self._ask(waiting[0], now)
        except Exception:
            log.exception("deferred rating request failed", extra={"user_id": user_id})

    def answer(self, oa_id: str, user_id: str, text: str, now: datetime) -> Reply | None:
        """A score (a button of the question) or the comment after it; None otherwise."""
        scored = read_score(text)
        if scored is not None:
            asked = asked_of(self.db, oa_id, user_id)
            if not asked:
                return None
            if scored.ref is not None:
                ref = scored.ref.upper()
                matching = [r for r in asked if r.subject_ref.upper() == ref]
            else:
                matching = [r for r in asked if r.score is None]
            if not matching:
                return None  # not a question this resident was asked
            if matching[0].score is not None:
                return ALREADY_RATED
            row = matching[0]
            assert row.id is not None
            update_rating(
                self.db, row.id, score=scored.score, rated_at=now, comment_until=now + COMMENT_WAIT
            )
            log.info("service rated", extra={"rating_id": row.id, "score": scored.score})
            return thanks_for_score(scored.score)
        waiting = awaiting_comment(self.db, oa_id, user_id, now)
        if waiting is None or waiting.id is None:
            return None
        if is_skip(text):
            update_rating(self.db, waiting.id, comment_until=None)
            return NO_COMMENT
        if self.is_command(oa_id, text):
            return None
        update_rating(
            self.db, waiting.id, comment=text.strip()[:COMMENT_MAX_CHARS], comment_until=None
        )
        log.info("rating comment recorded", extra={"rating_id": waiting.id})
        return COMMENT_TAKEN
