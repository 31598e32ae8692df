"""Operator commands for running the service in production: `wardbot db upgrade`,
`wardbot zalo connect`."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from app.config import Settings
from app.storage.database import Database
from app.storage.oauth import save_oauth_request
from app.zalo.tokens import consent_url, new_pkce_pair

db_cli = typer.Typer(help="Cơ sở dữ liệu (database schema).", no_args_is_help=True)
zalo_cli = typer.Typer(help="Kết nối Zalo OA (OAuth v4).", no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    cli.add_typer(db_cli, name="db")
    cli.add_typer(zalo_cli, name="zalo")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations to DATABASE_URL (the service also does this at start)."""
    db = Database(Settings().database_url)
    try:
        db.create_schema()
    finally:
        db.close()
    typer.echo("database schema is up to date")


@zalo_cli.command("connect")
def zalo_connect(
    redirect_uri: Annotated[
        str | None,
        typer.Option(help="The OA callback URL registered in the Zalo app console."),
    ] = None,
) -> None:
    """Print the consent link for an OA admin (PKCE; the verifier is kept in the database).

    The admin opens it and presses "Cho phép"; Zalo then calls GET /zalo/oauth/callback on
    the running service, which stores the new token pair. The link works once, for 10 minutes.
    """
    settings = Settings()
    uri = redirect_uri or settings.zalo_oauth_redirect_uri
    if not settings.zalo_app_id or not uri:
        typer.echo(
            "ZALO_APP_ID and ZALO_OAUTH_REDIRECT_URI (or --redirect-uri) are needed.", err=True
        )
        raise typer.Exit(1)
    verifier, challenge = new_pkce_pair()
    state = secrets.token_urlsafe(24)
    db = Database(settings.database_url)
    try:
        db.create_schema()
        save_oauth_request(
            db, state=state, oa_id=settings.zalo_oa_id, code_verifier=verifier, redirect_uri=uri
        )
    finally:
        db.close()
    typer.echo(
        consent_url(settings.zalo_oauth_base_url, settings.zalo_app_id, uri, challenge, state)
    )
