"""Totals for /metrics, counted in the database so every process reports the same figures."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import col, select

from app.storage.database import Database
from app.storage.tables import Delivery, InboundEvent, OutboundMessage


@dataclass(frozen=True)
class DatabaseTotals:
    events_in: dict[str, int] = field(default_factory=dict)
    messages_out: dict[str, int] = field(default_factory=dict)
    zalo_errors: dict[int, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    events_in_by_oa: dict[str, int] = field(default_factory=dict)
    messages_out_by_oa: dict[tuple[str, str], int] = field(default_factory=dict)
    """(OA id, outcome) -> messages."""
    zalo_errors_by_oa: dict[str, int] = field(default_factory=dict)


def totals(db: Database) -> DatabaseTotals:
    with db.session() as session:
        events_in = session.exec(
            select(InboundEvent.event_name, func.count()).group_by(col(InboundEvent.event_name))
        ).all()
        messages_out = session.exec(
            select(OutboundMessage.outcome, func.count()).group_by(col(OutboundMessage.outcome))
        ).all()
        zalo_errors = session.exec(
            select(OutboundMessage.error_code, func.count())
            .where(col(OutboundMessage.error_code).is_not(None))
            .group_by(col(OutboundMessage.error_code))
        ).all()
        deliveries = session.exec(
            select(Delivery.status, func.count()).group_by(col(Delivery.status))
        ).all()
        events_by_oa = session.exec(
            select(InboundEvent.oa_id, func.count()).group_by(col(InboundEvent.oa_id))
        ).all()
        out_by_oa = session.exec(
            select(OutboundMessage.oa_id, OutboundMessage.outcome, func.count()).group_by(
                col(OutboundMessage.oa_id), col(OutboundMessage.outcome)
            )
        ).all()
        errors_by_oa = session.exec(
            select(OutboundMessage.oa_id, func.count())
            .where(col(OutboundMessage.error_code).is_not(None))
            .group_by(col(OutboundMessage.oa_id))
        ).all()
    return DatabaseTotals(
        events_in={name: n for name, n in events_in},
        messages_out={str(outcome): n for outcome, n in messages_out},
        zalo_errors={code: n for code, n in zalo_errors if code is not None},
        deliveries={str(status): n for status, n in deliveries},
        events_in_by_oa={oa: n for oa, n in events_by_oa},
        messages_out_by_oa={(oa, str(outcome)): n for oa, outcome, n in out_by_oa},
        zalo_errors_by_oa={oa: n for oa, n in errors_by_oa},
    )
