"""`wardbot bookings list --date YYYY-MM-DD [--ward SLUG] [--json]`: the day's booked visits,
for staff and scripts, read from the same database and catalogue the service uses.

In a deployment serving several wards (ward files, WARDBOT_WARDS), `--ward SLUG` lists one
ward's visits, by its OA and with its counters; without it every ward's visits are listed, each
with its own ward's counters and its ward's slug as a last column (`ward` in JSON, null for
the one ward of procedures.yaml). A one-ward deployment needs no `--ward`.

`register(cli)` adds it to the main `wardbot` application.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import typer

from app.booking.agenda import STATUS_LABELS, AgendaRow, agenda
from app.catalogue.models import Catalogue
from app.cli.deployment import WardUnknown, deployment_wards, named_ward
from app.config import Settings
from app.errors import CatalogueError
from app.storage.database import Database
from app.ward_access import WardAccess, access_for
from app.wards import Ward, Wards

bookings_cli = typer.Typer(help="Lịch hẹn người dân đặt qua Zalo.", no_args_is_help=True)


@dataclass(frozen=True)
class _Listing:
    """What one run lists: the wards' bookings (their OA ids; None: every booking), the
    calendar the day is counted in, and each booking's own ward."""

    access: WardAccess
    """The operator sees every ward; it tells which ward a booking's OA belongs to."""
    shared: Catalogue
    ward: Ward | None
    """The ward `--ward` named; None: every ward."""

    @property
    def calendar(self) -> Catalogue:
        return self.ward.catalogue if self.ward is not None else self.shared

    @property
    def oa_ids(self) -> frozenset[str] | None:
        return self.access.oa_ids_of(self.ward) if self.ward is not None else None

    @property
    def several(self) -> bool:
        """Several wards listed: each text line names its ward."""
        return self.ward is None and len(self.access.wards) > 1

    def catalogue_of(self, oa_id: str) -> Catalogue:
        """A booking's ward's catalogue (its counters, calendar, procedures), by its OA."""
        ward = self.access.ward_of(oa_id)
        return ward.catalogue if ward is not None else self.shared

    def slug_of(self, oa_id: str) -> str | None:
        """A booking's ward slug; None for the one ward of procedures.yaml (it has no ward
        file) and for an OA no ward claims."""
        if not self.access.from_files:
            return None
        ward = self.access.ward_of(oa_id)
        return ward.slug if ward is not None else None


def _listing(wards: Wards, slug: str | None) -> _Listing:
    """Raises WardUnknown for a `--ward` that names no ward."""
    ward = named_ward(wards, slug) if slug is not None else None
    shared = wards.all()[0].shared
    return _Listing(access_for(None, wards), shared, ward)


def _day(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError as exc:
        raise typer.BadParameter("ngày phải có dạng YYYY-MM-DD, ví dụ 2026-12-03") from exc


def _line(row: AgendaRow, ward: Callable[[str], str | None] | None) -> str:
    status = STATUS_LABELS.get(row.status, row.status)
    line = f"{row.code}\t{row.time}\t{row.counter}\t{row.procedure or '-'}\t{status}"
    return line if ward is None else f"{line}\t{ward(row.oa_id) or '-'}"


@bookings_cli.command("list")
def list_bookings(
    date: Annotated[str, typer.Option("--date", help="Ngày, dạng YYYY-MM-DD.")],
    ward: Annotated[
        str | None,
        typer.Option(
            "--ward", help="Chỉ lịch hẹn của một phường/xã (slug, xem: wardbot wards list)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In JSON (cho script).")] = False,
) -> None:
    """The visits booked for one day, by time and counter (every status), of every ward or
    of the ward `--ward` names."""
    day = _day(date).date()
    settings = Settings()
    db = Database(settings.database_url)
    try:
        db.create_schema()
        listing = _listing(deployment_wards(settings, db), ward)
        rows = agenda(db, listing.calendar, day, 1, listing.oa_ids, listing.catalogue_of)
    except CatalogueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except WardUnknown as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        db.close()
    if as_json:
        bookings = [row.to_json() | {"ward": listing.slug_of(row.oa_id)} for row in rows]
        payload = {"date": day.isoformat(), "bookings": bookings}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    where = f" – {listing.ward.name}" if listing.ward is not None else ""
    if not rows:
        typer.echo(f"Không có lịch hẹn nào ngày {day:%d/%m/%Y}{where}.")
        return
    typer.echo(f"Lịch hẹn ngày {day:%d/%m/%Y}{where}: {len(rows)}")
    for row in rows:
        typer.echo(_line(row, listing.slug_of if listing.several else None))


def register(cli: typer.Typer) -> None:
    cli.add_typer(bookings_cli, name="bookings")
