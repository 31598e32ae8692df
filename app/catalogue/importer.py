"""Bring the portal's records and the plain-language drafts into procedures.yaml, re-runnably.

`import_records` copies each record (../shared/reference/facts/<code>.yaml) into its procedure:
the official name, documents, per-channel deadlines and fees, channels, result, conditions,
steps, legal basis, agencies and the record's page. It never touches what people wrote by hand
(`plain`, `short_name`, `aliases`, `examples`, `category`, `caveats`...).

`merge_plain` brings the hand-written drafts (/work/drafts/plain/<code>.yaml) into each
procedure's `plain` block; a draft that does not validate is refused and reported, the others
are merged.

Both edit the YAML round-trip (comments and key order kept) and change a value only when it
differs, so running them again changes nothing. scripts/import_reference.py is the command.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML

from app.catalogue.models import Channel, FeeType, Plain, Procedure, TimeUnit

DETAIL_URL = "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/{}"

CHANNELS = {"DIRECT": Channel.direct, "ONLINE": Channel.online, "POSTAL": Channel.postal}
UNITS = {"WORKING_DAY": TimeUnit.working_day, "DAY": TimeUnit.day, "OTHER": TimeUnit.unspecified}
FEE_TYPES = {"FEE": FeeType.fee, "SERVICE_FEE": FeeType.service_fee}

KEY_ORDER = (
    "code",
    "name",
    "short_name",
    "category",
    "field",
    "handled_by",
    "agency",
    "plain",
    "documents",
    "deadline",
    "deadline_source",
    "deadlines",
    "fee",
    "fee_source",
    "fees",
    "channels",
    "result",
    "conditions",
    "steps",
    "common_rules",
    "legal_basis",
    "agencies",
    "dvc",
    "source",
    "caveats",
    "related",
    "aliases",
    "examples",
)
"""Where a key goes when the import adds it: after the last key before it in this order."""

RECORD_REPLACES = ("deadline", "deadline_source", "fee", "fee_source")
"""Older summary texts a record's per-channel data supersedes."""

PLAIN_ORDER = ("documents", "cases", "notes", "deadline", "fee", "fee_kind", "contradictions")


class ImportRefused(ValueError):
    """The input cannot be imported at all (e.g. a record for a procedure that does not exist)."""


def yaml_rt() -> YAML:
    """The round-trip YAML the catalogue editors share (long lines never re-wrapped)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def dump(yaml: YAML, data: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def to_plain(value: Any) -> Any:
    """ruamel's commented containers and quoted scalars as plain Python values."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def set_key(entry: Any, key: str, value: Any, order: Sequence[str] = KEY_ORDER) -> bool:
    """Set `entry[key]` only if the value differs; a new key goes where `order` puts it.
    True when something changed."""
    if key in entry:
        if to_plain(entry[key]) == value:
            return False
        entry[key] = value
        return True
    position = 0
    if key in order:
        before = set(order[: order.index(key)])
        for index, existing in enumerate(entry):
            if existing in before:
                position = index + 1
    entry.insert(position, key, value)
    return True


def drop_key(entry: Any, key: str) -> bool:
    if key in entry:
        del entry[key]
        return True
    return False


def procedure_entries(data: Any) -> dict[str, Any]:
    procedures = data.get("procedures") if hasattr(data, "get") else None
    if not isinstance(procedures, list):
        raise ImportRefused("procedures.yaml has no `procedures` list")
    return {str(p.get("code")): p for p in procedures}


# --- the portal's records -----------------------------------------------------------------


