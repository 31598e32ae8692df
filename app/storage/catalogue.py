"""Catalogue versions: tables and small query functions.

A version is a numbered bundle of documents (name -> full text) with its author, time and
reason. Texts are stored once per content (`catalogue_texts`, keyed by their SHA-256), so a
version that changes one document does not copy the others. The current version is the
highest number; a new one is always `base + 1`, so the primary key refuses a save whose base
is no longer current, on SQLite and PostgreSQL alike, even when two saves race.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from app.errors import CatalogueConflict
from app.storage.database import Database
from app.storage.tables import (
    CatalogueDocument,
    CatalogueFileSync,
    CatalogueText,
    CatalogueVersion,
    utcnow,
)


def _compress(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def _decompress(data: bytes) -> str:
    return zlib.decompress(data).decode("utf-8")


@dataclass(frozen=True)
class NewVersion:
    """What `insert_version` stores as version `base + 1`."""

    documents: Mapping[str, str]
    text_hashes: Mapping[str, str]
    """Document name -> SHA-256 of its text."""
    content_hash: str
    author: str
    origin: str
    reason: str
    restored_from: int | None = None
    changed: Sequence[str] = ()
    lines_added: int = 0
    lines_removed: int = 0


def latest_version(db: Database) -> int | None:
    """The current version's number; None while the database holds no catalogue. One cheap
    query (the primary key's maximum): every process polls it."""
    with db.session() as session:
        return session.exec(select(func.max(CatalogueVersion.version))).one()


def get_version(db: Database, version: int) -> CatalogueVersion | None:
    with db.session() as session:
        return session.get(CatalogueVersion, version)


def list_versions(
    db: Database, limit: int = 50, before: int | None = None
) -> Sequence[CatalogueVersion]:
    """Newest first."""
    query = select(CatalogueVersion).order_by(col(CatalogueVersion.version).desc()).limit(limit)
    if before is not None:
        query = query.where(col(CatalogueVersion.version) < before)
    with db.session() as session:
        return session.exec(query).all()


def documents_of(db: Database, version: int) -> dict[str, str]:
    """Every document of a version, name -> text; empty for an unknown version."""
    with db.session() as session:
        rows = session.exec(
            select(CatalogueDocument.name, CatalogueText.compressed)
            .join(CatalogueText, col(CatalogueText.sha256) == col(CatalogueDocument.sha256))
            .where(col(CatalogueDocument.version) == version)
        ).all()
    return {name: _decompress(data) for name, data in rows}


def text_hashes_of(db: Database, version: int) -> dict[str, str]:
    """Document name -> text hash of a version: compares versions without reading texts."""
    with db.session() as session:
        rows = session.exec(
            select(CatalogueDocument.name, CatalogueDocument.sha256).where(
                col(CatalogueDocument.version) == version
            )
        ).all()
    return dict(rows)


def stored_texts(db: Database, hashes: Sequence[str]) -> set[str]:
    """Which of these text hashes some version holds."""
    if not hashes:
        return set()
    with db.session() as session:
        found = session.exec(
            select(CatalogueText.sha256).where(col(CatalogueText.sha256).in_(list(hashes)))
        ).all()
    return set(found)


def insert_version(db: Database, base: int | None, new: NewVersion) -> CatalogueVersion:
    """Store `new` as version `base + 1` (1 when `base` is None), all or nothing.

    Raises CatalogueConflict when `base` is not the current version, also when another save
    of the same base commits first (the primary key refuses the second).
    """
    number = (base or 0) + 1
    row = CatalogueVersion(
        version=number,
        content_hash=new.content_hash,
        author=new.author,
        origin=new.origin,
        reason=new.reason,
        restored_from=new.restored_from,
        changed=",".join(new.changed),
        lines_added=new.lines_added,
        lines_removed=new.lines_removed,
    )
    with db.session() as session:
        current = session.exec(select(func.max(CatalogueVersion.version))).one()
        if current != base:
            raise CatalogueConflict(base, current)
        known = set(
            session.exec(
                select(CatalogueText.sha256).where(
                    col(CatalogueText.sha256).in_(list(set(new.text_hashes.values())))
                )
            ).all()
        )
        missing = {
            digest: new.documents[name]
            for name, digest in new.text_hashes.items()
            if digest not in known
        }
        try:
            if missing:
                # Two saves may add the same text at once: the second one's insert is a no-op.
                session.execute(
                    _insert_ignoring_duplicates(db),
                    [
                        {"sha256": digest, "compressed": _compress(text)}
                        for digest, text in missing.items()
                    ],
                )
            session.add(row)
            session.flush()  # the version first: a lost race fails here, on the primary key
            session.add_all(
                CatalogueDocument(version=number, name=name, sha256=digest)
                for name, digest in new.text_hashes.items()
            )
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise CatalogueConflict(base, latest_version(db)) from exc
        return row


def _insert_ignoring_duplicates(db: Database) -> Insert:
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    return insert(CatalogueText).on_conflict_do_nothing(index_elements=["sha256"])


def file_sync(db: Database, location: str) -> CatalogueFileSync | None:
    with db.session() as session:
        return session.get(CatalogueFileSync, location)


def record_file_sync(db: Database, location: str, content_hash: str, version: int | None) -> None:
    """The files at `location` now hold `content_hash` (imported as, or exported from,
    `version`)."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    values = {"content_hash": content_hash, "version": version, "synced_at": utcnow()}
    statement = insert(CatalogueFileSync).values(location=location, **values)
    with db.session() as session:
        session.execute(statement.on_conflict_do_update(index_elements=["location"], set_=values))
        session.commit()
