"""The operator's entry point: `wardbot serve | ask | match | validate | eval | chat | ...`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.catalogue import Content, load_content, load_documents
from app.catalogue.completeness import summary as completeness_summary
from app.catalogue.documents import DocumentPaths
from app.cli.announce import register as register_announcements
from app.cli.bookings import register as register_bookings
from app.cli.catalogue import register as register_catalogue
from app.cli.ops import register as register_ops
from app.cli.staff import register as register_staff
from app.cli.wards import register as register_wards
from app.cli.worker import register as register_worker
from app.config import Settings
from app.dialogue.conversation import ConversationState
from app.dialogue.reply import Reply
from app.errors import CatalogueError
from app.knowledge import Snapshot, build_snapshot
from app.matching.grouping import QuestionGroup
from app.matching.preview import PhraseField
from app.matching.result import MatchResult
from app.storage.questions import unanswered_since

if TYPE_CHECKING:
    from app.storage.database import Database

cli = typer.Typer(help="Trợ lý Zalo OA cho phường/xã (wardbot).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
register_announcements(cli)  # announce create|status|worker, groups list|export|import
register_bookings(cli)  # bookings list
register_catalogue(cli)  # catalogue import|export|history|diff|rollback
register_ops(cli)  # db upgrade
register_staff(cli)  # staff add|list
register_worker(cli)  # worker: the background work without the web server
register_wards(cli)  # wards list


def _settings() -> Settings:
    return Settings()


def _content(settings: Settings, procedures: Path | None = None) -> Content:
    try:
        if settings.wards_path is not None and procedures is None:
            # The ward files too (WARDBOT_WARDS), checked against procedures.yaml.
            paths = DocumentPaths(
                settings.procedures_path, settings.intents_path, settings.wards_path
            )
            return load_documents(paths.read(), paths.labels())
        return load_content(procedures or settings.procedures_path, settings.intents_path)
    except CatalogueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


def _served_content(settings: Settings, db: Database) -> Content:
    """The catalogue the service serves: the database's current version (the files only
    while the database holds none)."""
    from app.catalogue_store import CatalogueStore

    store = CatalogueStore(db)
    version = store.current_version()
    if version is None:
        return _content(settings)
    try:
        return store.content(version)
    except CatalogueError as exc:
        typer.echo(f"catalogue version {version}:\n{exc}", err=True)
        raise typer.Exit(1) from exc


def _snapshot(settings: Settings) -> Snapshot:
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
    _refuse_without_catalogue(settings)
    configure_logging()
    if settings.simulator:
        typer.echo(
            f"Simulator mode (no Zalo credentials): open http://{host}:{port}/ to chat.", err=True
        )
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)


def _refuse_without_catalogue(settings: Settings) -> None:
    """Refuse to start, with every problem listed, when there is no catalogue to serve: the
    database holds none yet and the files that would seed it are invalid."""
    from app.storage.catalogue import latest_version
    from app.storage.database import Database

    db = Database(settings.database_url)
    try:
        db.create_schema()
        empty = latest_version(db) is None
    finally:
        db.close()
    if empty:
        _content(settings)


@cli.command()
def ask(question: str) -> None:
    """Print the bot's reply to one question, exactly as a resident would see it."""
    snapshot = _snapshot(_settings())
    turn = snapshot.dialogue.respond(question, ConversationState(), datetime.now(UTC))
    typer.echo("\n\n".join(format_reply(r) for r in turn.replies))


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
    typer.echo(
        f"OK: {len(catalogue.procedures)} procedures, {len(catalogue.categories)} categories, "
        f"{len(content.intents.intents)} intents."
    )
    phrasings = content.intents.phrasings
    taught = sum(map(len, (*phrasings.procedures.values(), *phrasings.intents.values())))
    untaught = [p.code for p in catalogue.procedures if not phrasings.procedures.get(p.code)]
    typer.echo(
        f"Phrasings: {taught + len(phrasings.none)} residents' messages "
        f"({len(phrasings.none)} out of scope); procedures without any: "
        + (", ".join(untaught) if untaught else "none")
    )
    typer.echo("\n".join(completeness_summary(catalogue)))
    if content.wards:
        samples = [w.slug for w in content.wards if w.profile.sample_data]
        typer.echo(f"Wards: {len(content.wards)} ward files (WARDBOT_WARDS).")
        if samples:
            typer.echo(f"Note: SAMPLE ward profiles (sample_data: true): {', '.join(samples)}")
    elif catalogue.ward.sample_data:
        typer.echo("Note: the ward profile is still SAMPLE data (sample_data: true).")


