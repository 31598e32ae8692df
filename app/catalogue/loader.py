"""Read procedures.yaml and intents/ into validated objects, or a CatalogueError naming each line.

ruamel.yaml keeps the line of every key, so a pydantic error location such as
`procedures.3.deadline` is reported as `procedures.yaml:212: procedures[3] (1.000656).deadline`.
Keeping lines is slow, though (about 1.3 s for procedures.yaml with the portal's records), and
only a problem needs one: a text is first read fast (app.catalogue.fastyaml, libyaml's C
parser, the same data) and validated; only when that fails is it read round-trip and validated
again, so that every problem names its line.

The same code reads files (`load_content`) and stored texts (`load_documents`, a catalogue
version in the database), where the document's name stands for the file name. A bundle of
texts that validated is remembered by its content hash: the version a save validated, loaded
again by the process that saved it (or by another app in the same process), is not parsed twice.
A valid file is also remembered by its identity (inode, size, times): loading an unchanged file
again (another app in the same process, a reload with nothing changed) costs nothing, and any
change, including the atomic replace the editors do, is read afresh.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from app.catalogue.documents import (
    INTENTS,
    LEXICON,
    PHRASINGS,
    PROCEDURES,
    REQUIRED_DOCUMENTS,
    documents_hash,
)
from app.catalogue.fastyaml import NotFast, fast_load
from app.catalogue.intents import Intent, IntentSet, Lexicon, Phrasings
from app.catalogue.lint import Location, lint_catalogue, lint_intent, lint_phrasings
from app.catalogue.models import Catalogue
from app.catalogue.wards import (
    WardDefinition,
    WardFile,
    duplicate_oa_ids,
    is_ward_document,
    slug_of,
    ward_problems,
)
from app.errors import CatalogueError, Problem

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

INTENTS_FILE = "intents.yaml"
LEXICON_FILE = "lexicon.yaml"
PHRASINGS_FILE = "phrasings.yaml"


@dataclass(frozen=True)
class Content:
    """Everything the bot knows, loaded together so a reload swaps it in one step."""

    catalogue: Catalogue
    intents: IntentSet
    wards: tuple[WardDefinition, ...] = field(default=())
    """The ward files (`wards/<slug>.yaml`), by slug; none: the one ward of procedures.yaml."""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogueError([Problem(str(path), None, "", "file not found")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError([Problem(str(path), None, "", f"cannot read: {exc}")]) from exc


Parse = Callable[[str, str], Any]
"""(text, label) -> data: `_parse_fast`, or `_parse_yaml` when problems need their lines."""


def _parse_fast(text: str, label: str) -> Any:
    """The data alone, fast; NotFast sends the whole load to the round-trip reading."""
    return fast_load(text)


def _fast_then_exact(build: Callable[[Parse], T]) -> T:
    """`build` on texts read fast; when they do not read fast or do not validate, `build` again
    on the same texts read round-trip, whose problems (and only those) carry their lines."""
    try:
        return build(_parse_fast)
    except (NotFast, CatalogueError):
        return build(_parse_yaml)


def _parse_yaml(text: str, label: str) -> Any:
    """Round-trip (lines kept); `label` names the file (or the stored document) in every
    problem."""
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise CatalogueError([Problem(label, line, "", f"YAML syntax: {message}")]) from exc


def _same_key(node: dict[Any, Any], key: int | str) -> Any:
    """`key` in `node`, or the key written as something else that reads the same (an unquoted
    code is a number to YAML, and pydantic names it as a string)."""
    if key in node:
        return key
    return next((k for k in node if str(k) == str(key)), None)


def _line_of(node: Any, loc: Sequence[int | str]) -> tuple[int | None, str]:
    """Follow a pydantic error location into the ruamel tree: its deepest line and a path."""
    line: int | None = getattr(getattr(node, "lc", None), "line", None)
    line = line + 1 if line is not None else None
    parts: list[str] = []
    for key in loc:
        lc = getattr(node, "lc", None)
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            if lc is not None:
                line = lc.item(key)[0] + 1
            item = node[key]
            label = f"[{key}]"
            if isinstance(item, dict) and ("code" in item or "id" in item):
                label += f" ({item.get('code') or item.get('id')})"
            parts.append(label)
            node = item
        elif isinstance(node, dict) and (found := _same_key(node, key)) is not None:
            if lc is not None:
                line = lc.key(found)[0] + 1
            parts.append(f".{key}" if parts else str(key))
            node = node[found]
        else:
            parts.append(f".{key}" if parts else str(key))
            break
    return line, "".join(parts)


def _validate(model: type[M], data: Any, label: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            line, where = _line_of(data, error["loc"])
            problems.append(Problem(label, line, where, error["msg"]))
        raise CatalogueError(problems) from exc


def _lint_problems(data: Any, label: str, found: list[tuple[Location, str]]) -> list[Problem]:
    problems = []
    for location, message in found:
        line, where = _line_of(data, location)
        problems.append(Problem(label, line, where, message))
    return problems


_REMEMBERED = 8
_remembered: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_remembered_lock = threading.Lock()


def _identity(paths: Sequence[Path]) -> tuple[Any, ...] | None:
    """What changes whenever a file's content may have: None when a file cannot be stat'ed."""
    try:
        stats = [(path, path.stat()) for path in paths]
    except OSError:
        return None
    return tuple(
        (str(path.resolve()), s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
        for path, s in stats
    )


def _remember(kind: str, paths: Sequence[Path], load: Callable[[], T]) -> T:
    """`load()`, or what it returned for the same unchanged files (only successes are kept)."""
    identity = _identity(paths)
    if identity is None:
        return load()
    key = (kind, identity)
    with _remembered_lock:
        if key in _remembered:
            _remembered.move_to_end(key)
            found: T = _remembered[key]
            return found
    value = load()
    with _remembered_lock:
        _remembered[key] = value
        while len(_remembered) > _REMEMBERED:
            _remembered.popitem(last=False)
    return value


def load_catalogue(path: Path) -> Catalogue:
    """procedures.yaml as a validated Catalogue; research notes in shown text are refused too."""
    return _remember("catalogue", [path], lambda: _load_catalogue(path))


def _load_catalogue(path: Path) -> Catalogue:
    text, label = _read_text(path), str(path)
    return _fast_then_exact(lambda parse: _catalogue(parse(text, label), label))


def _catalogue(data: Any, label: str) -> Catalogue:
    """Parsed procedures.yaml validated, then linted for research notes in shown text."""
    catalogue = _validate(Catalogue, data, label)
    found = lint_catalogue(data) + catalogue.booking_problems()
    problems = _lint_problems(data, label, found)
    if problems:
        raise CatalogueError(problems)
    return catalogue


def load_intents(folder: Path) -> IntentSet:
    paths = [folder / INTENTS_FILE, folder / LEXICON_FILE, folder / PHRASINGS_FILE]
    return _remember("intents", paths, lambda: _load_intents(folder))


def _load_intents(folder: Path) -> IntentSet:
    paths = (folder / INTENTS_FILE, folder / LEXICON_FILE, folder / PHRASINGS_FILE)
    texts: dict[Path, str] = {}
    unread: list[Problem] = []
    for path in paths:
        try:
            texts[path] = _read_text(path)
        except CatalogueError as exc:
            unread.extend(exc.problems)

    def build(parse: Parse) -> IntentSet:
        problems = list(unread)
        parsed: dict[Path, Any] = {}
        for path, text in texts.items():
            try:
                parsed[path] = parse(text, str(path))
            except CatalogueError as exc:
                problems.extend(exc.problems)
        if problems:
            raise CatalogueError(problems)
        return _intent_set(*(parsed[p] for p in paths), *(str(p) for p in paths))

    return _fast_then_exact(build)


def _key_line(node: Any, key: str) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.key(key)[0] + 1 if lc is not None else None


def _intent_set(
    raw_intents: Any,
    raw_lexicon: Any,
    raw_phrasings: Any,
    intents_label: str,
    lexicon_label: str,
    phrasings_label: str,
) -> IntentSet:
    problems: list[Problem] = []
    intents: list[Intent] = []
    for index, item in enumerate((raw_intents or {}).get("intents") or []):
        try:
            intents.append(_validate(Intent, item, intents_label))
        except CatalogueError as exc:
            problems.extend(
                Problem(p.path, p.line, f"intents[{index}].{p.location}", p.message)
                for p in exc.problems
            )
        for p in _lint_problems(item, intents_label, lint_intent(item)):
            problems.append(Problem(p.path, p.line, f"intents[{index}].{p.location}", p.message))
    try:
        lexicon = _validate(Lexicon, raw_lexicon or {}, lexicon_label)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    raw_phrasings = raw_phrasings or {}
    try:
        phrasings = _validate(Phrasings, raw_phrasings, phrasings_label)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    problems += _lint_problems(raw_phrasings, phrasings_label, lint_phrasings(raw_phrasings))
    if problems:
        raise CatalogueError(problems)
    known = {intent.id for intent in intents}
    by_intent = raw_phrasings.get("intents") or {}
    for intent_id in phrasings.intents:
        if intent_id not in known:
            line = _key_line(by_intent, intent_id)
            message = "no intent has this id in intents.yaml"
            problems.append(Problem(phrasings_label, line, f"intents.{intent_id}", message))
    if problems:
        raise CatalogueError(problems)
    try:
        return IntentSet(intents=tuple(intents), lexicon=lexicon, phrasings=phrasings)
    except ValidationError as exc:
        raise CatalogueError(
            [Problem(intents_label, None, "", e["msg"]) for e in exc.errors()]
        ) from exc


def _unknown_codes(
    intent_set: IntentSet, catalogue: Catalogue, phrasings_text: str | None, label: str
) -> list[Problem]:
    """Phrasings of a procedure the catalogue does not hold (a typo, or a removed procedure).
    Only then is the phrasings text read round-trip, for the codes' lines."""
    unknown = [c for c in intent_set.phrasings.procedures if catalogue.procedure(c) is None]
    if not unknown:
        return []
    by_code: Any = {}
    if phrasings_text is not None:
        with contextlib.suppress(CatalogueError):
            by_code = (_parse_yaml(phrasings_text, label) or {}).get("procedures") or {}
    message = "no procedure has this code in procedures.yaml"
    return [Problem(label, _key_line(by_code, c), f"procedures.{c}", message) for c in unknown]


