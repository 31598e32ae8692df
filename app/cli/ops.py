"""Operator commands for running the service in production: `wardbot db upgrade`,
`wardbot zalo connect [--oa OA_ID]`, `wardbot zalo tokens set [--oa OA_ID]`."""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
from typing import Annotated

import typer

from app.catalogue.wards import OA_ID
from app.config import Settings
from app.storage.connection import record_connection
from app.storage.database import Database
from app.storage.oauth import save_oauth_request
from app.storage.tokens import DatabaseTokenStore
from app.zalo.tokens import TokenPair, consent_url, new_pkce_pair

db_cli = typer.Typer(help="Cơ sở dữ liệu (database schema).", no_args_is_help=True)
zalo_cli = typer.Typer(help="Kết nối Zalo OA (OAuth v4).", no_args_is_help=True)
tokens_cli = typer.Typer(help="Token của từng Zalo OA.", no_args_is_help=True)

OaOption = Annotated[
    str | None,
    typer.Option(
        "--oa",
        help="OA id (recipient.id of its residents' events); default: ZALO_OA_ID.",
    ),
]


def register(cli: typer.Typer) -> None:
    cli.add_typer(db_cli, name="db")
    cli.add_typer(zalo_cli, name="zalo")
    zalo_cli.add_typer(tokens_cli, name="tokens")


def _token_key(settings: Settings, oa: str | None) -> str:
    """Where the OA's pair is stored: the OA id itself, or ZALO_OA_ID's key without --oa."""
    if oa is None:
        return settings.zalo_oa_id
    oa = oa.strip()
    if not re.fullmatch(OA_ID, oa):
        typer.echo(f"--oa: not an OA id: {oa!r}", err=True)
        raise typer.Exit(2)
    return oa


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
    oa: OaOption = None,
) -> None:
    """Print the consent link for an OA admin (PKCE; the verifier is kept in the database).

    The admin opens it and presses "Cho phép"; Zalo then calls GET /zalo/oauth/callback on
    the running service, which stores the new token pair. The link works once, for 10 minutes.
    """
    settings = Settings()
    key = _token_key(settings, oa)
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
        save_oauth_request(db, state=state, oa_id=key, code_verifier=verifier, redirect_uri=uri)
    finally:
        db.close()
    typer.echo(
        consent_url(settings.zalo_oauth_base_url, settings.zalo_app_id, uri, challenge, state)
    )


@tokens_cli.command("set")
def zalo_tokens_set(oa: OaOption = None) -> None:
    """Store an OA's token pair read from stdin: the access token and the refresh token,
    separated by whitespace (never as arguments, which other users and the shell's history
    could read). E.g. `wardbot zalo tokens set --oa 123 < pair.txt`."""
    settings = Settings()
    key = _token_key(settings, oa)
    if sys.stdin.isatty():
        typer.echo("Paste the access token and the refresh token, then Ctrl-D:", err=True)
    parts = sys.stdin.read().split()
    if len(parts) != 2:
        typer.echo(
            f"expected 2 tokens (access, refresh) separated by whitespace on stdin, got "
            f"{len(parts)}; nothing stored",
            err=True,
        )
        raise typer.Exit(2)
    pair = TokenPair(parts[0], parts[1])
    db = Database(settings.database_url)
    try:
        db.create_schema()
        asyncio.run(_store_pair(db, key, pair))
    finally:
        db.close()
    typer.echo(f"token pair stored for OA {key}")


async def _store_pair(db: Database, key: str, pair: TokenPair) -> None:
    # Under the OA's refresh lock: a refresh running meanwhile cannot overwrite it with a
    # pair made from the old refresh token.
    store = DatabaseTokenStore(db, key)
    async with store.refresh_lock() as locked:
        locked.save(pair)
    record_connection(db, key, ok=True)
