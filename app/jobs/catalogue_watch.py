"""Watch procedures.yaml and intents/ and reload the live catalogue when they change.

Polling the files' modification times needs no dependency and works on every filesystem
(including bind mounts, where inotify often misses edits). An invalid edit is logged by
Knowledge.reload and the last good catalogue keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from app.errors import CatalogueError
from app.jobs.periodic import PeriodicJob
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

    def __init__(self, knowledge: Knowledge, interval: float) -> None:
        super().__init__(interval)
        self.knowledge = knowledge
        self._paths = (knowledge.procedures, knowledge.intents)
        self._seen = fingerprint(self._paths)

    async def check(self) -> bool | None:
        """Reload if the files changed: True reloaded, False refused, None unchanged."""
        current = fingerprint(self._paths)
        if current == self._seen:
            return None
        self._seen = current
        try:
            # Parsing and building the matcher is CPU work: keep the event loop answering.
            await asyncio.to_thread(self.knowledge.reload)
        except CatalogueError:
            return False  # Knowledge.reload logged every problem with its line
        return True

    async def run_once(self) -> None:
        await self.check()
