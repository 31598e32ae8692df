"""Operator commands for announcements: `wardbot announce create|status|worker` and `wardbot
groups list|export|import`. They call the same functions as the HTTP API.

`register(cli)` adds them to the main `wardbot` application.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from app.announcements.notices import STATUS_LABELS, reason_label
from app.announcements.service import (
    AnnouncementInvalid,
    CsvInvalid,
    export_csv,
    import_csv,
    prepare_announcement,
)
from app.catalogue.models import ResidentialGroup, WardProfile
from app.cli.deployment import residents_oa_id
from app.cli.wards import pick_ward, served_wards
from app.config import Settings
from app.storage.announcements import AnnouncementStatus, announcement_status, create_announcement
from app.storage.database import Database
from app.storage.groups import members_per_group
from app.storage.tables import DeliveryStatus

announce_cli = typer.Typer(
    help="Gửi thông báo tới tổ dân phố và xem tiến độ.", no_args_is_help=True
)
groups_cli = typer.Typer(help="Cư dân theo tổ dân phố (nhập/xuất CSV).", no_args_is_help=True)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def register(cli: typer.Typer) -> None:
    cli.add_typer(announce_cli, name="announce")
    cli.add_typer(groups_cli, name="groups")
    announce_cli.command("worker")(worker)


WardOption = Annotated[
    str | None,
    typer.Option(
        "--ward", help="Phường/xã (slug, xem: wardbot wards list); bắt buộc khi có nhiều."
    ),
]


def _target(settings: Settings, db: Database, slug: str | None) -> tuple[str, WardProfile]:
    """The OA whose residents the command concerns and its ward's profile, as served (the
    database's current catalogue version, not this host's files)."""
    wards = served_wards(settings, db)
    ward = pick_ward(wards, slug)
    return residents_oa_id(settings, wards, ward), ward.profile


def _database(settings: Settings) -> Database:
    db = Database(settings.database_url)
    db.create_schema()
    return db


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(message, markup=False)
    return typer.Exit(code)


# --- announce ---------------------------------------------------------------------------------


@announce_cli.command("create")
def create(
    text_file: Annotated[
        Path, typer.Option("--text-file", help="Tệp UTF-8 chứa nội dung thông báo ('-' = stdin).")
    ],
    group: Annotated[
        list[str] | None,
        typer.Option("--group", "-g", help='Tổ nhận (tên hoặc bí danh: "tổ 5", "TDP 5"); lặp lại.'),
    ] = None,
    all_followers: Annotated[
        bool, typer.Option("--all", help="Gửi tất cả người quan tâm OA và cư dân đã đăng ký tổ.")
    ] = False,
    urgent: Annotated[
        bool, typer.Option("--urgent", help="Khẩn: gửi cả trong giờ nghỉ 22:00-06:00.")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Hẹn giờ gửi, ISO 8601 (giờ địa phương nếu thiếu múi)."),
    ] = None,
    image_url: Annotated[
        str | None, typer.Option("--image-url", help="Ảnh kèm (https://...).")
    ] = None,
    link_url: Annotated[
        str | None, typer.Option("--link-url", help="Link kèm (https://...).")
    ] = None,
    link_title: Annotated[str | None, typer.Option("--link-title", help="Tên nút link.")] = None,
    created_by: Annotated[
        str | None, typer.Option("--by", help="Người tạo (mặc định: tài khoản máy).")
    ] = None,
    ward_slug: WardOption = None,
) -> None:
    """Create an announcement for one ward's residents; prints only its id on stdout."""
    settings = Settings()
    try:
        text = sys.stdin.read() if str(text_file) == "-" else text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"Không đọc được tệp nội dung {text_file}: {exc}") from exc
    db = _database(settings)
    try:
        oa_id, ward = _target(settings, db, ward_slug)
    except BaseException:
        db.close()
        raise
    try:
        draft = prepare_announcement(
            oa_id=oa_id,
            text=text,
            groups=group or [],
            all_followers=all_followers,
            ward_groups=ward.residential_groups,
            timezone=ward.timezone,
            image_url=image_url,
            link_url=link_url,
            link_title=link_title,
            urgent=urgent,
            scheduled_at=at,
            created_by=created_by or _user(),
        )
    except AnnouncementInvalid as exc:
        db.close()
        raise _fail(str(exc)) from exc
    try:
        announcement_id = create_announcement(db, draft, datetime.now(UTC))
        status = announcement_status(db, announcement_id)
    finally:
        db.close()
    typer.echo(str(announcement_id))
    if status is not None and status.total == 0:
        err.print(
            "Cảnh báo: thông báo chưa có người nhận nào. Kiểm tra cư dân đã đăng ký tổ, và "
            "ZALO_OA_ID đúng là mã OA (oa_id) Zalo gửi trong sự kiện webhook.",
            markup=False,
        )
    if settings.simulator:
        err.print("Chế độ mô phỏng (chưa cấu hình Zalo): tin sẽ được ghi lại, không gửi thật.")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