def load_content(procedures: Path, intents: Path) -> Content:
    """Load both content sources, reporting the problems of both at once."""
    problems: list[Problem] = []
    catalogue: Catalogue | None = None
    intent_set: IntentSet | None = None
    try:
        catalogue = load_catalogue(procedures)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    try:
        intent_set = load_intents(intents)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    if catalogue is not None and intent_set is not None:
        phrasings_path = intents / PHRASINGS_FILE
        text: str | None = None
        with contextlib.suppress(CatalogueError):
            text = _read_text(phrasings_path)
        problems += _unknown_codes(intent_set, catalogue, text, str(phrasings_path))
    if problems or catalogue is None or intent_set is None:
        raise CatalogueError(problems)
    return Content(catalogue=catalogue, intents=intent_set)


_REMEMBERED_BUNDLES = 2
"""The version served and the one saved or loaded next: each may hold a large catalogue."""
_remembered_bundles: OrderedDict[str, Content] = OrderedDict()
_bundles_lock = threading.Lock()


def load_documents(
    documents: Mapping[str, str], labels: Mapping[str, str] | None = None
) -> Content:
    """The same content from texts keyed by document name (app.catalogue.documents).

    Problems name each document by `labels[name]` when given (the file it was read from),
    otherwise by its name: `procedures.yaml:212: procedures[3] (1.000656).deadline: ...`.
    Documents the loader does not know yet are carried, not read. Only valid bundles are
    remembered (by content hash, so a change is always read afresh).
    """
    key = documents_hash(documents)
    with _bundles_lock:
        if key in _remembered_bundles:
            _remembered_bundles.move_to_end(key)
            return _remembered_bundles[key]
    content = _load_documents(documents, labels)
    with _bundles_lock:
        _remembered_bundles[key] = content
        while len(_remembered_bundles) > _REMEMBERED_BUNDLES:
            _remembered_bundles.popitem(last=False)
    return content


