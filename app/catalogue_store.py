"""The live catalogue in the database: saved as versions, validated and version-checked.

Every change (an admin's console edit, `wardbot catalogue import`, a rollback, the watched
files in development) goes through `CatalogueStore.save`, which takes the version the change
started from: a save whose base is no longer current is refused (CatalogueConflict) rather
than overwriting the other admin's edit; an invalid bundle is refused with every problem's
line (CatalogueError) and stores nothing. Every process follows the current version
(app.knowledge). The files on disk are the seed of an empty database, and in development
the file watch imports them when they change (`start`, `check_files`).
"""

from __future__ import annotations

import difflib
import logging
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from app.catalogue import Content, load_documents
from app.catalogue.documents import (
    DocumentPaths,
    documents_hash,
    text_hash,
    valid_name,
)
from app.errors import CatalogueConflict, CatalogueError, Problem, WardbotError
from app.knowledge import Knowledge, Snapshot
from app.storage.catalogue import (
    CatalogueVersion,
    NewVersion,
    documents_of,
    file_sync,
    get_version,
    insert_version,
    latest_version,
    list_versions,
    record_file_sync,
    stored_texts,
)
from app.storage.database import Database, as_utc

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 200
MAX_AUTHOR_CHARS = 100
START_ATTEMPTS = 3
"""Processes starting together on an empty database race to seed it: the losers look again."""


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


class ExportRefused(WardbotError):
    """Writing the files would lose edits in them that no version holds."""

    def __init__(self, paths: Sequence[Path]) -> None:
        names = ", ".join(str(p) for p in paths)
        super().__init__(
            f"{names} hold(s) changes that no catalogue version holds; import them first "
            "(wardbot catalogue import) or overwrite them (--force)"
        )
        self.paths = tuple(paths)


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


@dataclass(frozen=True)
class StartReport:
    """What a process serves after `CatalogueStore.start`, and why."""

    version: int
    decision: str
    """seeded | same | imported | kept"""
    message: str
    content: Content | None = None
    """The version, already validated (saves parsing it again), when the start validated it."""
    file_problems: tuple[Problem, ...] = field(default=())


