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

    None when the list is not a non-empty block list (then the caller re-dumps the document).
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


def add_phrase(procedures: Path, intents: Path, code: str, phrase: str, kind: PhraseKind) -> bool:
    """Add `phrase` to the aliases or examples of procedure `code`.

    Returns False when an equivalent phrase (same normalised form) is already there. Raises
    EditRefused for an unknown procedure and CatalogueError when the result does not validate
    (the original file is then untouched).
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
    values = entry.get(kind.value)
    if values is not None and any(normalize(str(v)) == normalize(phrase) for v in values):
        return None
    new_text = _insert_after_last_item(text, values, yaml, phrase)
    if new_text is None:
        # No block list to extend: let ruamel write the document (comments and order kept).
        if values is None:
            entry[kind.value] = values = []
        values.append(phrase)
        buffer = io.StringIO()
        yaml.dump(data, buffer)
        new_text = buffer.getvalue()
    added = _entry(yaml.load(new_text), code).get(kind.value) or []
    if phrase not in [str(v) for v in added]:
        raise EditRefused("Không ghi được câu hỏi vào procedures.yaml.")
    return new_text


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
