"""The inbox use case: handle one recorded webhook event from start to finish.

Zalo POST -> webhooks (verify, record, queue, 200) -> Inbox.handle: claim the event once,
throttle (app.throttle decides; a "slow down" goes through the outbox like any reply), decide
with the dialogue and record the replies in the outbox (one transaction), then send them
through the outbox, which records each part's outcome.

An event handled again (its process died, or could not record the outcome, and the claim was
released) is not decided again: the replies recorded the first time are finished instead,
only their parts that did not go out (app.outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from app.announcements.service import ResidentAnnouncements
from app.booking.dialogue import parse as parse_booking
from app.booking.service import ResidentBookings
from app.catalogue import Procedure
from app.dialogue.conversation import ConversationState, Dialogue, Turn
from app.dialogue.reply import Reply
from app.knowledge import Knowledge
from app.messages import InboundMessage, MessageKind
from app.outbox import Outbox
from app.reports.service import ResidentReports, StaffAnswer
from app.storage.conversations import load_conversation, save_conversation
from app.storage.database import Database
from app.storage.events import claim_event, finish_event, message_of
from app.storage.followers import mark_followed, mark_unfollowed, touch_interaction
from app.storage.questions import record_procedure_ask, record_unanswered
from app.storage.tables import EventStatus, InboundEvent, OutboundPurpose
from app.throttle import SLOW_DOWN, ResidentThrottle, Verdict

log = logging.getLogger(__name__)

NON_TEXT_REPLY = Reply(
    "Dạ, hiện em chỉ đọc được tin nhắn chữ ạ. Anh/chị vui lòng nhắn tên thủ tục cần hỏi, "
    'ví dụ: "làm giấy khai sinh", "chứng thực bản sao".'
)


REPORT_ATTACHMENTS = {MessageKind.image, MessageKind.location}
"""Media a resident may add to a report; other media still get NON_TEXT_REPLY."""


def _now() -> datetime:
    return datetime.now(UTC)


class ChatFeature(Protocol):
    """A feature that may answer a text before the procedure matcher (dossiers, ratings)."""

    def answer(self, oa_id: str, user_id: str, text: str, now: datetime) -> Reply | None: ...

    async def after_message(self, oa_id: str, user_id: str, now: datetime) -> None:
        """After the resident's reply went out (Zalo's window is open); never raises."""
        ...


@dataclass(frozen=True)
class InboxPolicy:
    staff_takeover: timedelta = timedelta(minutes=60)
    max_message_chars: int = 4000
    """Longer texts are cut before matching: nobody asks a question in a novel."""


class Inbox:
    def __init__(
        self,
        db: Database,
        knowledge: Knowledge,
        outbox: Outbox,
        *,
        answers_oa: Callable[[str], bool] | None = None,
        policy: InboxPolicy = InboxPolicy(),
        clock: Callable[[], datetime] = _now,
        announcements: ResidentAnnouncements | None = None,
        observe_turn: Callable[[str], None] | None = None,
        reports: ResidentReports | None = None,
        features: Sequence[ChatFeature] = (),
        bookings: ResidentBookings | None = None,
        throttle: ResidentThrottle | None = None,
    ) -> None:
        self.db = db
        self.knowledge = knowledge
        self.outbox = outbox
        self.answers_oa: Callable[[str], bool] = answers_oa or (
            lambda oa_id: knowledge.current.ward_of(oa_id) is not None
        )
        """Whether events of this OA are answered: a ward claims it (default)."""
        self.policy = policy
        self.clock = clock
        self.announcements = announcements
        self.reports = reports
        self.features = tuple(features)
        """Asked in order, before reports and the matcher; the first answer wins."""
        self.bookings = bookings
        self.throttle = throttle
        """Per-resident flood limit; None: every message is answered."""
        self.observe_turn = observe_turn
        """Told each turn's kind (metrics: match outcomes)."""

    async def handle(self, event_id: int) -> None:
        event = claim_event(self.db, event_id)
        if event is None:
            return  # already handled, or another worker has it
        await self.handle_claimed(event)

    async def handle_claimed(self, event: InboundEvent) -> None:
        """Answer an event this process has claimed, and record how it ended."""
        event_id = event.id
        assert event_id is not None
        error: str | None = None
        try:
            recorded = self.outbox.recorded_for_event(event_id)
            if recorded:
                # Decided before (this is a second try): finish sending what was decided.
                await self.outbox.deliver(recorded, now=self.clock())
                status = EventStatus.done
            elif (verdict := self._verdict(event)) is not Verdict.answer:
                if verdict is Verdict.slow_down:
                    await self._slow_down(event)
                status, error = EventStatus.ignored, "throttled"
            else:
                status = await self._dispatch(event, message_of(event))
        except Exception as exc:
            finish_event(self.db, event_id, EventStatus.failed, error=type(exc).__name__)
            log.exception("event failed", extra={"event_id": event_id, "event": event.event_name})
            return
        finish_event(self.db, event_id, status, error=error)
        log.info(
            "event handled",
            extra={"event_id": event_id, "event": event.event_name, "status": status.value},
        )

    def _verdict(self, event: InboundEvent) -> Verdict:
        if self.throttle is None or not self.answers_oa(event.oa_id):
            return Verdict.answer  # another OA's events are recorded, never answered
        return self.throttle.verdict(event)

    async def _slow_down(self, event: InboundEvent) -> None:
        assert event.user_id is not None  # the throttle counts residents' messages only
        now = self.clock()
        messages = self.outbox.record(
            event.oa_id,
            event.user_id,
            (SLOW_DOWN,),
            now=now,
            purpose=OutboundPurpose.slow_down,
            inbound_event_id=event.id,
        )
        await self.outbox.deliver(messages, now=now)

    async def _dispatch(self, event: InboundEvent, message: InboundMessage) -> EventStatus:
        user_id, now = event.user_id, self.clock()
        if user_id is None:
            return EventStatus.ignored
        snapshot = self.knowledge.current
        ward = snapshot.ward_of(event.oa_id)
        if ward is None:
            # An OA no ward claims (the app's webhook serves every OA that authorised it):
            # recorded, never answered.
            log.info(
                "event of an OA no ward claims",
                extra={"event_id": event.id, "event": event.event_name},
            )
            return EventStatus.ignored
        dialogue = snapshot.dialogue_for(ward)
        match message.kind:
            case MessageKind.text:
                await self._answer_text(event, user_id, message.text or "", now, dialogue)
            case MessageKind.image | MessageKind.location | MessageKind.media:
                await self._answer_media(event, user_id, message, now)
            case MessageKind.follow:
                with self.db.unit():
                    mark_followed(self.db, event.oa_id, user_id, now)
                    messages = self._record(event, user_id, (dialogue.welcome(),), now)
                await self.outbox.deliver(messages, now=now)
            case MessageKind.unfollow:
                mark_unfollowed(self.db, event.oa_id, user_id, now)
            case MessageKind.echo:
                return self._echo(event, user_id, message, now, dialogue)
            case MessageKind.chatnow:
                touch_interaction(self.db, event.oa_id, user_id, now)
            case _:
                return EventStatus.ignored
        return EventStatus.done

    async def _answer_media(
        self, event: InboundEvent, user_id: str, message: InboundMessage, now: datetime
    ) -> None:
        """A picture or a place may belong to a report; other media are not read."""
        with self.db.unit():
            touch_interaction(self.db, event.oa_id, user_id, now)
            reply = NON_TEXT_REPLY
            if self.reports is not None and message.kind in REPORT_ATTACHMENTS:
                reply = self.reports.attachment(event.oa_id, user_id, message, now)
            messages = self._record(event, user_id, (reply,), now)
        await self._send(messages, self._staff_answers(event, user_id, now), now)

    def _echo(
        self,
        event: InboundEvent,
        user_id: str,
        message: InboundMessage,
        now: datetime,
        dialogue: Dialogue,
    ) -> EventStatus:
        """Our own messages come back as echoes; one typed by a staff member means a takeover."""
        if not message.admin_id:
            return EventStatus.ignored
        state = ConversationState.from_json(load_conversation(self.db, event.oa_id, user_id))
        state = dialogue.staff_replied(state, now, self.policy.staff_takeover)
        save_conversation(self.db, event.oa_id, user_id, state.to_json())
        log.info("staff takeover", extra={"event_id": event.id, "user_id": user_id})
        return EventStatus.done

    async def _answer_text(
        self, event: InboundEvent, user_id: str, text: str, now: datetime, dialogue: Dialogue
    ) -> None:
        # A booking writes in transactions of its own (the database decides who gets the last
        # place), before the unit.
        booking_reply = self._booking_reply(event, user_id, text, now, dialogue)
        # Everything decided and stored in one transaction (one flush to disk, not five);
        # the sends, which wait on the network, come after it.
        replies: tuple[Reply, ...]
        with self.db.unit():
            if booking_reply is not None:
                replies, reports_follow_up = (booking_reply,), True
            else:
                replies, reports_follow_up = self._decide_text(event, user_id, text, now, dialogue)
            # Last: from its first write the unit holds SQLite's write lock, which the webhook
            # needs too, and deciding (matching the text) is the slow part.
            messages = self._record(event, user_id, replies, now)
            touch_interaction(self.db, event.oa_id, user_id, now)
        staff_answers = self._staff_answers(event, user_id, now) if reports_follow_up else []
        await self._send(messages, staff_answers, now)
        for feature in self.features:
            await feature.after_message(event.oa_id, user_id, now)
        if self.announcements is not None:
            # Deferred announcements follow the resident's own answer; this never raises.
            await self.announcements.after_message(event.oa_id, user_id, now)

    def _booking_reply(
        self, event: InboundEvent, user_id: str, text: str, now: datetime, dialogue: Dialogue
    ) -> Reply | None:
        """The answer to a booking message ("đặt lịch", its buttons, "lịch hẹn của tôi"...),
        with the procedures of the event's ward (`dialogue` is that ward's)."""
        text = text[: self.policy.max_message_chars]
        if self.bookings is None or parse_booking(text) is None:
            return None
        catalogue = dialogue.catalogue
        matcher = dialogue.matcher
        state = ConversationState.from_json(load_conversation(self.db, event.oa_id, user_id))
        recent = state.updated_at is not None and now - state.updated_at <= dialogue.state_ttl

        def find_procedure(words: str) -> Procedure | None:
            code = matcher.lookup_name(words)
            if code is None:
                result = matcher.match(words)
                code = result.id if result.kind == "procedure" else None
                named = [c for c in result.alternatives if c.kind == "procedure"]
                if result.kind == "clarify" and len(named) == 1:
                    code = named[0].id  # one procedure in sight: booking asks again anyway
            return catalogue.procedure(code) if code else None

        reply = self.bookings.answer(
            event.oa_id,
            user_id,
            text,
            now,
            catalogue=catalogue,
            find_procedure=find_procedure,
            last_procedure=state.last_procedure if recent else None,
            event_id=event.id,
        )
        if reply is not None:
            log.info("booking message answered", extra={"event_id": event.id})
        return reply

    def _decide_text(
        self, event: InboundEvent, user_id: str, text: str, now: datetime, dialogue: Dialogue
    ) -> tuple[tuple[Reply, ...], bool]:
        """The replies to a text, with what it changes stored; and whether staff answers to
        the resident's reports may follow (not after a group command)."""
        text = text[: self.policy.max_message_chars]
        for feature in self.features:
            feature_reply = feature.answer(event.oa_id, user_id, text, now)
            if feature_reply is not None:
                return (feature_reply,), True
        if self.reports is not None:
            # A report ("phản ánh: ...", its details, "tra cứu PA-0042", a rating).
            report_reply = self.reports.answer(event.oa_id, user_id, text, now)
            if report_reply is not None:
                return (report_reply,), True
        if self.announcements is not None:
            # A group command ("đăng ký tổ 5") is answered instead of the dialogue.
            group_reply = self.announcements.answer(event.oa_id, user_id, text, now)
            if group_reply is not None:
                return (group_reply,), False
        state = ConversationState.from_json(load_conversation(self.db, event.oa_id, user_id))
        turn = dialogue.respond(text, state, now)
        if self.observe_turn is not None:
            self.observe_turn(turn.kind)
        save_conversation(self.db, event.oa_id, user_id, turn.state.to_json())
        if turn.kind in ("procedure", "detail") and turn.id:
            record_procedure_ask(self.db, event.oa_id, turn.id, now)  # the dashboard's top list
        if turn.unanswered:
            self._record_unanswered(event.oa_id, user_id, text, turn)
        log.info(
            "message answered",
            extra={"event_id": event.id, "turn": turn.kind, "match_id": turn.id},
        )
        return tuple(turn.replies), True

    def _record_unanswered(self, oa_id: str, user_id: str, text: str, turn: Turn) -> None:
        candidates = [
            {"kind": c.kind, "id": c.id, "score": round(c.score, 1)} for c in turn.alternatives
        ]
        record_unanswered(
            self.db, oa_id=oa_id, user_id=user_id, text=text, kind=turn.kind, candidates=candidates
        )

    def _staff_answers(self, event: InboundEvent, user_id: str, now: datetime) -> list[StaffAnswer]:
        """Staff answers to the resident's reports that waited for them to write, recorded in
        the outbox (a transaction of their own: a failure here must not cost the resident
        the answer already decided)."""
        if self.reports is None:
            return []
        try:
            return self.reports.record_waiting(event.oa_id, user_id, now)
        except Exception:
            log.exception("deferred report replies failed", extra={"event_id": event.id})
            return []

    async def _send(
        self, messages: Sequence[int], staff_answers: Sequence[StaffAnswer], now: datetime
    ) -> None:
        """The send step: the resident's answer first, then the staff answers that waited."""
        await self.outbox.deliver(messages, now=now)
        if staff_answers and self.reports is not None:
            await self.reports.deliver(staff_answers, now)

    def _record(
        self, event: InboundEvent, user_id: str, replies: Sequence[Reply], now: datetime
    ) -> list[int]:
        """The replies as the outbox's intent, in the decision's transaction."""
        return self.outbox.record(event.oa_id, user_id, replies, now=now, inbound_event_id=event.id)
