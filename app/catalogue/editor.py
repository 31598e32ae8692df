"""Edit procedures.yaml safely: round-trip (comments and order kept), validated, atomic.

`text_with_phrase` makes the new text in memory: the console saves it as a new catalogue version
(app.catalogue_store). `add_phrase` edits a file: the new text is written to a temporary file
beside the original, loaded with the same code that serves the bot, and only then moved over
the original with os.replace.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq

from app.catalogue.fastyaml import NotFast, fast_load
from app.catalogue.loader import load_content
from app.matching.normalize import normalize

_edit_lock = threading.Lock()
"""Two admins adding at once must not lose one of the edits (read-modify-write)."""


class PhraseKind(StrEnum):
    alias = "aliases"
    example = "examples"


class EditRefused(ValueError):
    """The edit cannot be made; the message is Vietnamese, for the admin."""


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the admin's long lines
    return yaml


def _item_line(yaml: YAML, phrase: str, dash_column: int) -> str:
    """`- phrase` as YAML would write it (quoted when needed), at the list's indentation."""
    buffer = io.StringIO()
    yaml.dump([phrase], buffer)
    return " " * dash_column + buffer.getvalue().strip() + "\n"


def _insert_after_last_item(text: str, values: Any, yaml: YAML, phrase: str) -> str | None:
    """Insert one line after the last item of a block list, leaving every other byte as it was.

    None when the list is not a non-empty block list.
    """
    if not values or getattr(values, "fa", None) is None or values.fa.flow_style():
        return None
    lines = text.splitlines(keepends=True)
    line, column = values.lc.item(len(values) - 1)
    dash = lines[line].rfind("-", 0, column)
    if dash < 0 or lines[line][:dash].strip():
        return None
    end = line + 1
    # A long item continues on more-indented lines.
    while (
        end < len(lines)
        and lines[end].strip()
        and (len(lines[end]) - len(lines[end].lstrip(" ")) > dash)
        and not lines[end].lstrip().startswith("#")
    ):
        end += 1
    lines.insert(end, _item_line(yaml, phrase, dash))
    return "".join(lines)


def _dash_offset(entry: Any) -> int:
    """Where this document puts a block list's dashes, relative to its key: the entry's own
    block lists say (`key:` then `- item` at the key's column, or indented)."""
    for key, value in entry.items():
        if isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
            return int(value.lc.col) - int(entry.lc.key(key)[1])
    return 0


def _flow_end(text: str, start: int) -> int | None:
    """The offset just past the `]` closing the flow sequence whose `[` is at `start`."""
    depth, index, quote = 0, start, ""
    while index < len(text):
        char = text[index]
        if quote:
            if quote == '"' and char == "\\":
                index += 1
            elif char == quote:
                if quote == "'" and text[index + 1 : index + 2] == "'":
                    index += 1  # '' is a quote inside a single-quoted scalar
                else:
                    quote = ""
        elif char in "'\"" and text[:index].rstrip()[-1:] in ("[", ",", "{", ":"):
            quote = char  # a quoted scalar (an apostrophe inside a plain word is not one)
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return None


def _as_block(text: str, entry: Any, key: str, values: Any, yaml: YAML, phrase: str) -> str | None:
    """Rewrite one flow list (`key: [a, b]`, `key: []`) or empty value (`key:`) as a block
    list ending with `phrase`; every other line stays as it was. None if it is not one."""
    lines = text.splitlines(keepends=True)
    key_line, key_column = entry.lc.key(key)
    head = lines[key_line]
    colon = head.find(":", key_column + len(str(key)))
    if colon < 0:
        return None
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    after_colon = offsets[key_line] + colon + 1
    if values is None:
        rest = head[colon + 1 :]
        value, _, comment = rest.partition("#")
        if value.strip() not in ("", "~", "null", "Null", "NULL"):
            return None
        end = offsets[key_line + 1]
        tail = ("  #" + comment.rstrip("\n")) if comment else ""
        items: list[Any] = []
    else:
        start_line, start_column = values.lc.line, values.lc.col
        start = offsets[start_line] + start_column
        if text[start : start + 1] != "[" or text[after_colon:start].strip():
            return None
        close = _flow_end(text, start)
        if close is None:
            return None
        line_end = text.find("\n", close)
        end = len(text) if line_end < 0 else line_end + 1
        tail = text[close:end].rstrip("\n")
        if tail.strip() and not tail.strip().startswith("#"):
            return None  # something else follows the list on its line
        items = list(values)
    dash = key_column + _dash_offset(entry)
    block = "".join(_item_line(yaml, item, dash) for item in [*items, phrase])
    return text[:after_colon] + tail.rstrip() + "\n" + block + text[end:]