@announce_cli.command("status")
def status(
    announcement_id: Annotated[int, typer.Argument(help="Số thông báo (in ra khi tạo).")],
    as_json: Annotated[bool, typer.Option("--json", help="In một đối tượng JSON.")] = False,
    follow: Annotated[
        bool | None,
        typer.Option(
            "--follow/--no-follow", help="Theo dõi đến khi xong (mặc định: khi ở terminal)."
        ),
    ] = None,
    interval: Annotated[float, typer.Option(help="Giây giữa hai lần cập nhật.")] = 1.0,
) -> None:
    """Show delivery progress and the final counts by status and reason."""
    settings = Settings()
    db = _database(settings)
    try:
        current = _status_or_exit(db, announcement_id)
        if as_json:
            typer.echo(json.dumps(current.as_json(), ensure_ascii=False))
            return
        if (sys.stdout.isatty() if follow is None else follow) and not current.done:
            current = _follow(db, current, interval)
        ward = served_wards(settings, db).by_oa(current.announcement.oa_id)
        _print_report(current, ward.profile.residential_groups if ward is not None else ())
    finally:
        db.close()


def _status_or_exit(db: Database, announcement_id: int) -> AnnouncementStatus:
    current = announcement_status(db, announcement_id)
    if current is None:
        raise _fail(f"Không có thông báo số {announcement_id}.", code=1)
    return current


def _follow(db: Database, current: AnnouncementStatus, interval: float) -> AnnouncementStatus:
    columns = (
        TextColumn("[bold]Thông báo {task.fields[id]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn(
            "đã gửi {task.fields[sent]} · hoãn {task.fields[deferred]} · lỗi {task.fields[failed]}"
        ),
    )
    with Progress(*columns, console=out, transient=False) as progress:
        task = progress.add_task("", total=current.total, **_fields(current))
        try:
            while not current.done:
                time.sleep(interval)
                current = _status_or_exit(db, current.announcement.id or 0)
                progress.update(
                    task, completed=current.total - current.unsettled, **_fields(current)
                )
        except KeyboardInterrupt:
            pass  # stop watching; delivery goes on in the worker
    return current


def _fields(current: AnnouncementStatus) -> dict[str, Any]:
    return {
        "id": current.announcement.id,
        "sent": current.count(DeliveryStatus.sent),
        "deferred": current.count(DeliveryStatus.deferred),
        "failed": current.count(DeliveryStatus.failed),
    }


