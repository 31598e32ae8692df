"""The reports use case: what the inbox does with a resident's report messages, and how a
staff member's answer reaches the resident (now inside Zalo's 7-day window, else deferred
until the resident writes again)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.dialogue.reply import Reply
from app.messages import InboundMessage, MessageKind
from app.outbox import Outbox
from app.reports.dialogue import (
    NOTHING_TO_ATTACH,
    Draft,
    Rating,
    Status,
    Step,
    closed_reply,
    filed_reply,
    is_lookup,
    on_image,
    on_location,
    on_text,
    parse_code,
    parse_rating,
    report_code,
    staff_answer,
    status_reply,
    thanks_for_rating,
)
from app.storage.database import Database, as_utc
from app.storage.reports import (
    add_reply,
    awaiting_rating,
    create_report,
    get_report,
    load_draft,
    mark_reply,
    replies_of,
    save_draft,
    update_report,
    waiting_replies,
)
from app.storage.tables import OutboundPurpose, Report, ReportReply

log = logging.getLogger(__name__)

CONSULTATION_WINDOW = timedelta(days=7)
"""Zalo lets an OA answer a resident freely for 7 days after the resident's last message."""

HELD = "held"
"""`ReportReply.failure` of an answer waiting for the Zalo connection (the outbox sends it)."""


class ReportNotFound(LookupError):
    pass


@dataclass(frozen=True)
class StaffAnswer:
    """A staff answer recorded in the outbox, waiting for its send step."""

    report_id: int
    reply_id: int
    message_id: int


@dataclass(frozen=True)
class ReplyOutcome:
    delivered: bool
    deferred: bool
    failure: str | None = None
    """Why it was not delivered; `HELD` when it goes out by itself once Zalo is back."""

    @property
    def held(self) -> bool:
        return self.failure == HELD


