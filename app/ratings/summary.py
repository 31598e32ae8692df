"""The console's view of ratings: averages per procedure, per counter and per month, and the
CSV export. Pure: rows in, tables out."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Protocol

UNKNOWN_PROCEDURE = "(chưa rõ thủ tục)"
UNKNOWN_COUNTER = "(không theo quầy)"
SUBJECT_LABELS = {"visit": "Lượt đến làm thủ tục", "dossier": "Hồ sơ đã trả kết quả"}
CSV_COLUMNS = (
    "rated_at",
    "subject_kind",
    "subject_ref",
    "procedure_code",
    "procedure_name",
    "counter",
    "score",
    "comment",
)


class RatedRow(Protocol):
    @property
    def oa_id(self) -> str: ...
    @property
    def subject_kind(self) -> str: ...
    @property
    def subject_ref(self) -> str: ...
    @property
    def procedure_code(self) -> str | None: ...
    @property
    def procedure_name(self) -> str | None: ...
    @property
    def counter(self) -> str | None: ...
    @property
    def score(self) -> int | None: ...
    @property
    def rated_at(self) -> datetime | None: ...
    @property
    def comment(self) -> str | None: ...


def local(moment: datetime, timezone: tzinfo) -> datetime:
    """Stored times are UTC (SQLite hands them back naive)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(timezone)


@dataclass(frozen=True)
class Group:
    label: str
    count: int
    average: float
    per_score: tuple[int, ...]
    """How many gave 1, 2, 3, 4 and 5."""


def _groups(rows: Iterable[RatedRow], key: Callable[[RatedRow], str]) -> list[Group]:
    scores: dict[str, list[int]] = {}
    for row in rows:
        if row.score is not None:
            scores.setdefault(key(row), []).append(row.score)
    return [
        Group(
            label,
            len(values),
            round(sum(values) / len(values), 2),
            tuple(values.count(n) for n in range(1, 6)),
        )
        for label, values in scores.items()
    ]


def _procedure(row: RatedRow) -> str:
    if row.procedure_name and row.procedure_code:
        return f"{row.procedure_name} ({row.procedure_code})"
    return row.procedure_name or row.procedure_code or UNKNOWN_PROCEDURE


@dataclass(frozen=True)
class Summary:
    total: Group | None
    by_procedure: list[Group]
    by_counter: list[Group]
    by_month: list[Group]
    by_ward: list[Group] = field(default_factory=list)
    """Per ward, when several are listed (`ward_of`)."""


def summarise(
    rows: Sequence[RatedRow],
    timezone: tzinfo,
    ward_of: Callable[[str], str] | None = None,
) -> Summary:
    def month(row: RatedRow) -> str:
        return f"{local(row.rated_at, timezone):%m/%Y}" if row.rated_at else "?"

    def newest_month_first(group: Group) -> tuple[str, str]:
        mm, _, yyyy = group.label.partition("/")
        return yyyy, mm

    totals = _groups(rows, lambda row: "Tất cả")
    return Summary(
        total=totals[0] if totals else None,
        by_procedure=sorted(_groups(rows, _procedure), key=lambda g: (-g.count, g.label)),
        by_counter=sorted(
            _groups(rows, lambda row: row.counter or UNKNOWN_COUNTER), key=lambda g: g.label
        ),
        by_month=sorted(_groups(rows, month), key=newest_month_first, reverse=True),
        by_ward=(
            sorted(_groups(rows, lambda row: ward_of(row.oa_id)), key=lambda g: g.label)
            if ward_of is not None
            else []
        ),
    )


def _cell(text: str) -> str:
    """A resident's text never runs as a spreadsheet formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def to_csv(
    rows: Iterable[RatedRow], timezone: tzinfo, ward_of: Callable[[str], str] | None = None
) -> str:
    """One line per rating (no resident ids), with a BOM so Excel reads Vietnamese. With
    `ward_of` (several wards listed), a first column `ward` names each rating's ward."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((("ward",) if ward_of is not None else ()) + CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            ((ward_of(row.oa_id),) if ward_of is not None else ())
            + (
                local(row.rated_at, timezone).strftime("%Y-%m-%d %H:%M") if row.rated_at else "",
                row.subject_kind,
                row.subject_ref,
                row.procedure_code or "",
                row.procedure_name or "",
                row.counter or "",
                row.score if row.score is not None else "",
                _cell(row.comment or ""),
            )
        )
    return out.getvalue()
