"""The live content: catalogue, intents, matcher and dialogue built together and swapped atomically.

The content comes from a catalogue source (the database's versions, app.catalogue_store): a
process loads the current version at start and follows new ones (`refresh`). A version that
does not load raises no alarm in the dialogue: the last good snapshot keeps serving, and
`refused` says which version failed and why (/readyz, the console).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from app.catalogue import Content
from app.dialogue.conversation import Dialogue
from app.errors import CatalogueError, Problem
from app.matching.matcher import Matcher
from app.wards import Ward, Wards, wards_of

log = logging.getLogger(__name__)

FALLBACK_VERSIONS = 10
"""At start, how many older versions to try when the current one does not load (e.g. a new
release validates more strictly): the newest that loads serves, the failure is reported."""


@dataclass(frozen=True)
class Snapshot:
    content: Content
    matcher: Matcher
    dialogue: Dialogue
    """The shared catalogue's dialogue (the single ward of procedures.yaml)."""
    wards: Wards = field(repr=False)
    """Which OA is which ward in this version."""
    version: int | None = None
    """The catalogue version it was built from (None: built from files, e.g. `wardbot ask`)."""
    _dialogues: dict[str, Dialogue] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ward_of(self, oa_id: str) -> Ward | None:
        """The ward whose OA this is in this version; None: no ward claims it."""
        return self.wards.by_oa(oa_id)

    def dialogue_for(self, ward: Ward) -> Dialogue:
        """The ward's dialogue, built on first use and kept for this version: its profile
        over the shared matcher when it offers exactly the shared procedures (most wards),
        its own matcher when it hides or adds some."""
        if ward.definition is None:
            return self.dialogue
        with self._lock:
            found = self._dialogues.get(ward.slug)
            if found is None:
                catalogue = ward.catalogue
                content = Content(catalogue, self.content.intents, self.content.wards)
                matcher = (
                    self.matcher
                    if ward.shares_procedures
                    else Matcher(catalogue, self.content.intents)
                )
                found = Dialogue(content, matcher, state_ttl=self.dialogue.state_ttl)
                self._dialogues[ward.slug] = found
            return found


def build_snapshot(
    content: Content,
    state_ttl: timedelta,
    version: int | None = None,
    *,
    single_oa_id: str | None = None,
) -> Snapshot:
    """`single_oa_id`: ZALO_OA_ID, the OA of procedures.yaml's ward when there are no ward
    files (None: whichever OA the events come from)."""
    matcher = Matcher(content.catalogue, content.intents)
    return Snapshot(
        content,
        matcher,
        Dialogue(content, matcher, state_ttl=state_ttl),
        wards_of(content, single_oa_id=single_oa_id),
        version,
    )


class CatalogueSource(Protocol):
    """Where the content comes from: numbered versions, the highest one current."""

    def current_version(self) -> int | None:
        """Cheap: every process asks every few seconds. None: no version yet."""
        ...

    def content(self, version: int) -> Content:
        """The version, validated; CatalogueError when it does not load."""
        ...


@dataclass(frozen=True)
class Refused:
    """A version this process could not load: it keeps serving the one before."""

    version: int
    problems: tuple[Problem, ...]


class Knowledge:
    """Holds the current snapshot. Readers take `current` once per message and keep it."""

    def __init__(
        self, source: CatalogueSource, state_ttl: timedelta, *, single_oa_id: str | None = None
    ) -> None:
        """Load the current version. Raises CatalogueError when neither it nor one of the
        versions just before loads. `single_oa_id`: see `build_snapshot`."""
        self.source = source
        self.state_ttl = state_ttl
        self.single_oa_id = single_oa_id
        self._lock = threading.Lock()
        self.refused: Refused | None = None
        """The newest version that did not load; None once a newer one loads."""
        self.file_problems: tuple[Problem, ...] = ()
        """What the last refused import of the watched files found (app.catalogue_files)."""
        self._current = self._first_snapshot()
        self._warn_sample_data()

    @property
    def current(self) -> Snapshot:
        return self._current

    @property
    def version(self) -> int | None:
        return self._current.version

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Everything refused that an admin should fix: a stored version, the watched files."""
        refused = self.refused.problems if self.refused is not None else ()
        return refused + self.file_problems

    def _first_snapshot(self) -> Snapshot:
        current = self.source.current_version()
        if current is None:
            raise CatalogueError(
                [Problem("catalogue", None, "", "the database holds no catalogue version")]
            )
        first_error: CatalogueError | None = None
        for version in range(current, max(0, current - FALLBACK_VERSIONS), -1):
            try:
                content = self.source.content(version)
            except CatalogueError as exc:
                if first_error is None:
                    first_error = exc
                    self.refused = Refused(current, tuple(exc.problems))
                    self._log_refused(self.refused, serving=None)
                continue
            if version != current:
                log.error(
                    "catalogue version %s does not load; serving version %s, the newest that does",
                    current,
                    version,
                )
            return build_snapshot(content, self.state_ttl, version, single_oa_id=self.single_oa_id)
        assert first_error is not None
        raise first_error

    def refresh(self) -> bool | None:
        """Follow the source: True when a new version now serves, False when it was refused
        (the last good one keeps serving), None when there is nothing new."""
        current = self.source.current_version()
        if current is None or current == self.version:
            return None
        if self.refused is not None and self.refused.version == current:
            return False  # already reported; a newer version will be tried
        try:
            self._load(current)
        except CatalogueError:
            return False
        return True

    def reload(self) -> Snapshot:
        """Load the current version now, even if it is the one serving (an admin's reload);
        raises CatalogueError if it does not load, the last good one serving on."""
        current = self.source.current_version()
        if current is None:
            raise CatalogueError(
                [Problem("catalogue", None, "", "the database holds no catalogue version")]
            )
        return self._load(current)

    def _load(self, version: int) -> Snapshot:
        with self._lock:
            try:
                content = self.source.content(version)
            except CatalogueError as exc:
                self.refused = Refused(version, tuple(exc.problems))
                self._log_refused(self.refused, serving=self.version)
                raise
            snapshot = build_snapshot(
                content, self.state_ttl, version, single_oa_id=self.single_oa_id
            )
            self._current, self.refused = snapshot, None
        log.info(
            "catalogue version loaded",
            extra={"version": version, "procedures": len(content.catalogue.procedures)},
        )
        self._warn_sample_data()
        return snapshot

    @staticmethod
    def _log_refused(refused: Refused, serving: int | None) -> None:
        log.error(
            "catalogue version %s refused; %s:\n%s",
            refused.version,
            f"version {serving} keeps serving" if serving is not None else "looking further back",
            "\n".join(str(p) for p in refused.problems),
        )

    def _warn_sample_data(self) -> None:
        wards = self._current.wards
        if not wards.from_files and self._current.content.catalogue.ward.sample_data:
            log.warning(
                "procedures.yaml still holds the SAMPLE ward profile: replace it before going live"
            )
        samples = [w.slug for w in wards if wards.from_files and w.profile.sample_data]
        if samples:
            log.warning(
                "ward files still hold SAMPLE profiles: %s; replace them before going live",
                ", ".join(samples[:20]),
            )
