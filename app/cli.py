"""The operator's entry point: `wardbot serve | ask | match | validate | eval | chat | unanswered`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.catalogue import Content, load_content
from app.config import Settings
from app.dialogue.conversation import ConversationState
from app.dialogue.reply import Reply
from app.errors import CatalogueError
from app.knowledge import Snapshot, build_snapshot

cli = typer.Typer(help="Trợ lý Zalo OA cho phường/xã (wardbot).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    return Settings()


def _content(settings: Settings, procedures: Path | None = None) -> Content:
    try:
        return load_content(procedures or settings.procedures_path, settings.intents_path)
    except CatalogueError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from exc


def _snapshot(settings: Settings) -> Snapshot:
    from datetime import timedelta

    return build_snapshot(_content(settings), timedelta(minutes=settings.conversation_ttl_minutes))


def format_reply(reply: Reply) -> str:
    """A reply as plain text, buttons listed after it, as a resident sees it on the phone."""
    lines = [reply.text]
    if reply.buttons:
        lines.append("")
        lines.extend(f"[{b.title}] → {b.payload}" for b in reply.buttons)
    return "\n".join(lines)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the service (webhook, admin API, and the simulator page when Zalo is not configured)."""
    import uvicorn

    from app.logs import configure_logging
    from app.main import create_app

    settings = _settings()
    _content(settings)  # refuse to start on an invalid catalogue, with every problem listed
    configure_logging()
    if settings.simulator:
        err.print(f"Simulator mode (no Zalo credentials): open http://{host}:{port}/ to chat.")
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)


@cli.command()
def ask(question: str) -> None:
    """Print the bot's reply to one question, exactly as a resident would see it."""
    snapshot = _snapshot(_settings())
    turn = snapshot.dialogue.respond(question, ConversationState(), datetime.now(UTC))
    console.print("\n\n".join(format_reply(r) for r in turn.replies), markup=False, highlight=False)


@cli.command()
def match(
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per input line.")] = False,
) -> None:
    """Match questions read from stdin, one per line."""
    snapshot = _snapshot(_settings())
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text.strip():
            continue
        result = snapshot.matcher.match(text)
        if jsonl:
            sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(f"{result.kind:9} {result.id or '-':14} {result.score:6.1f}  {text}\n")
        sys.stdout.flush()


@cli.command()
def validate(
    path: Annotated[Path | None, typer.Argument(help="procedures.yaml to check.")] = None,
) -> None:
    """Check procedures.yaml and intents/; list every problem with its line; exit 1 if any."""
    settings = _settings()
    content = _content(settings, path)
    catalogue = content.catalogue
    console.print(
        f"OK: {len(catalogue.procedures)} procedures, {len(catalogue.categories)} categories, "
        f"{len(content.intents.intents)} intents.",
        markup=False,
    )
    if catalogue.ward.sample_data:
        console.print("Note: the ward profile is still SAMPLE data (sample_data: true).", markup=False)


@cli.command()
def chat() -> None:
    """Chat with the bot in the terminal (nothing is sent to Zalo)."""
    snapshot = _snapshot(_settings())
    state = ConversationState()
    console.print(format_reply(snapshot.dialogue.welcome()), markup=False)
    while True:
        try:
            text = input("\n> ")
        except (EOFError, KeyboardInterrupt):
            return
        if not text.strip():
            continue
        turn = snapshot.dialogue.respond(text, state, datetime.now(UTC))
        state = turn.state
        for reply in turn.replies:
            console.print(format_reply(reply), markup=False, highlight=False)


def _print_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def main() -> None:
    cli()