def default_location(paths: DocumentPaths) -> str:
    """Which files these are: the host and the absolute path of procedures.yaml."""
    return f"{socket.gethostname()}:{paths.procedures.resolve()}"


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
    """The catalogue's versions in `db`; `files` are the seed and, in development, watched."""

    def __init__(self, db: Database, files: DocumentPaths, *, location: str | None = None) -> None:
        self.db = db
        self.files = files
        self.location = location or default_location(files)
        self._validated: tuple[str, Content] | None = None
        """The last bundle validated here, by content hash: a save is validated once, and
        loading the version it made does not parse it again."""

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
        return self._validate(self.documents(version))

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

    def _validate(
        self, documents: Mapping[str, str], labels: Mapping[str, str] | None = None
    ) -> Content:
        digest = documents_hash(documents)
        cached = self._validated
        if cached is not None and cached[0] == digest:
            return cached[1]
        content = load_documents(documents, labels)
        self._validated = (digest, content)
        return content

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
        self._validate(documents, labels)
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
    ) -> VersionInfo | None:
        """Store documents read from files over the current version; documents not given
        are kept from it. Raises CatalogueConflict only if a save lands in between."""
        base = self.current_version()
        current = self.documents(base) if base is not None else {}
        return self.save(
            {**current, **documents},
            base=base,
            author=author,
            reason=reason,
            origin=origin,
            labels=labels,
        )

    # Files ------------------------------------------------------------------------------

    def _location_of(self, paths: DocumentPaths) -> str:
        return self.location if paths == self.files else default_location(paths)

    def import_files(
        self,
        paths: DocumentPaths,
        *,
        author: str,
        reason: str,
        origin: Origin = Origin.cli,
    ) -> VersionInfo | None:
        """Store the files at `paths` over the current version (errors name the files), and
        remember that they were imported: their file watch will not import them again."""
        files = paths.read()
        info = self.import_documents(
            files, author=author, reason=reason, origin=origin, labels=paths.labels()
        )
        version = info.version if info is not None else self.current_version()
        record_file_sync(self.db, self._location_of(paths), documents_hash(files), version)
        return info

    def export(
        self,
        to: DocumentPaths | None = None,
        *,
        version: int | None = None,
        names: Sequence[str] | None = None,
        force: bool = False,
    ) -> tuple[int, list[Path]]:
        """Write a version's documents (default: the current one; `names`: only those) to
        files (default: the configured ones), byte for byte as stored: comments and order
        kept. Returns the version and the files written.

        Refuses (ExportRefused) to overwrite a file holding a text that no version holds
        (an edit never imported) unless `force`.
        """
        target = to or self.files
        number = version if version is not None else self.current_version()
        if number is None:
            raise UnknownVersion(0)
        documents = self.documents(number)
        if names is not None:
            documents = {name: documents[name] for name in names if name in documents}
        if not force:
            at_risk: dict[Path, str] = {}
            for name, text in documents.items():
                path = target.path_of(name)
                try:
                    existing = path.read_text(encoding="utf-8")
                except FileNotFoundError:
                    continue
                if existing != text:
                    at_risk[path] = text_hash(existing)
            known = stored_texts(self.db, list(at_risk.values()))
            lost = [path for path, digest in at_risk.items() if digest not in known]
            if lost:
                raise ExportRefused(lost)
        written = target.write(documents)
        complete = self.documents(number)
        if set(documents) == set(complete):
            record_file_sync(self.db, self._location_of(target), documents_hash(documents), number)
        return number, written

    def start(self, *, watch_files: bool) -> StartReport:
        """The start-up rules: which version this process serves, importing the files when
        they are the seed (empty database) or, with the file watch on, changed since they
        were last imported or exported here. Never overwrites either side silently: every
        decision is logged with its reason. Raises CatalogueError only when there is nothing
        to serve (an empty database and invalid files)."""
        for _ in range(START_ATTEMPTS - 1):
            try:
                return self._start(watch_files)
            except CatalogueConflict:
                continue  # another process saved meanwhile (two starting together): look again
        return self._start(watch_files)

    def _start(self, watch_files: bool) -> StartReport:
        current = self.current_version()
        try:
            files: dict[str, str] | None = self.files.read()
            unreadable: CatalogueError | None = None
        except CatalogueError as exc:
            files, unreadable = None, exc
        if current is None:
            if files is None:
                assert unreadable is not None
                raise unreadable
            info = self.save(
                files,
                base=None,
                author="seed",
                reason=f"first start: the files at {self.location}",
                origin=Origin.seed,
                labels=self.files.labels(),
            )
            assert info is not None
            record_file_sync(self.db, self.location, info.content_hash, info.version)
            return self._report(
                info.version,
                "seeded",
                f"the database held no catalogue: the files at {self.location} are now "
                f"version {info.version}",
            )
        served = self.info(current)
        assert served is not None
        who = (
            served.origin
            if served.author == served.origin
            else f"{served.origin} by {served.author}"
        )
        what = (
            f"version {current} ({who} at {served.created_at:%Y-%m-%d %H:%M} UTC: {served.reason})"
        )
        if files is None:
            assert unreadable is not None
            return self._report(
                current,
                "kept",
                f"serving {what} from the database; the files cannot be read: "
                + "; ".join(str(p) for p in unreadable.problems),
                level=logging.WARNING,
            )
        files_hash = documents_hash(files)
        if files_hash == served.content_hash:
            if watch_files:
                record_file_sync(self.db, self.location, files_hash, current)
            return self._report(current, "same", f"serving {what}; the files hold the same")
        synced = file_sync(self.db, self.location) if watch_files else None
        if synced is not None and synced.content_hash != files_hash:
            return self._import_changed_files(current, what)
        if watch_files and synced is None:
            # From now on an edit of these files is told apart from the database moving on.
            record_file_sync(self.db, self.location, files_hash, None)
        if not watch_files:
            why = "the file watch is off (production): the files are only the seed"
        elif synced is None:
            why = "these files were never imported from here"
        else:
            why = "the files have not changed since they were last imported or exported here"
        return self._report(
            current,
            "kept",
            f"the files at {self.location} differ from the database's current catalogue; "
            f"serving {what}, because {why}. `wardbot catalogue import` stores the files as "
            f"a new version; `wardbot catalogue export` writes version {current} to them",
            level=logging.WARNING,
        )

    def _import_changed_files(self, current: int, what: str) -> StartReport:
        try:
            info = self.import_files(
                self.files, author="file", reason="file changed", origin=Origin.file
            )
        except CatalogueError as exc:
            return self._report(
                current,
                "kept",
                f"the files at {self.location} changed since they were last imported but do "
                f"not validate, so they were not imported; serving {what}:\n"
                + "\n".join(str(p) for p in exc.problems),
                level=logging.ERROR,
                file_problems=tuple(exc.problems),
            )
        if info is None:  # someone stored the same files meanwhile
            return self._report(current, "same", f"serving {what}; the files hold the same")
        return self._report(
            info.version,
            "imported",
            f"the files at {self.location} changed since they were last imported or "
            f"exported here: imported them as version {info.version}, after {what}",
            level=logging.WARNING,
        )

    def _report(
        self,
        version: int,
        decision: str,
        message: str,
        *,
        level: int = logging.INFO,
        file_problems: tuple[Problem, ...] = (),
    ) -> StartReport:
        log.log(level, "catalogue: %s", message, extra={"version": version, "decision": decision})
        cached = self._validated
        info = self.info(version)
        content = (
            cached[1]
            if cached is not None and info is not None and cached[0] == info.content_hash
            else None
        )
        return StartReport(version, decision, message, content, file_problems)

    def check_files(self) -> VersionInfo | None:
        """One round of the file watch: import the files if they changed since they were
        last imported or exported here and differ from the current version.

        Returns the new version, or None when there was nothing to import; raises
        CatalogueError (nothing imported) when they do not validate.
        """
        files = self.files.read()
        files_hash = documents_hash(files)
        for attempt in range(START_ATTEMPTS):
            current = self.current_version()
            served = self.info(current) if current is not None else None
            if served is not None and served.content_hash == files_hash:
                record_file_sync(self.db, self.location, files_hash, current)
                return None
            synced = file_sync(self.db, self.location)
            if synced is not None and synced.content_hash == files_hash:
                return None  # touched, or back to what was last synced: nothing new
            try:
                info = self.import_files(
                    self.files, author="file", reason="file changed", origin=Origin.file
                )
            except CatalogueConflict:
                if attempt == START_ATTEMPTS - 1:
                    raise
                continue
            if info is None:
                return None
            # Loud when the edit supersedes a version these files never held (someone else's).
            moved_on = synced is not None and synced.version != current
            log.log(
                logging.WARNING if moved_on else logging.INFO,
                "catalogue: the files at %s changed: imported them as version %s%s",
                self.location,
                info.version,
                f", after version {current} ({served.origin} by {served.author}), which "
                "they did not hold"
                if moved_on and served is not None
                else "",
                extra={"version": info.version},
            )
            return info
        return None


def reload_now(
    store: CatalogueStore | None, knowledge: Knowledge, *, watch_files: bool
) -> Snapshot:
    """An admin's reload (POST /admin/reload, the console's button): import the watched
    files if they changed, then load the database's current version, even if it serves
    already. Raises CatalogueError when either is refused; the last good one keeps serving."""
    if watch_files and store is not None:
        try:
            store.check_files()
        except CatalogueError as exc:
            knowledge.file_problems = tuple(exc.problems)
            raise
        knowledge.file_problems = ()
    return knowledge.reload()


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