@cli.command()
def chat() -> None:
    """Chat with the bot in the terminal (nothing is sent to Zalo)."""
    snapshot = _snapshot(_settings())
    state = ConversationState()
    typer.echo(format_reply(snapshot.dialogue.welcome()))
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
            typer.echo(format_reply(reply))


def _got(result: MatchResult) -> str:
    """What the matcher answered: its id, or its first option when it asked or gave up."""
    first = result.alternatives[0].id if result.alternatives else "-"
    return f"{result.kind}:{result.id or first}"


@cli.command(name="eval")
def eval_command(
    path: Annotated[
        Path | None, typer.Argument(help="Labelled TSV (expected<TAB>question); default: examples.")
    ] = None,
    min_accuracy: Annotated[float, typer.Option(help="Fail below this in-scope accuracy.")] = 0.0,
    max_wrong: Annotated[
        float, typer.Option(help="Fail above this wrong-and-confident share.")
    ] = 1.0,
    min_rejected: Annotated[
        float, typer.Option(help="Fail below this out-of-scope rejection.")
    ] = 0.0,
) -> None:
    """Score the matcher on every procedure's examples, or on a labelled file (TSV)."""
    from app.matching.evaluate import evaluate, example_questions, read_labelled_tsv

    snapshot = _snapshot(_settings())
    if path is None:
        questions = example_questions(snapshot.content.catalogue)
        # The catalogue's own examples are a regression suite: every one must pass.
        min_accuracy, max_wrong = max(min_accuracy, 1.0), min(max_wrong, 0.0)
    else:
        try:
            questions = read_labelled_tsv(path)
        except (OSError, ValueError) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
    report = evaluate(snapshot.matcher, questions)
    typer.echo(report.summary())
    problems = [
        ("Confusions (expected -> got)", report.confusions),
        ("Wrongly rejected", report.wrongly_rejected),
        ("Out of scope but answered", report.wrongly_accepted),
    ]
    for title, outcomes in problems:
        if outcomes:
            _print_table(
                title,
                ("question", "expected", "got", "score"),
                (
                    (
                        o.question.text,
                        "|".join(sorted(o.question.expected)),
                        _got(o.result),
                        f"{o.result.score:.0f}",
                    )
                    for o in outcomes
                ),
            )
    failed = (
        report.accuracy < min_accuracy
        or report.wrong_confident_rate > max_wrong
        or report.rejection_rate < min_rejected
    )
    if failed:
        typer.echo("Below the required thresholds.", err=True)
        raise typer.Exit(1)


def _phrase_changes(values: list[str], option: str) -> list[tuple[str, str]]:
    """`CODE=phrase` option values -> (code, phrase) pairs."""
    pairs = []
    for value in values:
        code, sep, phrase = value.partition("=")
        if not sep or not code.strip() or not phrase.strip():
            typer.echo(f"{option} expects CODE=phrase, got {value!r}", err=True)
            raise typer.Exit(2)
        pairs.append((code.strip(), " ".join(phrase.split())))
    return pairs


