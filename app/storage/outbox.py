"""The outbox's queries: recording the intent, claiming, sending and settling parts, and
Zalo's echo (the held parts' queries are app.storage.held; the tables app.storage.tables).

A part moves pending|held -> sending -> sent | held | failed | pending. Every move out of
pending/held is a guarded UPDATE (`WHERE id = :id AND status IN (...)`) whose row count says
who won; every move out of sending names the claim token, so a process whose claim was taken
away (it looked dead) cannot overwrite the new owner's outcome. A claim older than the lease
may be taken over: the part is then *uncertain* (it may have reached Zalo) until Zalo's echo
settles it.

Every datetime is UTC; SQLite hands them back naive, so reads go through `as_utc`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, case, exists, func, literal, or_, update
from sqlalchemy import select as core_select
from sqlmodel import col, select

from app.messages import MessageKind
from app.storage.database import Database, as_utc, rowcount
from app.storage.tables import (
    DeliveryOutcome,
    InboundEvent,
    OutboundMessage,
    OutboundPart,
    OutboundPurpose,
    PartStatus,
)

UNSENT: Final = (PartStatus.pending, PartStatus.held, PartStatus.sending)
"""Parts that have not (knowingly) reached Zalo and are not given up."""

KEEP: Final = object()
"""`settle_part(..., uncertain_since=KEEP)`: leave the column as it is."""


@dataclass(frozen=True)
class NewPart:
    text: str
    buttons: str = "[]"


@dataclass(frozen=True)
class PartRow:
    """A part with what is needed to send it."""

    id: int
    message_id: int
    position: int
    oa_id: str
    user_id: str
    text: str
    buttons: str
    status: PartStatus
    zalo_message_id: str | None
    claim_token: str | None
    claimed_at: datetime | None
    uncertain_since: datetime | None


@dataclass(frozen=True)
class MessageRow:
    id: int
    oa_id: str
    user_id: str
    purpose: OutboundPurpose
    inbound_event_id: int | None
    report_reply_id: int | None
    created_at: datetime


# --- recording the intent ---------------------------------------------------------------------


def record_message(
    db: Database,
    *,
    oa_id: str,
    user_id: str,
    purpose: OutboundPurpose,
    text: str,
    buttons: str,
    parts: Sequence[NewPart],
    now: datetime,
    inbound_event_id: int | None = None,
    delivery_id: int | None = None,
    report_reply_id: int | None = None,
) -> int:
    """Store a message and its parts (positions 1..n), all pending; joins a `Database.unit`."""
    with db.session() as session:
        message = OutboundMessage(
            oa_id=oa_id,
            user_id=user_id,
            purpose=purpose.value,
            inbound_event_id=inbound_event_id,
            delivery_id=delivery_id,
            report_reply_id=report_reply_id,
            text=text,
            buttons=buttons,
            outcome=DeliveryOutcome.pending,
            created_at=now,
        )
        session.add(message)
        session.flush()
        assert message.id is not None
        session.add_all(
            OutboundPart(
                message_id=message.id,
                position=position,
                text=part.text,
                buttons=part.buttons,
                status=PartStatus.pending,
                updated_at=now,
            )
            for position, part in enumerate(parts, start=1)
        )
        session.commit()
        return message.id


def messages_for_event(db: Database, event_id: int) -> list[int]:
    """The messages recorded in answer to an inbound event, in order."""
    with db.session() as session:
        ids = session.exec(
            select(OutboundMessage.id)
            .where(OutboundMessage.inbound_event_id == event_id)
            .order_by(col(OutboundMessage.id))
        ).all()
        return [i for i in ids if i is not None]


def _open_message(column: Any, value: int) -> Any:
    unsent = exists().where(
        col(OutboundPart.message_id) == col(OutboundMessage.id),
        col(OutboundPart.status).in_(UNSENT),
    )
    return (
        select(OutboundMessage.id)
        .where(column == value)
        .where(unsent)
        .order_by(col(OutboundMessage.id).desc())
        .limit(1)
    )


def open_message_for_delivery(db: Database, delivery_id: int) -> int | None:
    """The announcement delivery's message that still has parts to send, if any."""
    with db.session() as session:
        found = session.exec(_open_message(col(OutboundMessage.delivery_id), delivery_id)).first()
        return int(found) if found is not None else None


