"""The live catalogue in the database: saved as versions, validated and version-checked.

Every change (an admin's console edit, `wardbot catalogue import`, a rollback, the watched
files in development) goes through `CatalogueStore.save`, which takes the version the change
started from: a save whose base is no longer current is refused (CatalogueConflict) rather
than overwriting the other admin's edit; an invalid bundle is refused with every problem's
line (CatalogueError) and stores nothing. Every process follows the current version
(app.knowledge); the files on disk meet the versions in app.catalogue_files.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.catalogue import Content, load_documents
from app.catalogue.documents import (
    documents_hash,
    text_hash,
    valid_name,
)
from app.errors import CatalogueConflict, CatalogueError, Problem, WardbotError
from app.knowledge import Knowledge
from app.storage.catalogue import (
    NewVersion,
    documents_of,
    get_version,
    insert_version,
    latest_version,
    list_versions,
)
from app.storage.database import Database, as_utc
from app.storage.tables import CatalogueVersion

log = logging.getLogger(__name__)

MAX_VERSION = 2**31 - 1
"""The largest version number the schema's INTEGER column holds (a form may claim any)."""
MAX_REASON_CHARS = 200
MAX_AUTHOR_CHARS = 100


class Origin(StrEnum):
    seed = "seed"
    """The files, on the first start with an empty database."""
    file = "file"
    """The watched files changed (development, the simulator)."""
    cli = "import"
    """`wardbot catalogue import`."""
    console = "console"
    """An admin's edit in the console."""
    rollback = "rollback"


class UnknownVersion(WardbotError, LookupError):
    def __init__(self, version: int) -> None:
        super().__init__(f"there is no catalogue version {version}")
        self.version = version


@dataclass(frozen=True)
class VersionInfo:
    version: int
    author: str
    origin: str
    reason: str
    created_at: datetime
    content_hash: str
    restored_from: int | None
    changed: tuple[str, ...]
    lines_added: int
    lines_removed: int

    @classmethod
    def of(cls, row: CatalogueVersion) -> VersionInfo:
        created_at = as_utc(row.created_at)
        assert created_at is not None
        return cls(
            version=row.version,
            author=row.author,
            origin=row.origin,
            reason=row.reason,
            created_at=created_at,
            content_hash=row.content_hash,
            restored_from=row.restored_from,
            changed=tuple(n for n in row.changed.split(",") if n),
            lines_added=row.lines_added,
            lines_removed=row.lines_removed,
        )


