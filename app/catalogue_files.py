"""The catalogue's files meet its versions: the seed, the start-up rules, the file watch,
import and export.

The versions in the database are what every process serves (app.catalogue_store); the files
in the image or the checkout only seed an empty database. With the file watch on
(development, the simulator), files that changed since they were last imported or exported on
this host are imported as a new version. Nothing is overwritten silently in either direction:
every decision at start is logged with the version served and why.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.catalogue.documents import DocumentPaths, documents_hash, text_hash
from app.catalogue_store import (
    CatalogueStore,
    Origin,
    UnknownVersion,
    VersionInfo,
    merge_files,
)
from app.errors import CatalogueConflict, CatalogueError, Problem, WardbotError
from app.knowledge import Knowledge, Snapshot
from app.storage.catalogue import file_sync, record_file_sync, stored_texts

log = logging.getLogger(__name__)

START_ATTEMPTS = 3
"""Processes starting together on an empty database race to seed it: the losers look again."""


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
class StartReport:
    """What a process serves after `CatalogueFiles.start`, and why."""

    version: int
    decision: str
    """seeded | same | imported | kept"""
    message: str
    file_problems: tuple[Problem, ...] = field(default=())


def default_location(paths: DocumentPaths) -> str:
    """Which files these are: the host and the absolute path of procedures.yaml."""
    return f"{socket.gethostname()}:{paths.procedures.resolve()}"


class CatalogueFiles:
    """The files at `paths` (the seed, and in development the watched files) and `store`."""

    def __init__(
        self, store: CatalogueStore, paths: DocumentPaths, *, location: str | None = None
    ) -> None:
        self.store = store
        self.db = store.db
        self.paths = paths
        self.location = location or default_location(paths)

    def _location_of(self, paths: DocumentPaths) -> str:
        return self.location if paths == self.paths else default_location(paths)

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
        info = self.store.import_documents(
            files,
            author=author,
            reason=reason,
            origin=origin,
            labels=paths.labels(),
            owned_folders=paths.owned_folders,
        )
        version = info.version if info is not None else self.store.current_version()
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
        target = to or self.paths
        number = version if version is not None else self.store.current_version()
        if number is None:
            raise UnknownVersion(0)
        documents = self.store.documents(number)
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
        complete = self.store.documents(number)
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
        current = self.store.current_version()
        try:
            files: dict[str, str] | None = self.paths.read()
            unreadable: CatalogueError | None = None
        except CatalogueError as exc:
            files, unreadable = None, exc
        if current is None:
            if files is None:
                assert unreadable is not None
                raise unreadable
            info = self.store.save(
                files,
                base=None,
                author="seed",
                reason=f"first start: the files at {self.location}",
                origin=Origin.seed,
                labels=self.paths.labels(),
            )
            assert info is not None
            record_file_sync(self.db, self.location, info.content_hash, info.version)
            return self._report(
                info.version,
                "seeded",
                f"the database held no catalogue: the files at {self.location} are now "
                f"version {info.version}",
            )
        served = self.store.info(current)
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
        if self._serves(files, current, served.content_hash):
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
                self.paths, author="file", reason="file changed", origin=Origin.file
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

    def _serves(self, files: dict[str, str], version: int, content_hash: str) -> bool:
        """Whether importing `files` would store what version `version` holds (documents the
        files do not hold, e.g. ward files on a host without WARDBOT_WARDS, are kept)."""
        if documents_hash(files) == content_hash:
            return True
        merged = merge_files(self.store.documents(version), files, self.paths.owned_folders)
        return documents_hash(merged) == content_hash

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
        return StartReport(version, decision, message, file_problems)

    def check_files(self) -> VersionInfo | None:
        """One round of the file watch: import the files if they changed since they were
        last imported or exported here and differ from the current version.

        Returns the new version, or None when there was nothing to import; raises
        CatalogueError (nothing imported) when they do not validate.
        """
        files = self.paths.read()
        files_hash = documents_hash(files)
        for attempt in range(START_ATTEMPTS):
            current = self.store.current_version()
            served = self.store.info(current) if current is not None else None
            if served is not None and self._serves(files, served.version, served.content_hash):
                record_file_sync(self.db, self.location, files_hash, current)
                return None
            synced = file_sync(self.db, self.location)
            if synced is not None and synced.content_hash == files_hash:
                return None  # touched, or back to what was last synced: nothing new
            try:
                info = self.import_files(
                    self.paths, author="file", reason="file changed", origin=Origin.file
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
    files: CatalogueFiles | None, knowledge: Knowledge, *, watch_files: bool
) -> Snapshot:
    """An admin's reload (POST /admin/reload, the console's button): import the watched
    files if they changed, then load the database's current version, even if it serves
    already. Raises CatalogueError when either is refused; the last good one keeps serving."""
    if watch_files and files is not None:
        try:
            files.check_files()
        except CatalogueError as exc:
            knowledge.file_problems = tuple(exc.problems)
            raise
        knowledge.file_problems = ()
    return knowledge.reload()