def open_messages_for_deliveries(db: Database, delivery_ids: Sequence[int]) -> dict[int, int]:
    """`open_message_for_delivery` for a batch of deliveries in one query: {delivery: message}."""
    if not delivery_ids:
        return {}
    unsent = exists().where(
        col(OutboundPart.message_id) == col(OutboundMessage.id),
        col(OutboundPart.status).in_(UNSENT),
    )
    with db.session() as session:
        rows = session.exec(
            select(OutboundMessage.delivery_id, OutboundMessage.id)
            .where(col(OutboundMessage.delivery_id).in_(delivery_ids))
            .where(unsent)
            .order_by(col(OutboundMessage.id))
        ).all()
    # Ascending ids: the newest open message of each delivery wins, as in the one-by-one look-up.
    return {
        int(delivery): int(message)
        for delivery, message in rows
        if delivery is not None and message is not None
    }


def message_for_report_reply(db: Database, reply_id: int) -> int | None:
    with db.session() as session:
        return session.exec(
            select(OutboundMessage.id)
            .where(OutboundMessage.report_reply_id == reply_id)
            .order_by(col(OutboundMessage.id).desc())
        ).first()


def message(db: Database, message_id: int) -> MessageRow | None:
    with db.session() as session:
        row = session.get(OutboundMessage, message_id)
        if row is None or row.id is None:
            return None
        created = as_utc(row.created_at)
        assert created is not None
        return MessageRow(
            row.id,
            row.oa_id,
            row.user_id,
            OutboundPurpose(row.purpose),
            row.inbound_event_id,
            row.report_reply_id,
            created,
        )


def messages_to(db: Database, user_id: str | None = None) -> Sequence[OutboundMessage]:
    """The messages recorded for a resident (everyone's when None), oldest first."""
    with db.session() as session:
        query = select(OutboundMessage).order_by(col(OutboundMessage.id))
        if user_id is not None:
            query = query.where(OutboundMessage.user_id == user_id)
        return session.exec(query).all()


# --- parts ------------------------------------------------------------------------------------

_PART_COLUMNS = (
    col(OutboundPart.id),
    col(OutboundPart.message_id),
    col(OutboundPart.position),
    col(OutboundMessage.oa_id),
    col(OutboundMessage.user_id),
    col(OutboundPart.text),
    col(OutboundPart.buttons),
    col(OutboundPart.status),
    col(OutboundPart.zalo_message_id),
    col(OutboundPart.claim_token),
    col(OutboundPart.claimed_at),
    col(OutboundPart.uncertain_since),
)


def _part_row(row: Any) -> PartRow:
    return PartRow(
        id=row[0],
        message_id=row[1],
        position=row[2],
        oa_id=row[3],
        user_id=row[4],
        text=row[5],
        buttons=row[6],
        status=PartStatus(row[7]),
        zalo_message_id=row[8],
        claim_token=row[9],
        claimed_at=as_utc(row[10]),
        uncertain_since=as_utc(row[11]),
    )


def parts_of(db: Database, message_id: int) -> list[PartRow]:
    """The message's parts in the order they are sent."""
    with db.session() as session:
        rows = session.execute(
            core_select(*_PART_COLUMNS)
            .join(OutboundMessage, col(OutboundMessage.id) == col(OutboundPart.message_id))
            .where(col(OutboundPart.message_id) == message_id)
            .order_by(col(OutboundPart.position))
        ).all()
        return [_part_row(row) for row in rows]


