"""`wardbot catalogue import | export | history | diff | rollback`: the live catalogue's versions.

YAML stays the admins' format: `import` validates files with the same line-numbered errors as
`wardbot validate` and stores them as a new version (or nothing); `export` writes a version
back out byte for byte (comments and order kept). Running processes follow the new current
version within WARDBOT_CATALOGUE_POLL_SECONDS. `register(cli)` adds the group to `wardbot`.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from app.catalogue.documents import PROCEDURES, DocumentPaths
from app.catalogue_files import CatalogueFiles, ExportRefused
from app.catalogue_store import CatalogueStore, UnknownVersion, VersionInfo
from app.config import Settings
from app.errors import CatalogueConflict, CatalogueError, Problem
from app.storage.database import Database

catalogue_cli = typer.Typer(
    help="Danh mục trong cơ sở dữ liệu: nhập, xuất, lịch sử, so sánh, khôi phục phiên bản.",
    no_args_is_help=True,
)
STDIO = "-"


def register(cli: typer.Typer) -> None:
    cli.add_typer(catalogue_cli, name="catalogue")


@contextmanager
def _catalogue() -> Iterator[CatalogueFiles]:
    """The database's versions (`.store`) and the configured files (`.paths`)."""
    settings = Settings()
    db = Database(settings.database_url)
    try:
        db.create_schema()
        paths = DocumentPaths(settings.procedures_path, settings.intents_path, settings.wards_path)
        yield CatalogueFiles(CatalogueStore(db), paths)
    finally:
        db.close()


def _author(author: str | None) -> str:
    if author:
        return author
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _conflict(exc: CatalogueConflict) -> typer.Exit:
    return _fail(
        f"The catalogue was changed by someone else meanwhile (it is now at version "
        f"{exc.current}); nothing was stored. Run the command again."
    )


def _summary(info: VersionInfo) -> str:
    changed = ", ".join(info.changed) or "nothing"
    return f"{changed} (+{info.lines_added} -{info.lines_removed} lines)"


