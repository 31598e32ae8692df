"""Research notes never reach residents or staff: find them in everything the bot or the
console shows (names, documents, notes, deadlines, fees, caveats, intents...).

A marker is a trace of the research behind the catalogue (which page of a record was read, a
source tag such as [S1], a guess "suy từ", "chưa kiểm chứng"), a portal field or enum name
(isFullProcess, WORKING_DAY, catalogue_only), or an English word in Vietnamese text. Residents'
own words (aliases, examples, intent phrases) are checked for research markers only: "online" is
how residents write. Provenance (`source`, `*_source`) and notes for engineers
(`plain.contradictions`) are never shown, so never checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

Location = tuple[str | int, ...]

RESEARCH = re.compile(
    r"chưa đọc|bản ghi|bên thứ ba|suy từ|nguồn thứ cấp|thứ cấp|chưa kiểm chứng|chưa đối chiếu"
    r"|tên theo bộ test|bộ test|trang \d+(?:/\d+)? (?:đã|chưa) đọc"
    r"|isFullProcess|processingTime|processingDay|formalityId|executionMethods|executionCases"
    r"|catalogue_only|full_record|partial_record|third_party|detail_level|formality_id"
    r"|index\.json|\.json\b|\[S\d+\]|(?<![\w./-])S\d(?![\w./-])",
    re.IGNORECASE,
)
"""Traces of research; "kiểm chứng" alone is one only in a name (NAME_RESEARCH)."""
NAME_RESEARCH = re.compile(r"kiểm chứng|\(tên .*\)", re.IGNORECASE)
ENGLISH = re.compile(
    r"\b(?:WORKING_DAY|SERVICE_FEE|OTHER|DIRECT|ONLINE|POSTAL|FEE|DAY|HOUR)\b"
    r"|\b[a-z]+[A-Z][A-Za-z]+\b"  # camelCase identifiers
    r"|(?i:\b(?:the|and|of|from|not|see|record|records|page|read|unread|source|sources"
    r"|secondary|verified|unverified|verify|unknown|inferred|guess|todo|fixme|tbd|online"
    r"|deadline|fee|fees|working|case|cases|note|notes|third|party|full|partial|catalogue)\b)"
)
"""English in resident text: the portal's enum names, identifiers, common English words."""


def markers(text: str, *, english: bool = True, name: bool = False) -> list[str]:
    """The markers found in `text` (empty when it is clean)."""
    found = [m.group(0) for m in RESEARCH.finditer(text)]
    if name:
        found += [m.group(0) for m in NAME_RESEARCH.finditer(text)]
    if english:
        found += [m.group(0) for m in ENGLISH.finditer(text)]
    return found


FULL, MARKERS, SKIP = "full", "markers", "skip"

PROCEDURE_POLICY = {
    "name": FULL,
    "short_name": FULL,
    "field": FULL,
    "agency": FULL,
    "plain": FULL,
    "documents": FULL,
    "deadline": FULL,
    "deadlines": FULL,
    "fee": FULL,
    "fees": FULL,
    "channels": FULL,
    "result": FULL,
    "conditions": FULL,
    "steps": FULL,
    "legal_basis": FULL,
    "agencies": FULL,
    "caveats": FULL,
    "aliases": MARKERS,
    "examples": MARKERS,
}
"""What residents or staff see of a procedure; other keys (code, dvc, source, `*_source`,
related...) are identifiers or provenance."""
NEVER_SHOWN = {"contradictions"}
ENUM_KEYS = {"status", "fee_kind", "channel", "unit", "type"}
"""Keys whose values are the schema's own words, not prose."""
UNKNOWN = "unknown"
"""The catalogue's keyword for a missing fact (said in Vietnamese by the bot)."""


def _strings(node: Any, path: Location) -> Iterator[tuple[Location, str]]:
    if isinstance(node, str):
        if node.strip().lower() != UNKNOWN:
            yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key not in NEVER_SHOWN and key not in ENUM_KEYS:
                yield from _strings(value, (*path, str(key)))
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from _strings(value, (*path, index))


def _check(node: Any, path: Location, policy: str) -> Iterator[tuple[Location, str]]:
    for where, text in _strings(node, path):
        found = markers(
            text, english=policy == FULL, name=where[-1:] in (("name",), ("short_name",))
        )
        if found:
            yield where, f"research note or English in text shown to people: {', '.join(found)}"


def lint_catalogue(data: Any) -> list[tuple[Location, str]]:
    """Markers in procedures.yaml (as loaded): each with its location and what was found."""
    problems: list[tuple[Location, str]] = []
    if not isinstance(data, Mapping):
        return problems
    ward = data.get("ward") or {}
    for key in ("name", "province", "address", "office_hours_note", "contacts", "police"):
        problems += _check(ward.get(key), ("ward", key), FULL)
    problems += _check(ward.get("local_fees"), ("ward", "local_fees"), FULL)
    for index, category in enumerate(data.get("categories") or []):
        problems += _check(category.get("name"), ("categories", index, "name"), FULL)
        problems += _check(category.get("aliases"), ("categories", index, "aliases"), MARKERS)
    problems += _check(data.get("common_rules"), ("common_rules",), FULL)
    for index, procedure in enumerate(data.get("procedures") or []):
        if not isinstance(procedure, Mapping):
            continue
        for key, value in procedure.items():
            policy = PROCEDURE_POLICY.get(str(key), SKIP)
            if policy != SKIP:
                problems += _check(value, ("procedures", index, str(key)), policy)
    return problems


def lint_intent(data: Any) -> list[tuple[Location, str]]:
    """Markers in one intent of intents.yaml: its answer is shown, its phrases are residents'."""
    if not isinstance(data, Mapping):
        return []
    return [
        *_check(data.get("answer"), ("answer",), FULL),
        *_check(data.get("description"), ("description",), MARKERS),
        *_check(data.get("phrases"), ("phrases",), MARKERS),
    ]


def lint_phrasings(data: Any) -> list[tuple[Location, str]]:
    """Research markers in phrasings.yaml: residents' words, like aliases and examples."""
    return list(_check(data, (), MARKERS)) if isinstance(data, Mapping) else []