def claim_part(
    db: Database,
    part_id: int,
    now: datetime,
    token: str,
    *,
    stale_before: datetime,
    retry_failed: bool = False,
) -> PartRow | None:
    """Take a part for sending; None if another process holds a live claim on it (or it is
    settled). Taking over a claim older than `stale_before` makes the part uncertain."""
    startable = [PartStatus.pending, PartStatus.held]
    if retry_failed:
        startable.append(PartStatus.failed)
    stale = and_(
        col(OutboundPart.status) == PartStatus.sending,
        or_(col(OutboundPart.claimed_at).is_(None), col(OutboundPart.claimed_at) < stale_before),
    )
    with db.session() as session:
        result = session.execute(
            update(OutboundPart)
            .where(col(OutboundPart.id) == part_id)
            .where(or_(col(OutboundPart.status).in_(startable), stale))
            .values(
                uncertain_since=func.coalesce(
                    OutboundPart.uncertain_since,
                    # A dead process's claim: it may have sent the part.
                    if_sending(OutboundPart.claimed_at),
                ),
                status=PartStatus.sending,
                claim_token=token,
                claimed_at=now,
                attempts=OutboundPart.attempts + 1,
                updated_at=now,
            )
        )
        session.commit()
        if rowcount(result) != 1:
            return None
    part = _part(db, part_id)
    return part if part is not None and part.claim_token == token else None


def _part(db: Database, part_id: int) -> PartRow | None:
    with db.session() as session:
        row = session.execute(
            core_select(*_PART_COLUMNS)
            .join(OutboundMessage, col(OutboundMessage.id) == col(OutboundPart.message_id))
            .where(col(OutboundPart.id) == part_id)
        ).first()
        return _part_row(row) if row is not None else None


def if_sending(value: Any) -> Any:
    return case((col(OutboundPart.status) == PartStatus.sending, value), else_=None)


def settle_part(
    db: Database,
    part: PartRow,
    now: datetime,
    status: PartStatus,
    *,
    zalo_message_id: str | None = None,
    error_code: int | None = None,
    reason: str | None = None,
    uncertain_since: datetime | object | None = KEEP,
) -> bool:
    """Record how the claimed `part` ended; False if the claim was lost meanwhile."""
    values: dict[str, Any] = {
        "status": status,
        "claim_token": None,
        "error_code": error_code,
        "reason": reason,
        "updated_at": now,
    }
    if status is PartStatus.sent:
        values |= {"zalo_message_id": zalo_message_id, "sent_at": now, "uncertain_since": None}
    elif uncertain_since is not KEEP:
        values["uncertain_since"] = uncertain_since
    with db.session() as session:
        result = session.execute(
            update(OutboundPart)
            .where(col(OutboundPart.id) == part.id)
            .where(col(OutboundPart.status) == PartStatus.sending)
            .where(col(OutboundPart.claim_token) == part.claim_token)
            .values(**values)
        )
        session.commit()
        return rowcount(result) == 1


def move_unsent(
    db: Database,
    message_ids: Iterable[int],
    now: datetime,
    to: PartStatus,
    *,
    reason: str | None = None,
    error_code: int | None = None,
) -> int:
    """Move every unclaimed pending/held part of these messages to `to` (hold or give up the
    rest of a message after a failed part)."""
    ids = list(message_ids)
    if not ids:
        return 0
    with db.session() as session:
        result = session.execute(
            update(OutboundPart)
            .where(col(OutboundPart.message_id).in_(ids))
            .where(col(OutboundPart.status).in_((PartStatus.pending, PartStatus.held)))
            .values(status=to, reason=reason, error_code=error_code, updated_at=now)
        )
        session.commit()
        return rowcount(result)