def _add_key(text: str, data: Any, entry: Any, key: str, yaml: YAML, phrase: str) -> str | None:
    """Add `key:` with a one-item block list at the end of the procedure's entry."""
    lines = text.splitlines(keepends=True)
    keys = list(entry.keys())
    if not keys:
        return None
    column = int(entry.lc.key(keys[0])[1])
    procedures = data.get("procedures")
    index = next(i for i, p in enumerate(procedures) if p is entry)
    if index + 1 < len(procedures):
        bound = int(procedures[index + 1].lc.line)
    else:
        bound = int(entry.lc.key(keys[-1])[0]) + 1
        while bound < len(lines) and (
            not lines[bound].strip()
            or lines[bound].lstrip().startswith("#")
            or len(lines[bound]) - len(lines[bound].lstrip(" ")) >= column
        ):
            bound += 1
    # Blank lines and comments just before the next entry belong to it.
    while bound > 0 and (not lines[bound - 1].strip() or lines[bound - 1].lstrip().startswith("#")):
        bound -= 1
    if bound > 0 and not lines[bound - 1].endswith("\n"):
        lines[bound - 1] += "\n"
    dash = column + _dash_offset(entry)
    lines.insert(bound, " " * column + f"{key}:\n" + _item_line(yaml, phrase, dash))
    return "".join(lines)


def add_phrase(procedures: Path, intents: Path, code: str, phrase: str, kind: PhraseKind) -> bool:
    """Add `phrase` to the aliases or examples of procedure `code`.

    Returns False when an equivalent phrase (same normalised form) is already there. Raises
    EditRefused for an unknown procedure and CatalogueError when the result does not validate
    (the original file is then untouched).

    The file changes by the phrase's line only: a block list gets one line after its last
    item; a flow list (`[a, b]`), an empty one or a missing one becomes (just that list) a
    block list. Anything else in the file is left byte for byte.
    """
    phrase = " ".join(phrase.split())
    if not phrase:
        raise EditRefused("Câu hỏi trống.")
    with _edit_lock:
        return _add_phrase(procedures, intents, code, phrase, kind)


def _add_phrase(procedures: Path, intents: Path, code: str, phrase: str, kind: PhraseKind) -> bool:
    new_text = text_with_phrase(procedures.read_text(encoding="utf-8"), code, phrase, kind)
    if new_text is None:
        return False
    write_validated(procedures, intents, new_text)
    return True


def text_with_phrase(text: str, code: str, phrase: str, kind: PhraseKind) -> str | None:
    """procedures.yaml's `text` with `phrase` added to procedure `code` (comments and order
    kept); None when an equivalent phrase is already there. Not validated: the caller saves
    it through the code that validates (a new catalogue version, or `write_validated`)."""
    phrase = " ".join(phrase.split())
    if not phrase:
        raise EditRefused("Câu hỏi trống.")
    yaml = _yaml()
    data: Any = yaml.load(text)
    entry = _entry(data, code)
    key = kind.value
    values = entry.get(key)
    if values is not None and any(normalize(str(v)) == normalize(phrase) for v in values):
        return None
    if key not in entry:
        new_text = _add_key(text, data, entry, key, yaml, phrase)
    else:
        new_text = _insert_after_last_item(text, values, yaml, phrase)
        if new_text is None:
            new_text = _as_block(text, entry, key, values, yaml, phrase)
    if new_text is None:
        raise EditRefused(
            f"Không ghi được câu hỏi vào procedures.yaml: danh sách {key} của thủ tục {code} "
            "có dạng lạ, vui lòng sửa tay."
        )
    # Nothing may change but the phrase added to this one list. The new text is read fast
    # (and handed on to the validation of the same save); the round-trip reading decides
    # whenever the fast one cannot or differs.
    expected = _plain(data)
    _entry(expected, code)[key] = [*(_plain(values) or []), phrase]
    try:
        same = _plain(fast_load(new_text, hand_on=True)) == expected
    except NotFast:
        same = False
    if not same and _plain(yaml.load(new_text)) != expected:
        raise EditRefused("Không ghi được câu hỏi vào procedures.yaml.")
    return new_text


def _plain(value: Any) -> Any:
    """ruamel's round-trip objects as plain dicts, lists and scalars (for comparing)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _entry(data: Any, code: str) -> Any:
    procedures = data.get("procedures") if hasattr(data, "get") else None
    entry = next((p for p in procedures or [] if str(p.get("code")) == code), None)
    if entry is None:
        raise EditRefused(f"Không có thủ tục mã {code}.")
    return entry


def write_validated(procedures: Path, intents: Path, text: str) -> None:
    """Validate `text` as procedures.yaml, then atomically replace the file with it."""
    fd, name = tempfile.mkstemp(prefix=f".{procedures.name}.", suffix=".tmp", dir=procedures.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        load_content(temp, intents)  # raises CatalogueError; the original stays as it was
        if procedures.exists():
            os.chmod(temp, procedures.stat().st_mode & 0o777)
        os.replace(temp, procedures)
    finally:
        temp.unlink(missing_ok=True)
