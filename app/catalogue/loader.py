"""Read procedures.yaml and intents/ into validated objects, or a CatalogueError naming each line.

ruamel.yaml keeps the line of every key, so a pydantic error location such as
`procedures.3.deadline` is reported as `procedures.yaml:212: procedures[3] (1.000656).deadline`.

Reading procedures.yaml round-trip takes about two seconds now that it holds the portal's
records, so a valid catalogue is remembered by its file's identity (inode, size, times): loading
an unchanged file again (another app in the same process, a reload with nothing changed) costs
nothing, and any change, including the atomic replace the editors do, is read afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from app.catalogue.intents import Intent, IntentSet, Lexicon, Phrasings
from app.catalogue.lint import Location, lint_catalogue, lint_intent, lint_phrasings
from app.catalogue.models import Catalogue
from app.errors import CatalogueError, Problem

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

INTENTS_FILE = "intents.yaml"
LEXICON_FILE = "lexicon.yaml"
PHRASINGS_FILE = "phrasings.yaml"
"""Residents' phrasings that teach the matcher (app.catalogue.intents.Phrasings), in the intents
folder next to the other two."""


@dataclass(frozen=True)
class Content:
    """Everything the bot knows, loaded together so a reload swaps it in one step."""

    catalogue: Catalogue
    intents: IntentSet


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogueError([Problem(str(path), None, "", "file not found")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError([Problem(str(path), None, "", f"cannot read: {exc}")]) from exc
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise CatalogueError([Problem(str(path), line, "", f"YAML syntax: {message}")]) from exc


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


def _validate(model: type[M], data: Any, path: Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            line, where = _line_of(data, error["loc"])
            problems.append(Problem(str(path), line, where, error["msg"]))
        raise CatalogueError(problems) from exc


def _lint_problems(data: Any, path: Path, found: list[tuple[Location, str]]) -> list[Problem]:
    problems = []
    for location, message in found:
        line, where = _line_of(data, location)
        problems.append(Problem(str(path), line, where, message))
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
    data = _read_yaml(path)
    catalogue = _validate(Catalogue, data, path)
    problems = _lint_problems(data, path, lint_catalogue(data))
    if problems:
        raise CatalogueError(problems)
    return catalogue


@dataclass(frozen=True)
class _IntentsRead:
    intents: IntentSet
    code_lines: Mapping[str, int | None]
    """The line of each procedure code in phrasings.yaml: codes are checked against the
    catalogue, which only load_content sees."""


def load_intents(folder: Path) -> IntentSet:
    return _read_intents(folder).intents


def _read_intents(folder: Path) -> _IntentsRead:
    paths = [folder / INTENTS_FILE, folder / LEXICON_FILE, folder / PHRASINGS_FILE]
    return _remember("intents", paths, lambda: _load_intents(folder))


def _key_line(node: Any, key: str) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.key(key)[0] + 1 if lc is not None else None


def _load_intents(folder: Path) -> _IntentsRead:
    intents_path, lexicon_path = folder / INTENTS_FILE, folder / LEXICON_FILE
    phrasings_path = folder / PHRASINGS_FILE
    problems: list[Problem] = []
    raw: dict[Path, Any] = {}
    for path in (intents_path, lexicon_path, phrasings_path):
        try:
            raw[path] = _read_yaml(path)
        except CatalogueError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CatalogueError(problems)
    raw_intents, raw_lexicon, raw_phrasings = (
        raw[intents_path] or {},
        raw[lexicon_path] or {},
        raw[phrasings_path] or {},
    )
    intents: list[Intent] = []
    for index, item in enumerate(raw_intents.get("intents") or []):
        try:
            intents.append(_validate(Intent, item, intents_path))
        except CatalogueError as exc:
            problems.extend(
                Problem(p.path, p.line, f"intents[{index}].{p.location}", p.message)
                for p in exc.problems
            )
        for p in _lint_problems(item, intents_path, lint_intent(item)):
            problems.append(Problem(p.path, p.line, f"intents[{index}].{p.location}", p.message))
    try:
        lexicon = _validate(Lexicon, raw_lexicon, lexicon_path)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    try:
        phrasings = _validate(Phrasings, raw_phrasings, phrasings_path)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    problems += _lint_problems(raw_phrasings, phrasings_path, lint_phrasings(raw_phrasings))
    if problems:
        raise CatalogueError(problems)
    known = {intent.id for intent in intents}
    by_intent = raw_phrasings.get("intents") or {}
    for intent_id in phrasings.intents:
        if intent_id not in known:
            line = _key_line(by_intent, intent_id)
            message = "no intent has this id in intents.yaml"
            problems.append(Problem(str(phrasings_path), line, f"intents.{intent_id}", message))
    if problems:
        raise CatalogueError(problems)
    try:
        intent_set = IntentSet(intents=tuple(intents), lexicon=lexicon, phrasings=phrasings)
    except ValidationError as exc:
        raise CatalogueError(
            [Problem(str(intents_path), None, "", e["msg"]) for e in exc.errors()]
        ) from exc
    by_code = raw_phrasings.get("procedures") or {}
    return _IntentsRead(intent_set, {code: _key_line(by_code, code) for code in by_code})


def _unknown_codes(read: _IntentsRead, catalogue: Catalogue, folder: Path) -> list[Problem]:
    """Phrasings of a procedure the catalogue does not hold (a typo, or a removed procedure)."""
    path = str(folder / PHRASINGS_FILE)
    return [
        Problem(path, line, f"procedures.{code}", "no procedure has this code in procedures.yaml")
        for code, line in read.code_lines.items()
        if catalogue.procedure(code) is None
    ]


def load_content(procedures: Path, intents: Path) -> Content:
    """Load both content sources, reporting the problems of both at once."""
    problems: list[Problem] = []
    catalogue: Catalogue | None = None
    read: _IntentsRead | None = None
    try:
        catalogue = load_catalogue(procedures)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    try:
        read = _read_intents(intents)
    except CatalogueError as exc:
        problems.extend(exc.problems)
    if catalogue is not None and read is not None:
        problems.extend(_unknown_codes(read, catalogue, intents))
    if problems or catalogue is None or read is None:
        raise CatalogueError(problems)
    return Content(catalogue=catalogue, intents=read.intents)