def _load_documents(documents: Mapping[str, str], labels: Mapping[str, str] | None) -> Content:

    def label(name: str) -> str:
        return (labels or {}).get(name, name)

    def build(parse: Parse) -> Content:
        problems: list[Problem] = []
        parsed: dict[str, Any] = {}
        for name in REQUIRED_DOCUMENTS:
            if name not in documents:
                problems.append(Problem(label(name), None, "", "document missing"))
                continue
            try:
                parsed[name] = parse(documents[name], label(name))
            except CatalogueError as exc:
                problems.extend(exc.problems)
        catalogue: Catalogue | None = None
        intent_set: IntentSet | None = None
        if PROCEDURES in parsed:
            try:
                catalogue = _catalogue(parsed[PROCEDURES], label(PROCEDURES))
            except CatalogueError as exc:
                problems.extend(exc.problems)
        if INTENTS in parsed and LEXICON in parsed and PHRASINGS in parsed:
            try:
                intent_set = _intent_set(
                    parsed[INTENTS],
                    parsed[LEXICON],
                    parsed[PHRASINGS],
                    label(INTENTS),
                    label(LEXICON),
                    label(PHRASINGS),
                )
            except CatalogueError as exc:
                problems.extend(exc.problems)
        if catalogue is not None and intent_set is not None:
            problems += _unknown_codes(
                intent_set, catalogue, documents.get(PHRASINGS), label(PHRASINGS)
            )
        wards: list[WardDefinition] = []
        if catalogue is not None:
            wards = _ward_definitions(documents, catalogue, parse, label, problems)
        if problems or catalogue is None or intent_set is None:
            raise CatalogueError(problems)
        return Content(catalogue=catalogue, intents=intent_set, wards=tuple(wards))

    return _fast_then_exact(build)


