"""The conversation policy: from a resident's text and their state, what to answer.

Pure and deterministic: the caller supplies the time and stores the returned state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from app.catalogue import Content, Procedure
from app.dialogue import cards, choosing, frames, fullview, intent_answers, specifics, texts
from app.dialogue.reply import Reply
from app.matching.aspects import Aspect, detect_aspects, is_followup_only
from app.matching.matcher import Matcher
from app.matching.normalize import normalize
from app.matching.result import Candidate, MatchResult

MAX_DETAILS_PER_REPLY = 2
FAILURES_BEFORE_HANDOFF = 2
HANDOFF_INTENT = "handoff"
MENU_INTENT = "menu"
CONTACT_INTENT = "contact"
OFFICE_HOURS_INTENT = "office_hours"
CATEGORY_PREFIX = "cat:"
CASE_PREFIX = "case:"
"""An option naming one situation of a procedure: `case:<code>:<index>`."""
FULL_VIEW = normalize(texts.FULL_CARD_TITLE)
PAGE_SUFFIX = re.compile(r"(?:(?P<name>.+) )?trang (?P<page>\d{1,3})")
"""The end of a "Xem tiếp" payload once normalised: "<name> trang <page>"."""

TurnKind = Literal[
    "procedure", "detail", "intent", "clarify", "none", "menu", "category", "handoff", "quiet"
]


@dataclass(frozen=True)
class ConversationState:
    """What the bot remembers about one resident between messages."""

    last_procedure: str | None = None
    options: tuple[str, ...] = ()
    """The numbered choices shown last: procedure codes, `cat:<id>` for categories, or
    `case:<code>:<index>` for a procedure's situations."""
    failures: int = 0
    """Consecutive messages the bot could not answer."""
    waiting_for_staff: bool = False
    quiet_until: datetime | None = None
    """A staff member answered in the OA chat tool: the bot stays quiet until then."""
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = list(self.options)
        for key in ("quiet_until", "updated_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConversationState:
        if not data:
            return cls()

        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if value else None

        return cls(
            last_procedure=data.get("last_procedure"),
            options=tuple(data.get("options") or ()),
            failures=int(data.get("failures") or 0),
            waiting_for_staff=bool(data.get("waiting_for_staff")),
            quiet_until=when("quiet_until"),
            updated_at=when("updated_at"),
        )


@dataclass(frozen=True)
class Turn:
    """The answer to one message: replies to send, the new state, and what happened."""

    replies: tuple[Reply, ...]
    state: ConversationState
    kind: TurnKind
    id: str | None = None
    score: float = 0.0
    alternatives: tuple[Candidate, ...] = field(default=())

    @property
    def unanswered(self) -> bool:
        """Worth an admin's look: the bot fell back or had to ask."""
        return self.kind in ("none", "clarify") or (self.kind == "handoff" and self.id is None)


class Dialogue:
    """Answers residents from one snapshot of the content; rebuilt when the catalogue reloads."""

    def __init__(
        self,
        content: Content,
        matcher: Matcher,
        *,
        state_ttl: timedelta = timedelta(minutes=30),
    ) -> None:
        self.content = content
        self.catalogue = content.catalogue
        self.matcher = matcher
        self.state_ttl = state_ttl
        self._categories = {
            normalize(name): category.id
            for category in self.catalogue.categories
            for name in (category.name, *category.aliases)
        }
        self._cases = {
            normalize(cards.case_payload(p, case)): (p.code, index)
            for p in self.catalogue.procedures
            if p.plain is not None
            for index, case in enumerate(p.plain.cases)
        }

    def welcome(self) -> Reply:
        return frames.welcome(self.catalogue)

    def staff_replied(
        self, state: ConversationState, now: datetime, quiet_for: timedelta
    ) -> ConversationState:
        """A human answered from the OA chat tool: stop the bot talking over them."""
        return replace(state, quiet_until=now + quiet_for, waiting_for_staff=False, updated_at=now)

    def respond(self, text: str, state: ConversationState, now: datetime) -> Turn:
        state = self._fresh(state, now)
        if state.quiet_until is not None and now < state.quiet_until:
            return Turn((), replace(state, updated_at=now), "quiet")

        turn = (
            self._numbered_choice(text, state)
            or self._full_view(text, state)
            or self._case_choice(text, state)
            or self._exact_name(text, state)
            or self._category(text, state)
            or self._followup(text, state)
            or self._matched(text, state, now)
        )
        return replace(turn, state=replace(turn.state, updated_at=now))

    # Each step returns a Turn when it applies, or None to let the next one try. -----------

    def _fresh(self, state: ConversationState, now: datetime) -> ConversationState:
        if state.updated_at is None or now - state.updated_at <= self.state_ttl:
            return state
        # Expired context: forget the topic, but keep a staff takeover that is still running.
        return ConversationState(quiet_until=state.quiet_until)

    def _numbered_choice(self, text: str, state: ConversationState) -> Turn | None:
        choice = text.strip().rstrip(".)")
        if not (state.options and choice.isdigit()):
            return None
        index = int(choice) - 1
        if not 0 <= index < len(state.options):
            return None
        option = state.options[index]
        if option.startswith(CATEGORY_PREFIX):
            return self._category_turn(option.removeprefix(CATEGORY_PREFIX), state)
        if option.startswith(CASE_PREFIX):
            code, _, case = option.removeprefix(CASE_PREFIX).rpartition(":")
            return self._case_turn(code, int(case), state)
        procedure = self.catalogue.procedure(option)
        return self._card_turn(procedure, state, score=100.0) if procedure else None

    def _full_view(self, text: str, state: ConversationState) -> Turn | None:
        """ "Xem đầy đủ: <name>" (the button), "Xem đầy đủ: <name> (trang 2)" ("Xem tiếp"), or
        "xem đầy đủ" about the procedure discussed."""
        folded = normalize(text)
        if not folded.startswith(FULL_VIEW):
            return None
        rest = folded.removeprefix(FULL_VIEW).strip()
        page = 1
        code = self.matcher.lookup_name(rest) if rest else state.last_procedure
        if code is None and (paged := PAGE_SUFFIX.fullmatch(rest)):
            name, page = paged["name"], int(paged["page"])
            code = self.matcher.lookup_name(name) if name else state.last_procedure
        procedure = self.catalogue.procedure(code) if code else None
        if procedure is None:
            return None
        return Turn(
            (fullview.full_view_page(procedure, self.catalogue, page),),
            replace(state, last_procedure=procedure.code, failures=0),
            "procedure",
            procedure.code,
            100.0,
        )

    def _case_choice(self, text: str, state: ConversationState) -> Turn | None:
        """A situation's button ("<short name>: <title>")."""
        chosen = self._cases.get(normalize(text))
        return self._case_turn(*chosen, state) if chosen else None

    def _exact_name(self, text: str, state: ConversationState) -> Turn | None:
        """A procedure's name as written (e.g. a button), alone or followed by a question
        about one detail only ("<official name> mất bao lâu")."""
        code = self.matcher.lookup_name(text)
        procedure = self.catalogue.procedure(code) if code else None
        if procedure is not None:
            return self._card_turn(procedure, state, score=100.0)
        words = normalize(text).split()
        for end in range(len(words) - 1, 0, -1):
            rest = " ".join(words[end:])
            if not is_followup_only(rest):
                continue
            code = self.matcher.lookup_name(" ".join(words[:end]))
            procedure = self.catalogue.procedure(code) if code else None
            if procedure is not None:
                return self._detail_turn(procedure, detect_aspects(rest), state, score=100.0)
        return None

    def _category(self, text: str, state: ConversationState) -> Turn | None:
        category_id = self._categories.get(normalize(text))
        return self._category_turn(category_id, state) if category_id else None

    def _followup(self, text: str, state: ConversationState) -> Turn | None:
        if state.last_procedure is None or not is_followup_only(text):
            return None
        procedure = self.catalogue.procedure(state.last_procedure)
        aspects = detect_aspects(text)
        if procedure is None or not aspects:
            return None
        return self._detail_turn(procedure, aspects, state, score=100.0)

    def _matched(self, text: str, state: ConversationState, now: datetime) -> Turn:
        result = self.matcher.match(text)
        if result.kind == "procedure" and result.id:
            procedure = self.catalogue.procedure(result.id)
            if procedure is not None:
                aspects = detect_aspects(text)
                if aspects:
                    return self._detail_turn(procedure, aspects, state, result.score, result)
                return self._card_turn(procedure, state, result.score, result)
        if result.kind == "clarify" and result.alternatives[:1]:
            first = result.alternatives[0]
            if first.kind == "intent":
                # Close to a procedure too: the intent's short answer first; the resident can
                # still name the procedure.
                result = replace(result, kind="intent", id=first.id)
        if result.kind == "intent" and result.id:
            return self._intent_turn(result, state, now)
        if result.kind == "clarify":
            options = [
                p
                for c in result.alternatives
                if c.kind == "procedure" and (p := self.catalogue.procedure(c.id)) is not None
            ][:4]
            if options:
                # One option is asked about too: a weak match shown as an answer would be a
                # confident mistake when it is wrong.
                return Turn(
                    (choosing.clarify(options),),
                    replace(state, options=tuple(p.code for p in options), failures=0),
                    "clarify",
                    None,
                    result.score,
                    result.alternatives,
                )
        return self._failed(result, state, now)

    # Turn builders -------------------------------------------------------------------------

    def _card_turn(
        self,
        procedure: Procedure,
        state: ConversationState,
        score: float,
        result: MatchResult | None = None,
    ) -> Turn:
        options = self._case_options(procedure, ("documents",))
        return Turn(
            (cards.procedure_summary(procedure, self.catalogue),),
            replace(state, last_procedure=procedure.code, options=options, failures=0),
            "procedure",
            procedure.code,
            score,
            result.alternatives if result else (),
        )

    def _detail_turn(
        self,
        procedure: Procedure,
        aspects: frozenset[Aspect],
        state: ConversationState,
        score: float,
        result: MatchResult | None = None,
    ) -> Turn:
        ordered = [a.value for a in Aspect if a in aspects][:MAX_DETAILS_PER_REPLY]
        replies = [cards.procedure_details(procedure, ordered, self.catalogue)]
        options = self._case_options(procedure, ordered)
        return Turn(
            tuple(replies),
            replace(state, last_procedure=procedure.code, options=options, failures=0),
            "detail",
            procedure.code,
            score,
            result.alternatives if result else (),
        )

    def _case_options(self, procedure: Procedure, aspects: Sequence[str]) -> tuple[str, ...]:
        cases = cards.offered_cases(procedure, aspects)
        return tuple(f"{CASE_PREFIX}{procedure.code}:{i}" for i in range(len(cases)))

    def _case_turn(self, code: str, index: int, state: ConversationState) -> Turn | None:
        procedure = self.catalogue.procedure(code)
        if procedure is None or procedure.plain is None:
            return None
        if not 0 <= index < len(procedure.plain.cases):
            return None
        return Turn(
            (cards.case_reply(procedure, index, self.catalogue),),
            replace(state, last_procedure=code, failures=0),
            "detail",
            code,
            100.0,
        )

    def _category_turn(self, category_id: str, state: ConversationState) -> Turn | None:
        category = self.catalogue.category(category_id)
        if category is None:
            return None
        procedures = self.catalogue.in_category(category_id)
        return Turn(
            (choosing.category_list(category, procedures),),
            replace(state, options=tuple(p.code for p in procedures), failures=0),
            "category",
            category_id,
            100.0,
        )

    def _intent_turn(self, result: MatchResult, state: ConversationState, now: datetime) -> Turn:
        intent_id = result.id or ""
        if intent_id == MENU_INTENT:
            options = tuple(CATEGORY_PREFIX + c.id for c in self.catalogue.categories)
            return Turn(
                (choosing.menu(self.catalogue),),
                replace(state, options=options, failures=0),
                "menu",
                intent_id,
                result.score,
                result.alternatives,
            )
        if intent_id == HANDOFF_INTENT:
            return self._handoff(state, now, result, apologise=False)
        intent = self.content.intents.get(intent_id)
        if intent is None:
            return self._failed(result, state, now)
        reply = self._specific_answer(intent_id, result.text, now) or intent_answers.intent_answer(
            intent, self.catalogue, now
        )
        return Turn(
            (reply,),
            replace(state, failures=0),
            "intent",
            intent_id,
            result.score,
            result.alternatives,
        )

    def _specific_answer(self, intent_id: str, text: str, now: datetime) -> Reply | None:
        """A field's phone, the address, the hours on a given day: more use than the whole list."""
        if intent_id == CONTACT_INTENT:
            return specifics.contact_reply(text, self.catalogue)
        if intent_id == OFFICE_HOURS_INTENT:
            return specifics.hours_reply(text, self.catalogue, now)
        return None

    def _failed(self, result: MatchResult, state: ConversationState, now: datetime) -> Turn:
        failures = state.failures + 1
        if failures >= FAILURES_BEFORE_HANDOFF:
            turn = self._handoff(state, now, result, apologise=True)
            return replace(turn, id=None)
        return Turn(
            (frames.fallback(self.catalogue),),
            replace(state, failures=failures, options=()),
            "none",
            None,
            result.score,
            result.alternatives,
        )

    def _handoff(
        self, state: ConversationState, now: datetime, result: MatchResult, *, apologise: bool
    ) -> Turn:
        category = None
        if state.last_procedure:
            procedure = self.catalogue.procedure(state.last_procedure)
            category = self.catalogue.category(procedure.category) if procedure else None
        reply = (
            frames.second_failure_handoff(self.catalogue, category, now)
            if apologise
            else frames.handoff(self.catalogue, category, now)
        )
        return Turn(
            (reply,),
            replace(state, waiting_for_staff=True, failures=0, options=()),
            "handoff",
            HANDOFF_INTENT,
            result.score,
            result.alternatives,
        )
