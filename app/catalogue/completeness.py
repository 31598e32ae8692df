"""How complete the catalogue is: per procedure, whether residents get documents, deadline, fee
and channels, and from which source. `wardbot validate` prints the summary; the console's
catalogue page shows it per procedure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from app.catalogue import facts
from app.catalogue.models import Catalogue, Procedure, WardProfile


class Source(StrEnum):
    plain = "plain"
    """The hand-written plain version."""
    record = "record"
    """The portal's record (per-channel data imported from it)."""
    reference = "reference"
    """An older text without per-channel data (the first reference)."""
    local = "local"
    """The province's figure in the ward profile (fees only)."""
    missing = "missing"


LABELS = {
    Source.plain: "Văn bản dễ hiểu",
    Source.record: "Cổng DVC",
    Source.reference: "Nguồn cũ",
    Source.local: "Mức của tỉnh",
    Source.missing: "Chưa có",
}
"""What staff read in the console."""

ASPECTS = ("documents", "deadline", "fee", "channels")


@dataclass(frozen=True)
class Completeness:
    code: str
    documents: Source
    deadline: Source
    fee: Source
    channels: Source

    def sources(self) -> dict[str, Source]:
        return {aspect: getattr(self, aspect) for aspect in ASPECTS}

    @property
    def complete(self) -> bool:
        return Source.missing not in self.sources().values()


def _from_record(proc: Procedure) -> bool:
    return bool(proc.deadlines) or proc.fees is not None


def completeness(proc: Procedure, ward: WardProfile) -> Completeness:
    older = Source.record if _from_record(proc) else Source.reference
    if proc.plain is not None:
        documents = deadline = fee = Source.plain
    else:
        documents = older if proc.documents.known else Source.missing
        deadline = older if facts.deadline_summary(proc) else Source.missing
        fee = older if facts.fee_summary(proc) else Source.missing
    if facts.local_fee(proc, ward) is not None:
        fee = Source.local
    channels = older if proc.channels else Source.missing
    return Completeness(proc.code, documents, deadline, fee, channels)


def completeness_of(catalogue: Catalogue) -> list[Completeness]:
    return [completeness(p, catalogue.ward) for p in catalogue.procedures]


def summary(catalogue: Catalogue) -> list[str]:
    """The summary `wardbot validate` prints, one line per aspect."""
    rows = completeness_of(catalogue)
    lines = [f"Completeness ({len(rows)} procedures; known = plain + record + reference + local):"]
    for aspect in ASPECTS:
        counts = Counter(getattr(row, aspect) for row in rows)
        known = len(rows) - counts[Source.missing]
        by_source = ", ".join(
            f"{source.value} {counts[source]}"
            for source in Source
            if source is not Source.missing and counts[source]
        )
        lines.append(
            f"  {aspect:<10} {known:>3} known ({by_source or 'none'}), "
            f"{counts[Source.missing]} missing"
        )
    origins = Counter(
        "record" if _from_record(p) else "reference" if p.documents.known else "none"
        for p in catalogue.procedures
    )
    lines.append(
        f"  facts from: portal record {origins['record']}, older reference "
        f"{origins['reference']}, none {origins['none']}"
    )
    without = [p.code for p in catalogue.procedures if p.plain is None]
    lines.append(f"  without a plain version ({len(without)}): {', '.join(without) or '-'}")
    return lines
