"""The wards a deployment serves, as the operator's commands see them (`--ward SLUG`): the one
place the commands look a ward up (`wardbot staff`, `announce`, `groups`, `wards list`).

Commands read the wards the service serves: the database's current catalogue version (ward
files included), not the files on this host, which may differ (app.catalogue_files).
"""

from __future__ import annotations

from app.announcements.delivery import announcing_oa_id
from app.catalogue.documents import DocumentPaths
from app.catalogue_files import CatalogueFiles
from app.catalogue_store import CatalogueStore
from app.config import Settings
from app.storage.database import Database
from app.wards import Ward, Wards, wards_of


class WardUnknown(ValueError):
    """A `--ward` that names no ward, or is missing where several wards make it needed."""


def deployment_wards(settings: Settings, db: Database) -> Wards:
    """The wards of the database's current catalogue version (an empty database is seeded
    from the files first, as a starting service would). Raises CatalogueError."""
    store = CatalogueStore(db)
    paths = DocumentPaths(settings.procedures_path, settings.intents_path, settings.wards_path)
    version = CatalogueFiles(store, paths).start(watch_files=False).version
    content = store.content(version)
    # The simulator answers whichever OA its events name, as the server does.
    return wards_of(content, single_oa_id=None if settings.simulator else settings.own_oa_id)


def named_ward(wards: Wards, slug: str | None) -> Ward:
    """The ward `--ward` names; without it, the only ward (WardUnknown when there are more)."""
    if slug is not None:
        found = wards.by_slug(slug)
        if found is None:
            raise WardUnknown(f'Không có phường/xã "{slug}". Các phường/xã: {_slugs(wards)}.')
        return found
    if wards.only is None:
        raise WardUnknown(
            f"Hệ thống phục vụ {len(wards)} phường/xã: hãy chọn một bằng --ward SLUG "
            f"({_slugs(wards)})."
        )
    return wards.only


def residents_oa_id(settings: Settings, wards: Wards, ward: Ward) -> str:
    """The OA whose residents a ward's announcements reach: its own; for the one ward of
    procedures.yaml, ZALO_OA_ID (or the simulator's OA)."""
    if wards.from_files and ward.oa_id is not None:
        return ward.oa_id
    return announcing_oa_id(settings)


def _slugs(wards: Wards) -> str:
    names = [w.slug for w in wards]
    shown = ", ".join(names[:20])
    return shown + (f" … (+{len(names) - 20})" if len(names) > 20 else "")