@dataclass(frozen=True)
class DocumentDiff:
    name: str
    lines: tuple[str, ...]
    """A unified diff (no trailing newlines); empty when the document did not change."""


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _diff_counts(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[list[str], int, int]:
    changed, added, removed = [], 0, 0
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        changed.append(name)
        for line in difflib.unified_diff(
            (old or "").splitlines(), (new or "").splitlines(), n=0, lineterm=""
        ):
            if line.startswith(("+++", "---")):
                continue
            if line.startswith("+"):
                added += 1
            elif line.startswith("-"):
                removed += 1
    return changed, added, removed


class CatalogueStore:
    """The catalogue's versions in `db`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # Reading ----------------------------------------------------------------------------

    def current_version(self) -> int | None:
        return latest_version(self.db)

    def documents(self, version: int) -> dict[str, str]:
        documents = documents_of(self.db, version)
        if not documents:
            raise UnknownVersion(version)
        return documents

    def content(self, version: int) -> Content:
        """The version, validated by the code running now (app.knowledge's source)."""
        return load_documents(self.documents(version))

    def info(self, version: int) -> VersionInfo | None:
        row = get_version(self.db, version)
        return VersionInfo.of(row) if row is not None else None

    def history(self, limit: int = 50, before: int | None = None) -> list[VersionInfo]:
        return [VersionInfo.of(r) for r in list_versions(self.db, limit, before)]

    def diff(self, old: int, new: int, context: int = 3) -> list[DocumentDiff]:
        """What changed from version `old` (0: nothing) to version `new`, per document."""
        before = self.documents(old) if old > 0 else {}
        after = self.documents(new)
        diffs = []
        for name in sorted(set(before) | set(after)):
            lines = difflib.unified_diff(
                before.get(name, "").splitlines(),
                after.get(name, "").splitlines(),
                fromfile=f"{name} (v{old})",
                tofile=f"{name} (v{new})",
                n=context,
                lineterm="",
            )
            diffs.append(DocumentDiff(name, tuple(lines)))
        return diffs

    # Saving -----------------------------------------------------------------------------

    def save(
        self,
        documents: Mapping[str, str],
        *,
        base: int | None,
        author: str,
        reason: str,
        origin: Origin,
        restored_from: int | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> VersionInfo | None:
        """Store `documents` (every document of the catalogue) as version `base + 1`.

        None when they equal version `base` (nothing to store). Raises CatalogueConflict when
        `base` is no longer the current version, CatalogueError when the bundle does not
        validate (with `labels`, problems name those files): nothing is stored then.
        """
        for name in documents:
            if not valid_name(name):
                raise CatalogueError([Problem(name, None, "", "not a catalogue document name")])
        current = self.current_version()
        if current != base:
            raise CatalogueConflict(base, current)
        before = self.documents(base) if base is not None else {}
        if base is not None and dict(documents) == before:
            return None
        load_documents(documents, labels)  # CatalogueError: nothing is stored
        changed, added, removed = _diff_counts(before, documents)
        row = insert_version(
            self.db,
            base,
            NewVersion(
                documents=documents,
                text_hashes={name: text_hash(text) for name, text in documents.items()},
                content_hash=documents_hash(documents),
                author=_one_line(author, MAX_AUTHOR_CHARS) or "?",
                origin=origin.value,
                reason=_one_line(reason, MAX_REASON_CHARS),
                restored_from=restored_from,
                changed=changed,
                lines_added=added,
                lines_removed=removed,
            ),
        )
        info = VersionInfo.of(row)
        log.info(
            "catalogue version saved",
            extra={
                "version": info.version,
                "origin": info.origin,
                "author": info.author,
                "changed": ",".join(changed),
            },
        )
        return info

    def edit(
        self,
        name: str,
        change: Callable[[str], str | None],
        *,
        base: int,
        author: str,
        reason: str,
    ) -> VersionInfo | None:
        """Save version `base` with one document changed by `change` (its text -> the new
        text, or None for no change): the console's edits (aliases, examples, facts)."""
        documents = self.documents(base)
        if name not in documents:
            raise CatalogueError([Problem(name, None, "", "document missing")])
        new_text = change(documents[name])
        if new_text is None or new_text == documents[name]:
            return None
        return self.save(
            {**documents, name: new_text},
            base=base,
            author=author,
            reason=reason,
            origin=Origin.console,
        )

    def rollback(
        self, version: int, *, base: int | None, author: str, reason: str = ""
    ) -> VersionInfo | None:
        """Make version `version` current again, as a new version (validated by today's code)."""
        documents = self.documents(version)
        return self.save(
            documents,
            base=base,
            author=author,
            reason=reason or f"rollback to version {version}",
            origin=Origin.rollback,
            restored_from=version,
        )

    def import_documents(
        self,
        documents: Mapping[str, str],
        *,
        author: str,
        reason: str,
        origin: Origin = Origin.cli,
        labels: Mapping[str, str] | None = None,
        owned_folders: tuple[str, ...] = (),
    ) -> VersionInfo | None:
        """Store documents read from files over the current version; documents not given
        are kept from it, except in `owned_folders` (e.g. `wards/`: the files hold that
        folder completely, so a deleted file is deleted). Raises CatalogueConflict only if a
        save lands in between."""
        base = self.current_version()
        current = self.documents(base) if base is not None else {}
        return self.save(
            merge_files(current, documents, owned_folders),
            base=base,
            author=author,
            reason=reason,
            origin=origin,
            labels=labels,
        )


def merge_files(
    current: Mapping[str, str], files: Mapping[str, str], owned_folders: tuple[str, ...] = ()
) -> dict[str, str]:
    """The bundle that importing `files` over `current` stores."""
    kept = {n: t for n, t in current.items() if not n.startswith(owned_folders)}
    return {**kept, **files}


def save_and_follow(
    knowledge: Knowledge, save: Callable[[], VersionInfo | None]
) -> VersionInfo | None:
    """Run a save (`CatalogueStore.edit`, `rollback`, ...), then serve its version in this
    process at once; the other processes follow within their poll interval. On a conflict
    this process loads the newest version too, so the page the admin reloads shows it."""
    try:
        saved = save()
    except CatalogueConflict:
        knowledge.refresh()
        raise
    if saved is not None:
        knowledge.refresh()
    return saved