def _ward_definitions(
    documents: Mapping[str, str],
    catalogue: Catalogue,
    parse: Parse,
    label: Callable[[str], str],
    problems: list[Problem],
) -> list[WardDefinition]:
    """Every `wards/<slug>.yaml` document validated against the shared catalogue (app.catalogue
    .wards); problems are added to `problems`, each with its file and line."""
    wards: list[WardDefinition] = []
    parsed_by_slug: dict[str, Any] = {}
    for name in sorted(n for n in documents if is_ward_document(n)):
        slug = slug_of(name)
        if slug is None:
            message = "a ward file is wards/<slug>.yaml, slug in a-z, 0-9 and '-'"
            problems.append(Problem(label(name), None, "", message))
            continue
        try:
            data = parse(documents[name], label(name))
            ward_file = _validate(WardFile, data, label(name))
        except CatalogueError as exc:
            problems.extend(exc.problems)
            continue
        found = _lint_problems(data, label(name), lint_catalogue(data))
        definition = WardDefinition(
            slug, ward_file.oa_id, ward_file.ward, ward_file.hide, ward_file.procedures
        )
        found += _lint_problems(data, label(name), ward_problems(definition, catalogue))
        problems.extend(found)
        parsed_by_slug[slug] = data
        wards.append(definition)
    for oa_id, slugs in duplicate_oa_ids(wards).items():
        for slug in slugs[1:]:
            line, _ = _line_of(parsed_by_slug[slug], ("oa_id",))
            others = ", ".join(s for s in slugs if s != slug)
            problems.append(
                Problem(
                    label(f"wards/{slug}.yaml"),
                    line,
                    "oa_id",
                    f"OA {oa_id} already belongs to ward {others}",
                )
            )
    return wards