def _print_report(current: AnnouncementStatus, groups: Sequence[ResidentialGroup]) -> None:
    data = current.as_json()
    names = {g.id: g.name for g in groups}
    target = (
        "tất cả"
        if data["target"]["all"]
        else ", ".join(names.get(group_id, group_id) for group_id in data["target"]["groups"])
    )
    state = "đã xong" if current.done else "đang gửi"
    lines = [f"Thông báo {data['id']} ({target}): {state}, {data['total']} người nhận."]
    for key in ("sent", "deferred", "failed", "pending", "sending"):
        count = current.count(DeliveryStatus(key))
        if not count:
            continue
        lines.append(f"  {STATUS_LABELS[key]}: {count}")
        reasons = current.reasons.get(DeliveryStatus(key), {})
        lines.extend(f"    - {reason_label(r)}: {n}" for r, n in sorted(reasons.items()))
    out.print("\n".join(lines), markup=False)


# --- groups -----------------------------------------------------------------------------------


@groups_cli.command("list")
def list_groups(ward_slug: WardOption = None) -> None:
    """Members per residential group."""
    settings = Settings()
    db = _database(settings)
    try:
        oa_id, ward = _target(settings, db, ward_slug)
        counts = members_per_group(db, oa_id)
    finally:
        db.close()
    table = Table(show_header=True)
    table.add_column("Tổ dân phố")
    table.add_column("Số cư dân", justify="right")
    for group in ward.residential_groups:
        table.add_row(group.name, str(counts.get(group.id, 0)))
    out.print(table)


@groups_cli.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Tệp CSV ghi ra ('-' = stdout).")],
    ward_slug: WardOption = None,
) -> None:
    """Write membership as CSV (columns user_id,group)."""
    settings = Settings()
    db = _database(settings)
    try:
        oa_id, ward = _target(settings, db, ward_slug)
        body = export_csv(db, oa_id, ward.residential_groups)
    finally:
        db.close()
    if str(file) == "-":
        sys.stdout.write(body)
        return
    file.write_text(body, encoding="utf-8")
    err.print(f"Đã ghi {body.count(chr(10)) - 1} cư dân vào {file}.", markup=False)


@groups_cli.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Tệp CSV (user_id,group), UTF-8.")],
    ward_slug: WardOption = None,
) -> None:
    """Add or move members from a CSV; nothing is imported if any line is wrong."""
    settings = Settings()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"Không đọc được {file}: {exc}", code=1) from exc
    db = _database(settings)
    try:
        oa_id, ward = _target(settings, db, ward_slug)
        counts = import_csv(db, oa_id, text, ward.residential_groups, datetime.now(UTC))
    except CsvInvalid as exc:
        raise _fail("Chưa nhập gì, vì:\n" + "\n".join(exc.problems), code=1) from exc
    finally:
        db.close()
    out.print(
        f"Đã nhập: {counts.added} thêm mới, {counts.changed} chuyển tổ, "
        f"{counts.unchanged} không đổi.",
        markup=False,
    )


# --- worker -----------------------------------------------------------------------------------


def worker() -> None:
    """Run only the announcement deliveries until Ctrl-C (`wardbot worker` runs them too)."""
    settings = Settings()
    from app.logs import configure_logging

    configure_logging()
    if settings.simulator:
        err.print("Chế độ mô phỏng (chưa cấu hình Zalo): tin được ghi lại, không gửi thật.")
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    import httpx

    from app.main import build_announcements, build_oa_tokens

    db = _database(settings)
    try:
        wards = served_wards(settings, db)  # the wards at start: restart to follow changes

        def groups(oa_id: str) -> Sequence[ResidentialGroup]:
            ward = wards.by_oa(oa_id)
            return ward.profile.residential_groups if ward is not None else ()

        def key_of(oa_id: str) -> str:
            return oa_id if wards.from_files else settings.zalo_oa_id

        async with httpx.AsyncClient(timeout=settings.zalo_timeout_seconds) as http:
            accounts = (
                None if settings.simulator else build_oa_tokens(settings, db, http, key_of=key_of)
            )
            _, announcer = build_announcements(settings, db, groups, http, accounts)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                # The current deliveries finish and are recorded before the loop ends.
                loop.add_signal_handler(signum, announcer.request_stop)
            await announcer.run()
    finally:
        db.close()
