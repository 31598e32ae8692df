"""`wardbot wards list`, and the served wards for the other commands (`announce --ward`), as
typer commands want them: a catalogue error or an unknown `--ward` ends the command."""

from __future__ import annotations

import typer
from rich.console import Console

from app.cli.deployment import WardUnknown, deployment_wards, named_ward
from app.config import Settings
from app.errors import CatalogueError
from app.storage.connection import connection_status
from app.storage.database import Database
from app.storage.tokens import load_token
from app.wards import Ward, Wards

wards_cli = typer.Typer(help="Các phường/xã (mỗi phường/xã một Zalo OA).", no_args_is_help=True)
err = Console(stderr=True, highlight=False)


def register(cli: typer.Typer) -> None:
    cli.add_typer(wards_cli, name="wards")


def served_wards(settings: Settings, db: Database) -> Wards:
    """The wards the service serves (app.cli.deployment); a catalogue error ends the command."""
    try:
        return deployment_wards(settings, db)
    except CatalogueError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from exc


def pick_ward(wards: Wards, slug: str | None) -> Ward:
    """The ward `--ward SLUG` names; without it, the only ward (an error with several)."""
    try:
        return named_ward(wards, slug)
    except WardUnknown as exc:
        raise _fail(str(exc)) from exc


def token_key(settings: Settings, wards: Wards, ward: Ward) -> str:
    """Where the ward's token pair is stored (app.main.token_key_of)."""
    if wards.from_files and ward.oa_id is not None:
        return ward.oa_id
    return settings.zalo_oa_id


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
