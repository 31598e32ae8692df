"""Follow the live catalogue: load each new version from the database, and in development
import procedures.yaml and intents/ as a new version when they change.

Polling the version number is one cheap query on every database; polling the files'
modification times needs no dependency and works on every filesystem (including bind mounts,
where inotify often misses edits). A version or an edit that does not load is reported
(app.knowledge) and the last good catalogue keeps serving.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.catalogue_files import CatalogueFiles
from app.errors import CatalogueError
from app.jobs.periodic import PeriodicJob, in_thread
from app.knowledge import Knowledge

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(paths: tuple[Path, ...]) -> Fingerprint:
    """(path, mtime_ns, size) of every file under the given files and folders."""
    seen: list[tuple[str, int, int]] = []
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                seen.append((str(path), -1, -1))
                continue
            seen.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(seen)


class CatalogueWatcher(PeriodicJob):
    """Owned by `app.jobs.background.Background`: `start()` once, `await stop()` at shutdown."""

    name = "catalogue-watcher"
    sleep_first = True

    def __init__(
        self,
        files: CatalogueFiles,
        knowledge: Knowledge,
        interval: float,
        *,
        watch_files: bool,
    ) -> None:
        super().__init__(interval)
        self.files = files
        self.knowledge = knowledge
        self.watch_files = watch_files
        self._paths = files.paths.watched()
        self._seen = fingerprint(self._paths) if watch_files else ()

    async def check(self) -> bool | None:
        """One round: True when a new version now serves, False when the files or a new
        version were refused, None when nothing changed."""
        refused = False
        if self.watch_files:
            current = fingerprint(self._paths)
            if current != self._seen:
                # Parsing is CPU work: keep the event loop answering.
                try:
                    await in_thread(self.files.check_files)
                except CatalogueError as exc:
                    self.knowledge.file_problems = tuple(exc.problems)
                    log.error(
                        "catalogue: the edited files do not validate and were not imported; "
                        "version %s keeps serving:\n%s",
                        self.knowledge.version,
                        "\n".join(str(p) for p in exc.problems),
                    )
                    refused = True
                else:
                    self.knowledge.file_problems = ()
                # Not before: a round that failed otherwise (database down, a save racing
                # this one) looks at the same edit again next time.
                self._seen = current
        followed = await in_thread(self.knowledge.refresh)
        return False if refused else followed

    async def run_once(self) -> None:
        await self.check()
