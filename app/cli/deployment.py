"""The wards a deployment serves, as the operator's commands see them (`--ward SLUG`)."""

from __future__ import annotations

from app.announcements.delivery import announcing_oa_id
from app.catalogue.documents import DocumentPaths
from app.catalogue.loader import load_documents
from app.catalogue_store import CatalogueStore
from app.config import Settings
from app.storage.database import Database
from app.wards import Ward, Wards, wards_of


class WardUnknown(ValueError):
    """A `--ward` that names no ward, or is missing where several wards make it needed."""


def deployment_wards(settings: Settings, db: Database) -> Wards:
    """The wards of the catalogue version in the database (what the server serves), or of
    the files before the server first stored one. Raises CatalogueError."""
    store = CatalogueStore(db)
    version = store.current_version()
    if version is not None:
        content = store.content(version)
    else:
        paths = DocumentPaths(settings.procedures_path, settings.intents_path, settings.wards_path)
        content = load_documents(paths.read(), paths.labels())
    return wards_of(content, single_oa_id=settings.own_oa_id)


def named_ward(wards: Wards, slug: str | None) -> Ward:
    """The ward `--ward` names; without it, the only ward (WardUnknown when there are more)."""
    known = ", ".join(w.slug for w in wards)
    if slug is None:
        if wards.only is None:
            raise WardUnknown(f"--ward is needed: one of {known}")
        return wards.only
    found = wards.by_slug(slug)
    if found is None:
        raise WardUnknown(f"--ward: no ward {slug!r}; the wards are: {known}")
    return found


def residents_oa_id(settings: Settings, wards: Wards, ward: Ward) -> str:
    """The OA whose residents a ward's announcements reach: its own; for the one ward of
    procedures.yaml, ZALO_OA_ID (or the simulator's OA)."""
    if wards.from_files and ward.oa_id is not None:
        return ward.oa_id
    return announcing_oa_id(settings)