def refresh_outcome(
    db: Database, message_id: int, *, simulated: bool, resent_at: datetime | None = None
) -> DeliveryOutcome:
    """Sum up the message's parts on its row: outcome, Zalo's ids, the first error."""
    with db.session() as session:
        parts = session.exec(
            select(OutboundPart)
            .where(OutboundPart.message_id == message_id)
            .order_by(col(OutboundPart.position))
        ).all()
        statuses = {p.status for p in parts}
        if statuses <= {PartStatus.sent}:
            outcome = DeliveryOutcome.simulated if simulated else DeliveryOutcome.sent
        elif PartStatus.held in statuses:
            outcome = DeliveryOutcome.held
        elif statuses & {PartStatus.pending, PartStatus.sending}:
            outcome = DeliveryOutcome.pending
        else:
            outcome = DeliveryOutcome.failed
        trouble = next(
            (p for p in parts if p.status in (PartStatus.failed, PartStatus.held) and p.reason),
            None,
        )
        values: dict[str, Any] = {
            "outcome": outcome,
            "zalo_message_ids": ",".join(p.zalo_message_id or "" for p in parts if p.sent_at),
            "error_code": trouble.error_code if trouble else None,
            "reason": trouble.reason if trouble else None,
        }
        if resent_at is not None and outcome is not DeliveryOutcome.held:
            values["resent_at"] = resent_at
        session.execute(
            update(OutboundMessage).where(col(OutboundMessage.id) == message_id).values(**values)
        )
        session.commit()
        return outcome


def went_out(db: Database, message_ids: Sequence[int]) -> bool:
    """Whether any part of these messages reached Zalo, or may have (a claim, an uncertain
    attempt, an apology already written)."""
    if not message_ids:
        return False
    with db.session() as session:
        found = session.exec(
            select(OutboundPart.id)
            .where(col(OutboundPart.message_id).in_(message_ids))
            .where(
                or_(
                    col(OutboundPart.status).in_((PartStatus.sent, PartStatus.sending)),
                    col(OutboundPart.uncertain_since).is_not(None),
                    col(OutboundPart.position) == 0,
                )
            )
            .limit(1)
        ).first()
        return found is not None


# --- Zalo's echo ------------------------------------------------------------------------------


def _comparable(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


ECHO_CLOCK_SKEW: Final = timedelta(minutes=1)
"""The echo is stamped by the process that recorded the webhook, the attempt by the one that
sent: their clocks may differ a little. An older echo of the same text cannot be taken for
this part's: echoes already known as another part's message are left out."""


def find_echo(db: Database, part: PartRow, since: datetime) -> str | None:
    """Zalo's msg_id of an OA message to the part's resident, recorded since `since` (less
    `ECHO_CLOCK_SKEW`), whose text is the part's, and not already known as another part's.

    Zalo posts every message an OA sends back to the webhook as an `oa_send_*` event
    (reference §1.2), and the webhook records every event: the evidence that a message whose
    acknowledgement we lost did reach Zalo.
    """
    since -= ECHO_CLOCK_SKEW
    known = (
        select(literal("msg:") + col(OutboundPart.zalo_message_id))
        .join(OutboundMessage, col(OutboundMessage.id) == col(OutboundPart.message_id))
        .where(col(OutboundMessage.user_id) == part.user_id)
        .where(col(OutboundPart.zalo_message_id).is_not(None))
    )
    with db.session() as session:
        rows = session.exec(
            select(InboundEvent.event_key, InboundEvent.text, InboundEvent.msg_id)
            .where(InboundEvent.oa_id == part.oa_id)
            .where(InboundEvent.user_id == part.user_id)
            .where(InboundEvent.kind == MessageKind.echo.value)
            .where(col(InboundEvent.received_at) >= since)
            .where(col(InboundEvent.event_key).not_in(known))
            .order_by(col(InboundEvent.id))
        ).all()
    wanted = _comparable(part.text)
    for key, text, msg_id in rows:
        if text is not None and _comparable(text) == wanted:
            return msg_id or key.removeprefix("msg:")
    return None
