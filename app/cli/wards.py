"""`wardbot wards list`, and the served wards for the other commands (`announce --ward`).

Commands read the wards the service serves: the database's current catalogue version (ward
files included), not the files on this host, which may differ (app.catalogue_files).
"""

from __future__ import annotations

import typer
from rich.console import Console

from app.catalogue.documents import DocumentPaths
from app.catalogue_files import CatalogueFiles
from app.catalogue_store import CatalogueStore
from app.config import Settings
from app.errors import CatalogueError
from app.storage.connection import connection_status
from app.storage.database import Database
from app.storage.tokens import load_token
from app.wards import Ward, Wards, wards_of

wards_cli = typer.Typer(help="Các phường/xã (mỗi phường/xã một Zalo OA).", no_args_is_help=True)
err = Console(stderr=True, highlight=False)


def register(cli: typer.Typer) -> None:
    cli.add_typer(wards_cli, name="wards")


def served_wards(settings: Settings, db: Database) -> Wards:
    """The wards of the database's current catalogue version (an empty database is seeded
    from the files first, as a starting service would)."""
    store = CatalogueStore(db)
    paths = DocumentPaths(settings.procedures_path, settings.intents_path, settings.wards_path)
    try:
        version = CatalogueFiles(store, paths).start(watch_files=False).version
        content = store.content(version)
    except CatalogueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from exc
    return wards_of(content, single_oa_id=None if settings.simulator else settings.own_oa_id)


def pick_ward(wards: Wards, slug: str | None) -> Ward:
    """The ward `--ward SLUG` names; without it, the only ward (an error with several)."""
    if slug is not None:
        ward = wards.by_slug(slug)
        if ward is None:
            raise _fail(f'Không có phường/xã "{slug}". Các phường/xã: {_slugs(wards)}.')
        return ward
    only = wards.only
    if only is None:
        raise _fail(
            f"Hệ thống phục vụ {len(wards)} phường/xã: hãy chọn một bằng --ward SLUG "
            f"({_slugs(wards)})."
        )
    return only


def token_key(settings: Settings, wards: Wards, ward: Ward) -> str:
    """Where the ward's token pair is stored (app.main.token_key_of)."""
    if wards.from_files and ward.oa_id is not None:
        return ward.oa_id
    return settings.zalo_oa_id


def _slugs(wards: Wards) -> str:
    names = [w.slug for w in wards]
    shown = ", ".join(names[:20])
    return shown + (f" … (+{len(names) - 20})" if len(names) > 20 else "")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(message, markup=False)
    return typer.Exit(code)


def token_state(settings: Settings, db: Database, key: str) -> str:
    """The OA's token as an operator needs it: none, ok, expired, or the last failure."""
    row = load_token(db, key)
    seeded = key == settings.zalo_oa_id and bool(settings.zalo_access_token.get_secret_value())
    if row is None or not (row.access_token or row.refresh_token):
        return "env" if seeded else "none"
    status = connection_status(db, key)
    if status is not None and not status.ok:
        code = f" {status.error_code}" if status.error_code is not None else ""
        return f"failed{code}: {status.error or '?'}"
    return "ok"


@wards_cli.command("list")
def wards_list() -> None:
    """Print each ward's slug, OA id, name and token state."""
    settings = Settings()
    db = Database(settings.database_url)
    try:
        db.create_schema()
        wards = served_wards(settings, db)
        rows = [("slug", "oa_id", "name", "token")]
        for ward in wards:
            key = token_key(settings, wards, ward)
            state = "simulator" if settings.simulator else token_state(settings, db, key)
            rows.append((ward.slug, ward.oa_id or settings.zalo_oa_id, ward.name, state))
    finally:
        db.close()
    # Tab-separated: readable, and every value kept whole for scripts (no column cut).
    for row in rows:
        typer.echo("\t".join(row))
