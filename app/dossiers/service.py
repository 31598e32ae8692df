"""The dossiers use case: answer residents about their dossiers, record status changes (from
staff or the province's system) and tell the followers.

A follower's notice is a personal announcement (app.storage.announcements
`create_personal_notice`): the announcement worker sends it through the outbox, and outside
Zalo's 7-day window it waits for the resident's next message like any announcement. When the
result is picked up, followers are not told (they were at the counter) but asked to rate the
service (app.ratings).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.catalogue.dossier_profile import DossierLookup
from app.catalogue.models import WardProfile
from app.dialogue.reply import Reply
from app.dossiers.dialogue import (
    LOOKUP_TITLE,
    Ask,
    change_notice,
    followed_reply,
    how_to_reply,
    lookup_reply,
    read_request,
    unfollowed_reply,
)
from app.dossiers.status import DossierState, DossierStatus, DossierStatusProvider
from app.ratings.service import Ratings, Resident, Subject, SubjectKind
from app.storage.announcements import create_personal_notice
from app.storage.database import Database
from app.storage.dossiers import (
    follow,
    followed_codes,
    follower_ids,
    get_dossier,
    is_following,
    oa_ids_following,
    save_status,
    set_last_delivery,
    unfollow,
)
from app.storage.tables import Dossier

log = logging.getLogger(__name__)

PROVIDER = "provider"
"""`Dossier.updated_by` of a status read from the province's system."""


@dataclass(frozen=True)
class Recorded:
    changed: bool
    told: int
    """Followers sent a notice (or, once picked up, asked to rate)."""


def status_of(row: Dossier | None) -> DossierStatus | None:
    if row is None or row.state is None:
        return None
    return DossierStatus(
        DossierState(row.state), row.missing, row.pickup_date, procedure_code=row.procedure_code
    )


class DossierDesk:
    def __init__(
        self,
        db: Database,
        ward_of: Callable[[str], WardProfile],
        *,
        provider: DossierStatusProvider | None = None,
        ratings: Ratings | None = None,
        wake_announcer: Callable[[], None] = lambda: None,
        procedure_name: Callable[[str], str | None] = lambda code: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.ward_of = ward_of
        """The ward profile of an OA (one profile per OA: issue 15)."""
        self.provider = provider
        self.ratings = ratings
        self.wake_announcer = wake_announcer
        self.procedure_name = procedure_name
        self.clock = clock
        """What `now` is for staff changes and the poll (tests move it by hand)."""
        self._just_followed: dict[tuple[str, str], str] = {}
        """(oa_id, user_id) -> the code followed by the message being handled: with a provider,
        its status is read at once after the reply (`after_message`)."""

    def lookup_of(self, oa_id: str) -> DossierLookup | None:
        return self.ward_of(oa_id).dossiers

    def recognises(self, oa_id: str, text: str) -> bool:
        lookup = self.lookup_of(oa_id)
        return lookup is not None and read_request(text, lookup) is not None

    # Residents -------------------------------------------------------------------------------

    def answer(self, oa_id: str, user_id: str, text: str, now: datetime) -> Reply | None:
        """The reply to a message about a dossier, or None when it is not about one."""
        lookup = self.lookup_of(oa_id)
        request = read_request(text, lookup) if lookup is not None else None
        if lookup is None or request is None:
            return None
        if request.ask is Ask.how_to or request.code is None:
            return how_to_reply(lookup)
        code = request.code
        log.info("dossier asked", extra={"ask": request.ask.value})
        if request.ask is Ask.follow:
            if follow(self.db, oa_id, code, user_id, now) and self.provider is not None:
                self._just_followed[(oa_id, user_id)] = code
            return followed_reply(code, lookup, status_of(get_dossier(self.db, oa_id, code)))
        if request.ask is Ask.unfollow:
            return unfollowed_reply(code, unfollow(self.db, oa_id, code, user_id))
        return lookup_reply(
            code,
            lookup,
            status_of(get_dossier(self.db, oa_id, code)),
            following=is_following(self.db, oa_id, code, user_id),
        )

    # Status changes --------------------------------------------------------------------------

    async def record(
        self, oa_id: str, code: str, status: DossierStatus, *, by: str, now: datetime
    ) -> Recorded:
        """Store a status; when it changed, tell every follower. Idempotent for a same status."""
        before = status_of(get_dossier(self.db, oa_id, code))
        if before is not None and _same(before, status):
            return Recorded(changed=False, told=0)
        save_status(
            self.db,
            oa_id,
            code,
            state=status.state,
            missing=status.missing,
            pickup_date=status.pickup_date,
            procedure_code=status.procedure_code,
            updated_by=by,
            now=now,
        )
        log.info("dossier status changed", extra={"state": status.state.value, "by": by})
        told = 0
        if status.state is DossierState.picked_up:
            told = await self._ask_ratings(oa_id, code, status, now)
        else:
            told = self._notify(oa_id, code, status, now)
        return Recorded(changed=True, told=told)

    def _notify(self, oa_id: str, code: str, status: DossierStatus, now: datetime) -> int:
        lookup = self.lookup_of(oa_id)
        users = follower_ids(self.db, oa_id, code)
        for user_id in users:
            delivery_id = create_personal_notice(
                self.db,
                oa_id,
                user_id,
                change_notice(code, status),
                now,
                link_url=lookup.link_for(code) if lookup is not None else None,
                link_title=LOOKUP_TITLE if lookup is not None else None,
                created_by=f"dossier:{code}",
            )
            set_last_delivery(self.db, oa_id, code, user_id, delivery_id)
        if users:
            self.wake_announcer()
        return len(users)

    async def _ask_ratings(
        self, oa_id: str, code: str, status: DossierStatus, now: datetime
    ) -> int:
        if self.ratings is None:
            return 0
        row = get_dossier(self.db, oa_id, code)
        procedure = status.procedure_code or (row.procedure_code if row else None)
        subject = Subject(
            SubjectKind.dossier,
            code,
            procedure_code=procedure,
            procedure_name=self.procedure_name(procedure) if procedure else None,
        )
        users = follower_ids(self.db, oa_id, code)
        for user_id in users:
            await self.ratings.request_rating(Resident(oa_id, user_id), subject, now)
        return len(users)

    async def poll(self, now: datetime) -> int:
        """Ask the province's system about every followed dossier not yet picked up; returns
        how many changed. One code's failure is logged and does not stop the others."""
        if self.provider is None:
            return 0
        changed = 0
        for oa_id in oa_ids_following(self.db):
            for code in followed_codes(self.db, oa_id, skip_state=DossierState.picked_up):
                try:
                    status = await self.provider.status(code)
                except Exception:
                    log.exception("dossier status provider failed")
                    continue
                if status is None:
                    continue
                if (await self.record(oa_id, code, status, by=PROVIDER, now=now)).changed:
                    changed += 1
        return changed

    async def after_message(self, oa_id: str, user_id: str, now: datetime) -> None:
        """A dossier just followed is read from the province's system at once (a change is
        told like any other). Deferred notices go out with the deferred announcements."""
        code = self._just_followed.pop((oa_id, user_id), None)
        if code is None or self.provider is None:
            return
        try:
            status = await self.provider.status(code)
            if status is not None:
                await self.record(oa_id, code, status, by=PROVIDER, now=now)
        except Exception:
            log.exception("dossier status provider failed")


def _same(a: DossierStatus, b: DossierStatus) -> bool:
    return (a.state, a.missing or None, a.pickup_date) == (
        b.state,
        b.missing or None,
        b.pickup_date,
    )
