"""`wardbot staff add|list`: console accounts, created on the server by the operator."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from app.config import Settings
from app.staff import AccountInvalid, Role, add_staff
from app.storage.database import Database
from app.storage.staff import list_staff

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


@staff_cli.command("add")
def add(
    username: str,
    role: Annotated[Role, typer.Option(help="admin: catalogue and accounts; staff: the rest.")],
) -> None:
    """Create a console account, or reset its password and role. The password is read from
    standard input."""
    password = _read_password()
    db = Database(Settings().database_url)
    try:
        db.create_schema()
        user = add_staff(db, username, password, role)
    except AccountInvalid as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    finally:
        db.close()
    typer.echo(f"Account {user.username} ({user.role.value}) saved.")


@staff_cli.command("list")
def list_accounts() -> None:
    """Console accounts and their roles."""
    db = Database(Settings().database_url)
    try:
        db.create_schema()
        for account in list_staff(db):
            state = "" if account.active else " (disabled)"
            typer.echo(f"{account.username}\t{account.role}{state}")
    finally:
        db.close()


def register(cli: typer.Typer) -> None:
    cli.add_typer(staff_cli, name="staff")
