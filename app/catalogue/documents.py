"""The catalogue as a bundle of named YAML documents, and where they live on disk.

A stored catalogue version is a mapping of document names to their full texts, keyed by the
path relative to the content root: `procedures.yaml`, `intents/intents.yaml`,
`intents/lexicon.yaml`, `intents/phrasings.yaml` (later also `wards/<slug>.yaml`). The files on
disk are the same documents; `DocumentPaths` maps a name to its file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.errors import CatalogueError, Problem

PROCEDURES = "procedures.yaml"
INTENTS = "intents/intents.yaml"
LEXICON = "intents/lexicon.yaml"
PHRASINGS = "intents/phrasings.yaml"
"""Residents' messages the matcher learns from (training data, not must-pass questions)."""
REQUIRED_DOCUMENTS = (PROCEDURES, INTENTS, LEXICON, PHRASINGS)
"""What the loader needs; a version may hold more (names are open-ended)."""

_INTENTS_FOLDER = "intents/"
WARDS_FOLDER = "wards/"
"""Ward files: `wards/<slug>.yaml` (app.catalogue.wards), in the WARDBOT_WARDS folder."""


def valid_name(name: str) -> bool:
    """A relative POSIX path to a .yaml file that stays inside the content root."""
    path = PurePosixPath(name)
    return (
        bool(name)
        and not path.is_absolute()
        and "\\" not in name
        and "," not in name  # versions list their changed documents comma-separated
        and ".." not in path.parts
        and "." not in path.parts
        and name.endswith(".yaml")
        and str(path) == name
    )


def documents_hash(documents: Mapping[str, str]) -> str:
    """One digest of the names and texts: equal bundles have equal hashes."""
    digest = hashlib.sha256()
    for name in sorted(documents):
        for part in (name, documents[name]):
            data = part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
    return digest.hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DocumentPaths:
    """The files of a catalogue on disk: procedures.yaml, the intents/ folder and, when
    configured, the folder of ward files.

    Names under `intents/` live in the intents folder (WARDBOT_INTENTS), names under `wards/`
    in the wards folder (WARDBOT_WARDS; unset: `wards/` beside procedures.yaml, which is then
    neither read nor watched), every other name beside procedures.yaml.
    """

    procedures: Path
    intents: Path
    wards: Path | None = None

    @classmethod
    def under(cls, root: Path, *, with_wards: bool = False) -> DocumentPaths:
        """The layout of a checkout or an export folder: root/procedures.yaml, root/intents/
        (and root/wards/ when `with_wards`)."""
        wards = root / WARDS_FOLDER.rstrip("/") if with_wards else None
        return cls(root / PROCEDURES, root / _INTENTS_FOLDER.rstrip("/"), wards)

    def path_of(self, name: str) -> Path:
        if not valid_name(name):
            raise ValueError(f"not a catalogue document name: {name!r}")
        if name == PROCEDURES:
            return self.procedures
        if name.startswith(_INTENTS_FOLDER):
            return self.intents / name.removeprefix(_INTENTS_FOLDER)
        if name.startswith(WARDS_FOLDER) and self.wards is not None:
            return self.wards / name.removeprefix(WARDS_FOLDER)
        return self.procedures.parent / name

    @property
    def owned_folders(self) -> tuple[str, ...]:
        """Folders of documents these files hold completely: a document missing from the
        files (a deleted ward file) is missing from what they import."""
        return (WARDS_FOLDER,) if self.wards is not None else ()

    def ward_names(self) -> list[str]:
        """`wards/<slug>.yaml` for every .yaml file in the wards folder (none when unset)."""
        if self.wards is None:
            return []
        try:
            files = sorted(p.name for p in self.wards.iterdir() if p.suffix == ".yaml")
        except FileNotFoundError:
            return []
        return [f"{WARDS_FOLDER}{name}" for name in files if not name.startswith(".")]

    def labels(self, names: tuple[str, ...] | None = None) -> dict[str, str]:
        """Document name -> the file name errors should show (today's line-numbered errors)."""
        if names is None:
            names = (*REQUIRED_DOCUMENTS, *self.ward_names())
        return {name: str(self.path_of(name)) for name in names}

    def read(self) -> dict[str, str]:
        """The texts of every document on disk; a CatalogueError names each unreadable file."""
        texts: dict[str, str] = {}
        problems: list[Problem] = []
        if self.wards is not None and not self.wards.is_dir():
            problems.append(Problem(str(self.wards), None, "", "folder of ward files not found"))
        for name in (*REQUIRED_DOCUMENTS, *self.ward_names()):
            path = self.path_of(name)
            try:
                texts[name] = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                problems.append(Problem(str(path), None, "", "file not found"))
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Problem(str(path), None, "", f"cannot read: {exc}"))
        if problems:
            raise CatalogueError(problems)
        return texts

    def watched(self) -> tuple[Path, ...]:
        """What a file watch should look at for changes."""
        if self.wards is not None:
            return (self.procedures, self.intents, self.wards)
        return (self.procedures, self.intents)

    def write(self, documents: Mapping[str, str]) -> list[Path]:
        """Write each document over its file, atomically one by one; returns the paths."""
        written: list[Path] = []
        for name in sorted(documents):
            path = self.path_of(name)
            write_atomically(path, documents[name])
            written.append(path)
        return written


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then move it over `path` (os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(temp, mode)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
