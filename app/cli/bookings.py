"""`wardbot bookings list --date YYYY-MM-DD [--json]`: the day's booked visits, for staff and
scripts, read from the same database and catalogue the service uses.

`register(cli)` adds it to the main `wardbot` application.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from app.booking.agenda import STATUS_LABELS, agenda
from app.catalogue.models import Catalogue
from app.config import Settings
from app.errors import CatalogueError
from app.storage.database import Database

bookings_cli = typer.Typer(help="Lịch hẹn người dân đặt qua Zalo.", no_args_is_help=True)


def _catalogue(settings: Settings, db: Database) -> Catalogue:
    """The catalogue served: the database's current version, else the files."""
    from app.catalogue.loader import load_content
    from app.catalogue_store import CatalogueStore

    store = CatalogueStore(db)
    version = store.current_version()
    try:
        if version is not None:
            return store.content(version).catalogue
        return load_content(settings.procedures_path, settings.intents_path).catalogue
    except CatalogueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


def _day(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError as exc:
        raise typer.BadParameter("ngày phải có dạng YYYY-MM-DD, ví dụ 2026-12-03") from exc


@bookings_cli.command("list")
def list_bookings(
    date: Annotated[str, typer.Option("--date", help="Ngày, dạng YYYY-MM-DD.")],
    as_json: Annotated[bool, typer.Option("--json", help="In JSON (cho script).")] = False,
) -> None:
    """The visits booked for one day, by time and counter (every status)."""
    day = _day(date).date()
    settings = Settings()
    db = Database(settings.database_url)
    try:
        db.create_schema()
        rows = agenda(db, _catalogue(settings, db), day, 1)
    finally:
        db.close()
    if as_json:
        payload = {"date": day.isoformat(), "bookings": [row.to_json() for row in rows]}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(f"Không có lịch hẹn nào ngày {day:%d/%m/%Y}.")
        return
    typer.echo(f"Lịch hẹn ngày {day:%d/%m/%Y}: {len(rows)}")
    for row in rows:
        status = STATUS_LABELS.get(row.status, row.status)
        typer.echo(f"{row.code}\t{row.time}\t{row.counter}\t{row.procedure or '-'}\t{status}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(bookings_cli, name="bookings")
