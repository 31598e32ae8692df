"""`wardbot staff add|list`: console accounts, created on the server by the operator.

A ward's account names its ward (`--ward SLUG`, a ward file's name); a province admin
(`--role province`) has none. In a one-ward deployment `--ward` may be left out."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from app.cli.deployment import WardUnknown, deployment_wards, named_ward
from app.config import Settings
from app.errors import CatalogueError
from app.staff import AccountInvalid, Role, add_staff
from app.storage.database import Database
from app.storage.staff import list_staff
from app.wards import Wards

staff_cli = typer.Typer(
    help="Tài khoản cán bộ dùng trang quản trị (/console).", no_args_is_help=True
)


def _read_password() -> str:
    """From standard input (scripts: `echo ... | wardbot staff add`), or asked twice on a
    terminal."""
    if sys.stdin.isatty():
        first = getpass.getpass("Mật khẩu: ")
        if getpass.getpass("Nhập lại mật khẩu: ") != first:
            typer.echo("The two passwords differ.", err=True)
            raise typer.Exit(2)
        return first
    return sys.stdin.readline().rstrip("\r\n")


def account_ward(wards: Wards, role: Role, slug: str | None) -> str | None:
    """The ward slug to store for a new account, or AccountInvalid saying what is wrong."""
    if role is Role.province:
        if slug is not None:
            raise AccountInvalid("--ward: a province admin belongs to no ward")
        return None
    try:
        ward = named_ward(wards, slug)
    except WardUnknown as exc:
        raise AccountInvalid(str(exc)) from exc
    # Without ward files the one ward has no file (nor a lasting slug): no ward stored.
    return ward.slug if wards.from_files else None


@staff_cli.command("add")
def add(
    username: str,
    role: Annotated[
        Role,
        typer.Option(
            help="admin: the ward's catalogue, questions and accounts; staff: the ward's "
            "reports, announcements and groups; province: every ward."
        ),
    ],
    ward: Annotated[
        str | None,
        typer.Option(help="The ward's slug (its ward file's name); not for --role province."),
    ] = None,
) -> None:
    """Create a console account, or reset its password, role and ward. The password is read
    from standard input."""
    settings = Settings()
    db = Database(settings.database_url)
    try:
        db.create_schema()
        slug = account_ward(deployment_wards(settings, db), role, ward)
        password = _read_password()
        user = add_staff(db, username, password, role, slug)
    except (AccountInvalid, CatalogueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        db.close()
    where = f", ward {user.ward}" if user.ward else ""
    typer.echo(f"Account {user.username} ({user.role.value}{where}) saved.")


@staff_cli.command("list")
def list_accounts() -> None:
    """Console accounts, their roles and wards."""
    db = Database(Settings().database_url)
    try:
        db.create_schema()
        for account in list_staff(db):
            state = "" if account.active else " (disabled)"
            typer.echo(f"{account.username}\t{account.role}\t{account.ward or '-'}{state}")
    finally:
        db.close()


def register(cli: typer.Typer) -> None:
    cli.add_typer(staff_cli, name="staff")