@cli.command()
def unanswered(
    days: Annotated[int, typer.Option(help="Look back this many days.")] = 30,
    limit: Annotated[int, typer.Option(help="Show at most this many groups.")] = 30,
    try_alias: Annotated[
        list[str] | None,
        typer.Option(help="Preview adding an alias, CODE=phrase (repeatable). Nothing is saved."),
    ] = None,
    try_example: Annotated[
        list[str] | None,
        typer.Option(help="Preview adding an example, CODE=phrase (repeatable). Nothing is saved."),
    ] = None,
    try_procedures: Annotated[
        Path | None,
        typer.Option(help="Preview an edited copy of procedures.yaml against the current one."),
    ] = None,
) -> None:
    """Questions the bot fell back on or had to clarify, grouped by similarity, with counts.

    With --try-alias, --try-example or --try-procedures: which groups that catalogue change would
    now answer, and which answers it would take away, before anything is saved.
    """
    from app.matching.grouping import AskedQuestion, group_questions
    from app.storage.database import Database

    settings = _settings()
    db = Database(settings.database_url)
    db.create_schema()
    try:
        content = _served_content(settings, db)
        rows = unanswered_since(db, since=datetime.now(UTC) - timedelta(days=days))
    finally:
        db.close()
    catalogue = content.catalogue
    asked = [
        AskedQuestion(
            row.text, tuple((c["id"], float(c["score"])) for c in json.loads(row.candidates))
        )
        for row in rows
    ]
    groups = group_questions(asked)
    changes: list[tuple[PhraseField, str, str]] = [
        *(("aliases", c, p) for c, p in _phrase_changes(try_alias or [], "--try-alias")),
        *(("examples", c, p) for c, p in _phrase_changes(try_example or [], "--try-example")),
    ]
    if changes or try_procedures is not None:
        _preview(content, groups, changes, try_procedures, limit)
        return
    groups = groups[:limit]
    if not groups:
        typer.echo("No unanswered questions.")
        return

    def describe(identifier: str) -> str:
        procedure = catalogue.procedure(identifier)
        return f"{identifier} {procedure.short_name}" if procedure else identifier

    _print_table(
        f"Unanswered questions, last {days} days",
        ("count", "question", "examples", "nearest procedures"),
        (
            (
                str(g.count),
                g.representative,
                " | ".join(sorted(set(g.texts) - {g.representative})[:3]),
                "; ".join(describe(i) for i in g.top_nearest()),
            )
            for g in groups
        ),
    )


def _preview(
    content: Content,
    groups: list[QuestionGroup],
    changes: list[tuple[PhraseField, str, str]],
    procedures: Path | None,
    limit: int,
) -> None:
    """Print what a catalogue change would answer and what it would take away."""
    from app.matching.evaluate import example_questions
    from app.matching.matcher import Matcher
    from app.matching.preview import preview_change, with_phrase

    changed = _content(_settings(), procedures).catalogue if procedures else content.catalogue
    for field, code, phrase in changes:
        try:
            changed = with_phrase(changed, code, phrase, field)
        except KeyError as exc:
            typer.echo(f"Unknown procedure code {code!r}.", err=True)
            raise typer.Exit(2) from exc
    before = Matcher(content.catalogue, content.intents)
    after = Matcher(changed, content.intents)
    preview = preview_change(before, after, groups, example_questions(content.catalogue))

    def label(identifier: str | None) -> str:
        procedure = changed.procedure(identifier) if identifier else None
        return f"{identifier} {procedure.short_name}" if procedure else (identifier or "-")

    typer.echo(
        f"{len(preview.now_answered)} groups ({preview.questions_answered} questions) "
        f"would be served better; {len(preview.redirected)} groups would get another answer; "
        f"{len(preview.lost_examples)} catalogue examples would lose their answer. Nothing saved."
    )
    tables = (
        ("Would now answer", preview.now_answered),
        ("Would answer differently", preview.redirected),
    )
    for title, rows in tables:
        if rows:
            _print_table(
                title,
                ("questions", "question", "before", "after"),
                (
                    (
                        f"{c.answered}/{c.group.count}",
                        c.group.representative,
                        label(c.before),
                        label(c.after),
                    )
                    for c in rows[:limit]
                ),
            )
    if preview.lost_examples:
        _print_table(
            "Catalogue examples that would lose their answer",
            ("example", "expected", "would get"),
            (
                (e.question.text, ", ".join(sorted(e.question.expected)), label(e.after))
                for e in preview.lost_examples
            ),
        )


@cli.command()
def reload(
    url: Annotated[str, typer.Option(help="The running service.")] = "http://127.0.0.1:8000",
) -> None:
    """Ask a running service to load the database's current catalogue version now, importing
    the watched files first if they changed (development); needs WARDBOT_API_TOKEN."""
    import httpx

    token = _settings().api_token.get_secret_value()
    if not token:
        typer.echo("WARDBOT_API_TOKEN is not set.", err=True)
        raise typer.Exit(2)
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/admin/reload",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        typer.echo(f"Cannot reach {url}: {exc}", err=True)
        raise typer.Exit(2) from exc
    body = response.json()
    if response.status_code != 200:
        typer.echo("\n".join(body.get("problems") or [str(body)]), err=True)
        raise typer.Exit(1)
    typer.echo(f"Reloaded: version {body.get('version')}, {body['procedures']} procedures.")


def _print_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def main() -> None:
    cli()
