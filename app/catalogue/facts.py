"""A procedure's deadline and fee as residents read them, from the plain version or the record.

The plain version (hand-written) comes first. Without one, the record's per-channel data is put
into Vietnamese words ("Nộp trực tiếp: 5 ngày làm việc"), never its enum names. Nothing is
inferred: a unit the record does not give is said to be missing, and a 0 whose text leaves the
level to the province is "do Hội đồng nhân dân tỉnh quy định", never free.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from app.catalogue.models import (
    PROVINCE_SETS_FEE,
    Channel,
    ChannelDeadline,
    ChannelFee,
    FeeKind,
    LocalFee,
    Procedure,
    TimeUnit,
    WardProfile,
    record_fee_kind,
)

CHANNEL_WORDS = {
    Channel.direct: "nộp trực tiếp",
    Channel.online: "nộp trực tuyến",
    Channel.postal: "qua bưu chính",
}
PORTAL = "Cổng Dịch vụ công"
PROVINCE_SETS = "Lệ phí do Hội đồng nhân dân tỉnh quy định"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _unique_channels(channels: Iterable[Channel]) -> list[Channel]:
    return list(dict.fromkeys(channels))


def money(value: int) -> str:
    """10000 -> "10.000 đồng"."""
    return f"{value:,}".replace(",", ".") + " đồng"


def channels_phrase(channels: Sequence[Channel]) -> str:
    return ", ".join(CHANNEL_WORDS[c] for c in channels)


def duration(deadline: ChannelDeadline) -> str:
    """One processing time in words; the record's unit-less numbers are said to be unit-less."""
    if deadline.unit is TimeUnit.unspecified:
        if deadline.time == 0:
            return f"{PORTAL} không ghi thời hạn"
        return f"{deadline.time} ({PORTAL} không ghi rõ là ngày hay ngày làm việc)"
    return f"{deadline.time} {deadline.unit.value}"


def _per_channel(values: Sequence[tuple[Channel, int, str]], joiner: str) -> str:
    """Values per channel (smallest first), channels with the same values merged."""
    by_channel: dict[Channel, dict[str, int]] = {}
    for channel, size, value in values:
        by_channel.setdefault(channel, {}).setdefault(value, size)
    groups: dict[tuple[str, ...], list[Channel]] = {}
    for channel, listed in by_channel.items():
        ordered = tuple(sorted(listed, key=lambda value: listed[value]))
        groups.setdefault(ordered, []).append(channel)

    def said(listed: tuple[str, ...]) -> str:
        return listed[0] if len(listed) == 1 else f"{joiner.join(listed)}, tùy trường hợp"

    if len(groups) == 1:
        return _capitalise(said(next(iter(groups))))
    return _capitalise(
        "; ".join(
            f"{channels_phrase(channels)}: {said(listed)}" for listed, channels in groups.items()
        )
    )


def record_deadline(proc: Procedure) -> str | None:
    """The record's processing times in one line, or None when the record gives none."""
    if not proc.deadlines:
        return None
    values = [(d.channel, d.time, duration(d)) for d in proc.deadlines]
    return _per_channel(values, " hoặc ")


def deadline_notes(proc: Procedure) -> list[str]:
    """The record's own words about its processing times (distinct, record order)."""
    return _unique(d.note for d in proc.deadlines if d.note)


def deadline_summary(proc: Procedure) -> str | None:
    """What residents read first: the plain text, an older reworded text, or the record's."""
    if proc.plain is not None:
        return proc.plain.deadline
    return proc.deadline or record_deadline(proc)


def deadline_details(proc: Procedure) -> list[str]:
    """Every processing time of the record with its note, channels merged (the full view)."""
    lines: dict[tuple[str, str], list[Channel]] = {}
    for d in proc.deadlines:
        lines.setdefault((duration(d), d.note or ""), []).append(d.channel)
    return [
        f"{_capitalise(channels_phrase(_unique_channels(channels)))}: {said}"
        + (f" ({note})" if note else "")
        for (said, note), channels in lines.items()
    ]


def amount(fee: ChannelFee) -> str | None:
    """One fee line's amount in words ("30.000 đồng/giao dịch"), None when none is given."""
    if fee.value is None:
        return None
    said = money(fee.value)
    if fee.note and fee.note.startswith("/"):
        said += fee.note  # the record writes the unit alone: "/giao dịch"
    return said


def fee_notes(proc: Procedure) -> list[str]:
    """The record's own words about its fees (distinct, record order, bare units left out)."""
    return _unique(f.note for f in proc.fees or () if f.note and not f.note.startswith("/"))


def record_fee(proc: Procedure) -> str | None:
    """The record's fee in one line, or None when the record has no fee line at all."""
    if proc.fees is None:
        return None
    if not proc.fees:
        return f"{PORTAL} không ghi khoản phí, lệ phí nào cho thủ tục này"
    kind = record_fee_kind(proc)
    if kind is FeeKind.province:
        return PROVINCE_SETS
    if kind is FeeKind.fixed:
        values = [(f.channel, f.value or 0, said) for f in proc.fees if (said := amount(f))]
        return _per_channel(values, ", ")
    if all(f.value is None for f in proc.fees):
        return f"{PORTAL} không ghi mức thu"
    return f"{PORTAL} ghi mức thu 0 đồng"


def fee_summary(proc: Procedure) -> str | None:
    """What residents read first about the fee (the province's figure comes separately)."""
    if proc.plain is not None:
        return proc.plain.fee
    return proc.fee or record_fee(proc)


def fee_details(proc: Procedure) -> list[str]:
    """Every fee line of the record, channels merged (the full view). A 0 next to a text that
    leaves the level to the province is not shown as an amount."""
    lines: dict[tuple[str, str], list[Channel]] = {}
    for fee in proc.fees or ():
        note = fee.note or ""
        said = amount(fee)
        if said is None or (fee.value == 0 and PROVINCE_SETS_FEE.search(note)):
            said = ""
        if note.startswith("/"):
            note = ""
        lines.setdefault((said, note), []).append(fee.channel)
    out = []
    for (said, note), channels in lines.items():
        text = "; ".join(part for part in (said, note) if part) or f"{PORTAL} không ghi mức thu"
        out.append(f"{_capitalise(channels_phrase(_unique_channels(channels)))}: {text}")
    return out


def local_fee(proc: Procedure, ward: WardProfile) -> LocalFee | None:
    """The province's own figure for this procedure, when the fee is the province's to set."""
    if proc.fee_kind in (FeeKind.free, FeeKind.fixed):
        return None
    return ward.local_fees.get(proc.code)


def local_fee_line(fee: LocalFee, ward: WardProfile) -> str:
    basis = f" (theo {fee.basis})" if fee.basis else ""
    return f"Mức thu tại {ward.province}: {fee.amount}{basis}"