@catalogue_cli.command("import")
def import_command(
    path: Annotated[
        str | None,
        typer.Argument(
            help="procedures.yaml (the other documents are kept), a folder holding "
            "procedures.yaml and intents/, or - to read procedures.yaml from standard input. "
            "Default: WARDBOT_PROCEDURES and WARDBOT_INTENTS."
        ),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", "-m", help="One line: why.")] = "",
    author: Annotated[str | None, typer.Option(help="Who (default: the system user).")] = None,
) -> None:
    """Validate the files and store them as a new catalogue version; store nothing if invalid."""
    with _catalogue() as catalogue:
        store = catalogue.store
        files: DocumentPaths | None = None
        if path is None:
            files, where = catalogue.paths, str(catalogue.paths.procedures.parent)
        elif path == STDIO:
            where = "standard input"
        elif Path(path).is_dir():
            folder = Path(path)
            files = DocumentPaths.under(folder, with_wards=(folder / "wards").is_dir())
            where = path
        else:
            where = path
        who, why = _author(author), reason or f"import from {where}"
        try:
            if files is not None:
                info = catalogue.import_files(files, author=who, reason=why)
            else:
                if path == STDIO:
                    text, label = sys.stdin.read(), "<stdin>"
                else:
                    assert path is not None
                    text, label = _read_text(Path(path)), path
                info = store.import_documents(
                    {PROCEDURES: text}, author=who, reason=why, labels={PROCEDURES: label}
                )
        except CatalogueError as exc:
            raise _fail(f"{exc}\nNothing was stored.") from exc
        except CatalogueConflict as exc:
            raise _conflict(exc) from exc
        if info is None:
            typer.echo(f"Unchanged: version {store.current_version()} already holds these files.")
            return
        typer.echo(f"Stored version {info.version}: {_summary(info)}.")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogueError([Problem(str(path), None, "", "file not found")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError([Problem(str(path), None, "", f"cannot read: {exc}")]) from exc


@catalogue_cli.command("export")
def export_command(
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="A folder (procedures.yaml and intents/ are written in it), a .yaml file "
            "(procedures.yaml only), or - for procedures.yaml on standard output. "
            "Default: WARDBOT_PROCEDURES and WARDBOT_INTENTS.",
        ),
    ] = None,
    version: Annotated[int | None, typer.Option(help="Default: the current version.")] = None,
    force: Annotated[
        bool, typer.Option(help="Overwrite files holding changes that no version holds.")
    ] = False,
) -> None:
    """Write a catalogue version back out as YAML, exactly as stored (comments and order kept)."""
    with _catalogue() as catalogue:
        store = catalogue.store
        try:
            if to == STDIO:
                number = version if version is not None else store.current_version()
                if number is None:
                    raise UnknownVersion(0)
                sys.stdout.write(store.documents(number)[PROCEDURES])
                return
            if to is None:
                target, names = catalogue.paths, None
            elif to.endswith(".yaml"):
                target = DocumentPaths(Path(to), Path(to).parent / "intents")
                names = (PROCEDURES,)
            else:
                target, names = DocumentPaths.under(Path(to)), None
            number, written = catalogue.export(target, version=version, names=names, force=force)
        except UnknownVersion as exc:
            raise _fail(f"{exc}.") from exc
        except ExportRefused as exc:
            raise _fail(f"{exc}.") from exc
        typer.echo(f"Wrote version {number}: " + ", ".join(str(p) for p in written))


@catalogue_cli.command("history")
def history_command(
    limit: Annotated[int, typer.Option(help="Show at most this many versions.")] = 20,
) -> None:
    """List the catalogue's versions, newest first (* marks the current one)."""
    with _catalogue() as catalogue:
        store = catalogue.store
        versions = store.history(limit)
    if not versions:
        typer.echo("The database holds no catalogue version yet (the service imports the files).")
        return
    # One line per version, newest first, `*` the current one: easy to read, grep and diff.
    for index, info in enumerate(versions):
        origin = info.origin
        if info.restored_from is not None:
            origin += f" of {info.restored_from}"
        typer.echo(
            f"{'*' if index == 0 else ' '} {info.version:>4}  {info.created_at:%Y-%m-%d %H:%M} UTC"
            f"  {info.author}  {origin}  {_summary(info)}  {info.reason}"
        )


@catalogue_cli.command("diff")
def diff_command(
    old: Annotated[int | None, typer.Argument(help="Default: the one before NEW.")] = None,
    new: Annotated[int | None, typer.Argument(help="Default: the current version.")] = None,
) -> None:
    """Show what changed between two versions, as a unified diff per document."""
    with _catalogue() as catalogue:
        store = catalogue.store
        newest = new if new is not None else store.current_version()
        if newest is None:
            raise _fail("The database holds no catalogue version yet.")
        oldest = old if old is not None else newest - 1
        try:
            diffs = store.diff(oldest, newest)
        except UnknownVersion as exc:
            raise _fail(f"{exc}.") from exc
    for diff in diffs:
        for line in diff.lines:
            typer.echo(line)


@catalogue_cli.command("rollback")
def rollback_command(
    version: Annotated[int, typer.Argument(help="The version to make current again.")],
    reason: Annotated[str, typer.Option("--reason", "-m", help="One line: why.")] = "",
    author: Annotated[str | None, typer.Option(help="Who (default: the system user).")] = None,
) -> None:
    """Make an earlier version current again, as a new version (the history keeps both)."""
    with _catalogue() as catalogue:
        store = catalogue.store
        try:
            info = store.rollback(
                version, base=store.current_version(), author=_author(author), reason=reason
            )
        except UnknownVersion as exc:
            raise _fail(f"{exc}.") from exc
        except CatalogueError as exc:
            raise _fail(f"Version {version} does not validate any more: {exc}") from exc
        except CatalogueConflict as exc:
            raise _conflict(exc) from exc
        if info is None:
            typer.echo(f"The current version already holds the documents of version {version}.")
            return
        typer.echo(f"Stored version {info.version} = version {version}: {_summary(info)}.")