class ResidentReports:
    def __init__(self, db: Database, outbox: Outbox) -> None:
        self.db = db
        self.outbox = outbox

    # Resident side ---------------------------------------------------------------------------

    def answer(self, oa_id: str, user_id: str, text: str, now: datetime) -> Reply | None:
        """The reply to a report message (start, details, lookup, rating), or None."""
        if is_lookup(text):
            return self._lookup(oa_id, user_id, text)
        rated = parse_rating(text)
        if rated is not None:
            reply = self._rate(oa_id, user_id, rated[0], rated[1])
            if reply is not None:
                return reply
        draft = Draft.from_json(load_draft(self.db, oa_id, user_id))
        step = on_text(text, draft, now)
        return None if step is None else self._apply(oa_id, user_id, step)

    def attachment(self, oa_id: str, user_id: str, message: InboundMessage, now: datetime) -> Reply:
        """A picture or a place the resident sent, added to their report draft."""
        draft = Draft.from_json(load_draft(self.db, oa_id, user_id))
        if message.kind is MessageKind.location:
            found = message.coordinates
            if found is None:
                return NOTHING_TO_ATTACH
            step = on_location(found[0], found[1], None, draft, now)
        elif message.kind is MessageKind.image:
            step = on_image(message.image_url, draft, now)
        else:
            return NOTHING_TO_ATTACH
        return self._apply(oa_id, user_id, step) or NOTHING_TO_ATTACH

    def _apply(self, oa_id: str, user_id: str, step: Step) -> Reply | None:
        if not step.file or step.draft is None:
            save_draft(self.db, oa_id, user_id, step.draft.to_json() if step.draft else None)
            return step.reply
        draft = step.draft
        report = create_report(
            self.db,
            Report(
                oa_id=oa_id,
                user_id=user_id,
                what=draft.what or "",
                location=draft.where,
                latitude=draft.latitude,
                longitude=draft.longitude,
                image_url=draft.image_url,
            ),
        )
        save_draft(self.db, oa_id, user_id, None)
        assert report.id is not None
        log.info("report filed", extra={"report_id": report.id})
        return filed_reply(report_code(report.id))

    def _lookup(self, oa_id: str, user_id: str, text: str) -> Reply:
        number = parse_code(text) or 0
        code = report_code(number)
        report = get_report(self.db, number)
        # Residents see only their own reports.
        if report is None or report.user_id != user_id or report.oa_id != oa_id:
            return status_reply(code, None, None)
        answers = [r.text for r in replies_of(self.db, number)]
        return status_reply(code, Status(report.status), answers[-1] if answers else None)

    def _rate(self, oa_id: str, user_id: str, rating: Rating, number: int | None) -> Reply | None:
        report = get_report(self.db, number) if number else awaiting_rating(self.db, oa_id, user_id)
        if (
            report is None
            or report.id is None
            or report.user_id != user_id
            or report.status != Status.closed
        ):
            return None
        update_report(self.db, report.id, rating=rating.value)
        log.info("report rated", extra={"report_id": report.id, "rating": rating.value})
        return thanks_for_rating(rating)

    def record_waiting(self, oa_id: str, user_id: str, now: datetime) -> list[StaffAnswer]:
        """The resident wrote (Zalo's window is open): staff answers that waited for it,
        handed to the outbox in one transaction (each recorded once), for `deliver`."""
        with self.db.unit():
            return [
                self._record(report, row, now)
                for report, row in waiting_replies(self.db, oa_id, user_id)
            ]

    async def deliver(self, answers: Sequence[StaffAnswer], now: datetime) -> None:
        """Send recorded staff answers, oldest first, each marked delivered or why not.
        Never raises: it must not cost the resident their own reply."""
        try:
            for answer in answers:
                await self._deliver(answer, now)
        except Exception:
            log.exception("deferred report replies failed")

    # Staff side ------------------------------------------------------------------------------

    def assign(self, report_id: int, assignee: str) -> None:
        report = get_report(self.db, report_id)
        if report is None:
            raise ReportNotFound(report_id)
        status = report.status if report.status != Status.new else Status.assigned
        update_report(self.db, report_id, assignee=assignee or None, status=status)

    async def reply(
        self,
        report_id: int,
        staff: str,
        text: str,
        *,
        close: bool,
        now: datetime,
        last_interaction: datetime | None,
    ) -> ReplyOutcome:
        """Record a staff answer (closing the report when asked) and send it if Zalo allows."""
        report = get_report(self.db, report_id)
        if report is None:
            raise ReportNotFound(report_id)
        last = as_utc(last_interaction)
        deferred = last is None or now - last > CONSULTATION_WINDOW
        # The answer, the report's new status and the outbox's intent: one transaction.
        with self.db.unit():
            row = add_reply(
                self.db, ReportReply(report_id=report_id, staff=staff, text=text, closing=close)
            )
            if close:
                update_report(self.db, report_id, status=Status.closed, closed_at=now)
            else:
                update_report(self.db, report_id, status=Status.answered)
            answer = None if deferred else self._record(report, row, now)
        if answer is None:
            log.info("report reply deferred", extra={"report_id": report_id})
            return ReplyOutcome(delivered=False, deferred=True)
        failure = await self._deliver(answer, now)
        return ReplyOutcome(delivered=failure is None, deferred=False, failure=failure)

    def _record(self, report: Report, row: ReportReply, now: datetime) -> StaffAnswer:
        """The staff answer as the outbox's intent: recorded and split once, the first time;
        sent again (after a refusal, or when the resident writes), only its parts that did
        not go out are sent."""
        assert report.id is not None and row.id is not None
        message_id = self.outbox.message_for_report_reply(row.id)
        if message_id is None:
            code = report_code(report.id)
            message = closed_reply(code, row.text) if row.closing else staff_answer(code, row.text)
            [message_id] = self.outbox.record(
                report.oa_id,
                report.user_id,
                (message,),
                now=now,
                purpose=OutboundPurpose.report_reply,
                report_reply_id=row.id,
            )
        return StaffAnswer(report.id, row.id, message_id)

    async def _deliver(self, answer: StaffAnswer, now: datetime) -> str | None:
        """Send a recorded staff answer; the reason it did not go out, or None."""
        result = await self.outbox.deliver([answer.message_id], now=now, retry_failed=True)
        if result.complete:
            mark_reply(self.db, answer.reply_id, now, None)
            log.info("report reply delivered", extra={"report_id": answer.report_id})
            return None
        failure = HELD if not result.failed else (result.error.reason if result.error else "failed")
        mark_reply(self.db, answer.reply_id, None, failure)
        log.warning(
            "report reply not delivered",
            extra={"report_id": answer.report_id, "reason": failure},
        )
        return failure

    def delivered_later(self, report_reply_id: int, at: datetime) -> None:
        """The outbox finished sending a held answer (app.outbox.held)."""
        mark_reply(self.db, report_reply_id, at, None)
