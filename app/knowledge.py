"""The live content: catalogue, intents, matcher and dialogue built together and swapped atomically.

A reload validates the files first; an invalid edit raises CatalogueError and the last good
snapshot keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from app.catalogue import Content, load_content
from app.catalogue.editor import _edit_lock as catalogue_edit_lock
from app.catalogue.editor import write_validated
from app.dialogue.conversation import Dialogue
from app.errors import CatalogueError, Problem
from app.matching.matcher import Matcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    content: Content
    matcher: Matcher
    dialogue: Dialogue


def build_snapshot(content: Content, state_ttl: timedelta) -> Snapshot:
    matcher = Matcher(content.catalogue, content.intents)
    return Snapshot(content, matcher, Dialogue(content, matcher, state_ttl=state_ttl))


class Knowledge:
    """Holds the current snapshot. Readers take `current` once per message and keep it."""

    def __init__(self, procedures: Path, intents: Path, state_ttl: timedelta) -> None:
        self.procedures = procedures
        self.intents = intents
        self.state_ttl = state_ttl
        self._lock = threading.Lock()
        self.problems: tuple[Problem, ...] = ()
        """What the last refused reload found; empty once a reload succeeds."""
        self._current = build_snapshot(load_content(procedures, intents), state_ttl)
        self._warn_sample_data()

    @property
    def current(self) -> Snapshot:
        return self._current

    def reload(self) -> Snapshot:
        """Validate and swap in the files on disk; if invalid, raise and keep serving."""
        with self._lock:
            try:
                content = load_content(self.procedures, self.intents)
            except CatalogueError as exc:
                self.problems = tuple(exc.problems)
                log.error(
                    "catalogue reload refused; the last good catalogue keeps serving:\n%s",
                    "\n".join(str(p) for p in exc.problems),
                )
                raise
            snapshot = build_snapshot(content, self.state_ttl)
            self._current, self.problems = snapshot, ()
        log.info(
            "catalogue reloaded", extra={"procedures": len(snapshot.content.catalogue.procedures)}
        )
        self._warn_sample_data()
        return snapshot

    def publish(self, edit: Callable[[str], str]) -> Snapshot:
        """Apply `edit` to procedures.yaml's text, validate the result, replace the file
        atomically and serve it: the one way an edited catalogue goes live.

        Raises CatalogueError (the file and the serving catalogue untouched) when the result
        is invalid, and whatever `edit` raises. Holds the alias editor's lock, so two admins'
        edits never interleave a read-modify-write.
        """
        with catalogue_edit_lock:
            text = self.procedures.read_text(encoding="utf-8")
            write_validated(self.procedures, self.intents, edit(text))
            return self.reload()

    def _warn_sample_data(self) -> None:
        if self._current.content.catalogue.ward.sample_data:
            log.warning(
                "procedures.yaml still holds the SAMPLE ward profile: replace it before going live"
            )