def read_facts(folder: Path) -> dict[str, dict[str, Any]]:
    """Every facts file of `folder` by code (README.md and other files ignored)."""
    yaml = YAML(typ="safe")
    facts: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        record = yaml.load(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or "code" not in record:
            raise ImportRefused(f"{path.name}: not a facts file (no `code`)")
        code = str(record["code"])
        if path.stem != code:
            raise ImportRefused(f"{path.name}: its code is {code}")
        facts[code] = record
    return facts


def has_record(record: Mapping[str, Any]) -> bool:
    return record.get("status") != "no_record"


def _text(value: Any) -> str:
    return " ".join(str(value).split())


def _documents(record: Mapping[str, Any]) -> dict[str, Any]:
    docs = record.get("documents") or {}
    out: dict[str, Any] = {"status": "known"}
    for key in ("submit", "present", "forms", "notes"):
        if docs.get(key):
            out[key] = [str(item) for item in docs[key]]
    if docs.get("cases"):
        out["cases"] = [
            {"label": _text(case["name"]), "items": [str(i) for i in case["items"]]}
            for case in docs["cases"]
        ]
    # Keep the model's order: submit, present, forms, cases, notes.
    order = ("status", "submit", "present", "forms", "cases", "notes")
    return {k: out[k] for k in order if k in out}


def _deadlines(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in record.get("deadline") or []:
        entry: dict[str, Any] = {
            "channel": CHANNELS[item["method"]].value,
            "time": int(item["time"]),
            "unit": UNITS[item["unit"]].value,
        }
        if item.get("note"):
            entry["note"] = str(item["note"])
        out.append(entry)
    return out


def _fees(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for item in record.get("fees") or []:
        value = item.get("value")
        entry: dict[str, Any] = {
            "channel": CHANNELS[item["method"]].value,
            "type": FEE_TYPES[item["type"]].value,
            "value": None if value is None else int(value),
        }
        if item.get("note"):
            entry["note"] = str(item["note"])
        out.append(entry)
    return out


def _steps(text: str) -> str:
    """The condensed steps, with the condenser's "the record" said as residents would: the
    only rewording the import makes (steps are a summary, not the record's own words)."""
    return re.sub(
        r"\b(B|b)ản ghi\b", lambda m: f"{'C' if m.group(1) == 'B' else 'c'}ổng Dịch vụ công", text
    )


def record_source(record: Mapping[str, Any]) -> str:
    """A neutral provenance line naming the record."""
    source = str(record.get("source") or "")
    commit = re.search(r"@\s*([0-9a-f]{7,40})", source)
    at = f" (bản chép {commit.group(1)[:8]})" if commit else ""
    return f"Cổng DVCQG, formalityId {record['formality_id']}{at}"


def record_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """The procedure keys a record sets, as procedures.yaml writes them (None: remove the key)."""
    agencies = {str(k): _text(v) for k, v in (record.get("agencies") or {}).items() if v}
    values: dict[str, Any] = {
        "name": _text(record["name"]),
        "documents": _documents(record),
        "deadlines": _deadlines(record) or None,
        "fees": _fees(record),  # []: the record lists no fee at all
        "channels": [CHANNELS[c].value for c in record.get("channels") or []] or "unknown",
        "result": [str(r) for r in record.get("result") or []] or None,
        "conditions": [str(r) for r in record.get("requirements") or []] or None,
        "steps": _steps(str(record["steps_summary"])) if record.get("steps_summary") else None,
        "legal_basis": [str(r) for r in record.get("legal_basis") or []] or None,
        "agencies": agencies or None,
        "source": record_source(record),
    }
    if agencies.get("implementing"):
        values["agency"] = agencies["implementing"]
    return values


@dataclass
class ImportReport:
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    no_record: list[str] = field(default_factory=list)
    without_facts: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"records: {len(self.updated)} updated, {len(self.unchanged)} unchanged"
            + (f" ({', '.join(self.updated)} updated)" if self.updated else ""),
            f"no record (portal search link and phone kept): {', '.join(self.no_record) or '-'}",
            f"no facts file (kept as they are): {len(self.without_facts)}",
        ]


def import_records(text: str, facts: Mapping[str, Mapping[str, Any]]) -> tuple[str, ImportReport]:
    """`text` (procedures.yaml) with every record's facts copied in; unchanged if up to date."""
    yaml = yaml_rt()
    data = yaml.load(text)
    entries = procedure_entries(data)
    unknown = sorted(set(facts) - set(entries))
    if unknown:
        raise ImportRefused(f"facts for procedures not in procedures.yaml: {', '.join(unknown)}")
    report = ImportReport(without_facts=sorted(set(entries) - set(facts)))
    for code, record in facts.items():
        entry = entries[code]
        changed = False
        if not has_record(record):
            report.no_record.append(code)
            # Without a record the direct page is unverified: the search link stays.
            changed |= drop_key(entry["dvc"], "detail_url")
        else:
            for key, value in record_values(record).items():
                changed |= drop_key(entry, key) if value is None else set_key(entry, key, value)
            for key in RECORD_REPLACES:
                changed |= drop_key(entry, key)
            if record.get("formality_id"):
                url = DETAIL_URL.format(record["formality_id"])
                changed |= set_key(entry["dvc"], "detail_url", url, ("detail_url", "search_url"))
        (report.updated if changed else report.unchanged).append(code)
    new_text = dump(yaml, data)
    return (text if not report.updated else new_text), report


# --- plain-language drafts ----------------------------------------------------------------

_NUMBER = re.compile(r"\d+(?:[.,]\d{3})*")
_FORM_CODE = re.compile(r"(?i)\b(?:CT|TK|HK)\s?\d{1,2}[a-z]?\b|mẫu số\s*\d+[a-z]?")


def numbers(texts: Iterable[str]) -> set[int]:
    """The numbers written in `texts` ("01" is 1, "10.000" is 10000; dates give each part)."""
    found: set[int] = set()
    for text in texts:
        for match in _NUMBER.findall(text):
            digits = re.sub(r"[.,](?=\d{3}\b)", "", match)
            found.update(int(part) for part in re.split(r"[.,]", digits) if part)
    return found


def form_codes(texts: Iterable[str]) -> set[str]:
    """Form codes such as "CT01" or "Mẫu số 18", normalised (case and spaces)."""
    return {
        re.sub(r"\s+", "", m.group(0)).casefold()
        for text in texts
        for m in _FORM_CODE.finditer(text)
    }


def plain_texts(plain: Plain) -> list[str]:
    texts = [*plain.documents, *plain.notes, plain.deadline, plain.fee]
    for case in plain.cases:
        texts += [case.label, *case.documents]
    return texts


def procedure_texts(proc: Procedure, common: Iterable[str] = ()) -> list[str]:
    """Every text the procedure's facts hold (record and older facts): what a plain version
    may quote. Per-channel numbers are included as written."""
    texts = [*proc.record_texts(), *proc.legal_basis, proc.steps or "", *proc.agencies.values()]
    texts += [
        proc.deadline or "",
        proc.deadline_source or "",
        proc.fee or "",
        proc.fee_source or "",
    ]
    texts += [f"{d.time} {d.note or ''}" for d in proc.deadlines]
    texts += [f"{f.value or 0} {f.note or ''}" for f in proc.fees or ()]
    return [*texts, *common]


def unsupported(plain: Plain, sources: Sequence[str]) -> list[str]:
    """Numbers and form codes of `plain` that none of `sources` contains (sorted, as text)."""
    extra = [str(n) for n in sorted(numbers(plain_texts(plain)) - numbers(sources))]
    extra += sorted(form_codes(plain_texts(plain)) - form_codes(sources))
    return extra


@dataclass
class MergeReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    unsupported: dict[str, list[str]] = field(default_factory=dict)
    """Numbers or form codes a draft has that its procedure's facts do not: check by hand."""
    missing: list[str] = field(default_factory=list)
    """Procedures (with facts) that still have no plain version."""

    def lines(self) -> list[str]:
        lines = [
            f"plain drafts: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.refused)} refused"
        ]
        lines += [f"  REFUSED {code}: {why}" for code, why in sorted(self.refused.items())]
        lines += [
            f"  check {code}: not in its record: {', '.join(extra)}"
            for code, extra in sorted(self.unsupported.items())
        ]
        lines.append(
            f"still without a plain version ({len(self.missing)}): {', '.join(self.missing) or '-'}"
        )
        return lines


def read_drafts(folder: Path) -> dict[str, tuple[Path, Any]]:
    yaml = YAML(typ="safe")
    drafts: dict[str, tuple[Path, Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            drafts[path.stem] = (path, yaml.load(path.read_text(encoding="utf-8")))
        except Exception as exc:  # a broken draft is reported, the others still merge
            drafts[path.stem] = (path, exc)
    return drafts


def _plain_mapping(draft: Mapping[str, Any]) -> dict[str, Any]:
    plain = {k: to_plain(draft[k]) for k in PLAIN_ORDER if draft.get(k) not in (None, [], "")}
    for case in plain.get("cases", []):
        order = ("title", "label", "documents")
        case_items = {k: case[k] for k in order if k in case}
        case.clear()
        case.update(case_items)
    return plain


def merge_plain(
    text: str,
    drafts: Mapping[str, tuple[Path, Any]],
    extra_sources: Mapping[str, Sequence[str]] | None = None,
    skip: Iterable[str] = (),
) -> tuple[str, MergeReport]:
    """`text` with each valid draft as its procedure's `plain` block.

    `extra_sources`: more texts per code a draft may quote numbers from (the record's notes);
    `skip`: codes that must not get a plain version (no record: nothing to write from); those
    whose documents are `unknown` are skipped too.
    """
    yaml = yaml_rt()
    data = yaml.load(text)
    entries = procedure_entries(data)
    common = {
        str(k): [*v.get("rules", []), *v.get("fees", [])]
        for k, v in to_plain(data.get("common_rules") or {}).items()
    }
    report = MergeReport()
    skipped = set(skip) | {
        code
        for code, entry in entries.items()
        if str((entry.get("documents") or {}).get("status")) == "unknown"
    }
    for code, (path, draft) in sorted(drafts.items()):
        if isinstance(draft, Exception):
            report.refused[code] = f"{path.name} is not valid YAML: {draft}"
            continue
        if not isinstance(draft, Mapping) or str(draft.get("code")) != code:
            report.refused[code] = f"{path.name}: `code` must be '{code}'"
            continue
        if code not in entries:
            report.refused[code] = "no procedure with this code"
            continue
        if code in skipped:
            report.refused[code] = "this procedure has no record: it keeps the portal link"
            continue
        unexpected = set(draft) - {"code", *PLAIN_ORDER}
        if unexpected:
            report.refused[code] = f"unknown keys: {', '.join(sorted(map(str, unexpected)))}"
            continue
        plain = _plain_mapping(draft)
        entry = entries[code]
        try:
            proc = Procedure.model_validate({**to_plain(entry), "plain": plain})
        except ValidationError as exc:
            report.refused[code] = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            continue
        assert proc.plain is not None
        sources = procedure_texts(proc, common.get(proc.common_rules or "", []))
        extra = unsupported(proc.plain, [*sources, *(extra_sources or {}).get(code, [])])
        if extra:
            report.unsupported[code] = extra
        existed = "plain" in entry
        if set_key(entry, "plain", plain):
            (report.updated if existed else report.added).append(code)
        else:
            report.unchanged.append(code)
    report.missing = [
        code for code, entry in entries.items() if "plain" not in entry and code not in skipped
    ]
    changed = report.added or report.updated
    return (dump(yaml, data) if changed else text), report
