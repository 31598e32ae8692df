"""Announcements as staff and residents meet them: checking a new announcement, group commands
in the chat with the deferred hand-off, and membership as CSV.

The CLI, the HTTP API and the inbox call these same functions. Messages in `AnnouncementInvalid`
and `CsvInvalid` are Vietnamese: they are shown to staff as they are.
"""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from app.announcements.delivery import DeliveryPolicy, TagMirror, deliver_deferred
from app.announcements.groups import decide, directory, parse_group_command
from app.catalogue.models import ResidentialGroup
from app.dialogue.reply import Reply
from app.errors import WardbotError
from app.outbox import Outbox
from app.storage.announcements import AnnouncementDraft
from app.storage.database import Database
from app.storage.groups import (
    ImportCounts,
    import_memberships,
    membership_group,
    memberships,
    set_membership,
)
from app.zalo.split import TEXT_LIMIT

log = logging.getLogger(__name__)

CSV_COLUMNS = ("user_id", "group")
MAX_CSV_BYTES = 5 * 1024 * 1024
"""The largest members CSV the API and the console accept (the console says 5 MB)."""


class AnnouncementInvalid(WardbotError):
    """Staff asked for an announcement that cannot be sent; the message says why (Vietnamese)."""


class CsvInvalid(WardbotError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _group_names(groups: Sequence[ResidentialGroup]) -> str:
    return ", ".join(g.name for g in groups) or "(phường chưa khai báo tổ dân phố nào)"


def resolve_groups(names: Sequence[str], groups: Sequence[ResidentialGroup]) -> tuple[str, ...]:
    """Group ids for names, ids or aliases ("Tổ dân phố số 5", "tổ 5", "TDP 5", "tdp-5")."""
    found = directory(tuple(groups))
    ids: list[str] = []
    for name in names:
        group = found.resolve(name)
        if group is None:
            raise AnnouncementInvalid(
                f'Không có tổ dân phố "{name}". Các tổ của phường: {_group_names(groups)}.'
            )
        if group.id not in ids:
            ids.append(group.id)
    return tuple(ids)


def _url(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not value.startswith(("https://", "http://")):
        raise AnnouncementInvalid(f"{what} phải bắt đầu bằng https:// (hoặc http://).")
    return value


def parse_when(value: str | datetime | None, timezone: str) -> datetime | None:
    """An ISO time; without an offset it is the ward's local time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise AnnouncementInvalid(
                f'Thời điểm gửi "{value}" không hợp lệ; ví dụ đúng: 2026-11-23T07:30.'
            ) from exc
    if value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value


def prepare_announcement(
    *,
    oa_id: str,
    text: str,
    groups: Sequence[str],
    all_followers: bool,
    ward_groups: Sequence[ResidentialGroup],
    timezone: str = "Asia/Ho_Chi_Minh",
    image_url: str | None = None,
    link_url: str | None = None,
    link_title: str | None = None,
    urgent: bool = False,
    scheduled_at: str | datetime | None = None,
    created_by: str = "",
) -> AnnouncementDraft:
    """Check what staff asked for and turn it into a draft, or raise AnnouncementInvalid."""
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise AnnouncementInvalid("Nội dung thông báo đang trống.")
    if len(text) > TEXT_LIMIT:
        raise AnnouncementInvalid(
            f"Nội dung thông báo dài {len(text)} ký tự; Zalo nhận tối đa {TEXT_LIMIT} ký tự "
            "một tin. Vui lòng rút gọn hoặc đưa phần chi tiết vào đường link."
        )
    if all_followers and groups:
        raise AnnouncementInvalid("Chọn hoặc một số tổ dân phố, hoặc tất cả, không chọn cả hai.")
    if not all_followers and not groups:
        raise AnnouncementInvalid("Chưa chọn người nhận: chọn tổ dân phố, hoặc tất cả.")
    link = _url(link_url, "Đường link")
    title = (link_title or "").strip() or None
    if title is not None and link is None:
        raise AnnouncementInvalid("Có tên nút link nhưng chưa có đường link.")
    return AnnouncementDraft(
        oa_id=oa_id,
        text=text,
        group_ids=() if all_followers else resolve_groups(groups, ward_groups),
        all_followers=all_followers,
        image_url=_url(image_url, "Đường dẫn ảnh"),
        link_url=link,
        link_title=title,
        scheduled_at=parse_when(scheduled_at, timezone),
        urgent=urgent,
        created_by=created_by,
    )


class ResidentAnnouncements:
    """What the inbox does about announcements when a resident writes.

    `answer` handles a group command (join, change, leave, ask, menu) and returns the reply,
    or None when the text is not one. `after_message` then hands over deferred announcements
    and mirrors the group to its Zalo tag; it never raises, so it cannot cost the resident
    their reply.
    """

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        groups: Callable[[str], Sequence[ResidentialGroup]],
        *,
        tags: TagMirror | None = None,
        policy: DeliveryPolicy | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.groups = groups
        self.tags = tags
        self.policy = policy or DeliveryPolicy()

    def answer(self, oa_id: str, user_id: str, text: str, now: datetime) -> Reply | None:
        groups = self.groups(oa_id)  # the residential groups of this OA's ward
        command = parse_group_command(text, groups)
        if command is None:
            return None
        outcome = decide(command, membership_group(self.db, oa_id, user_id), groups)
        if outcome.changed:
            set_membership(self.db, oa_id, user_id, outcome.group_id, now)
        log.info("group.command user=%s kind=%s changed=%s", user_id, command.kind, outcome.changed)
        return outcome.reply

    async def after_message(self, oa_id: str, user_id: str, now: datetime) -> None:
        try:
            await deliver_deferred(self.db, self.outbox, oa_id, user_id, now, self.policy)
        except Exception:
            log.exception("announcement.deferred_failed user=%s", user_id)
        if self.tags is None:
            return
        try:
            await self.tags.sync_resident(oa_id, user_id)
        except Exception:
            log.exception("group.tag_sync_error user=%s", user_id)


# --- membership as CSV --------------------------------------------------------------------------


def export_csv(db: Database, oa_id: str, ward_groups: Sequence[ResidentialGroup]) -> str:
    """Every member as `user_id,group` (the group's name), ready for a spreadsheet."""
    found = directory(tuple(ward_groups))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for user_id, group_id in memberships(db, oa_id):
        group = found.by_id(group_id)
        writer.writerow((user_id, group.name if group else group_id))
    return out.getvalue()


def parse_csv(text: str, ward_groups: Sequence[ResidentialGroup]) -> list[tuple[str, str]]:
    """(user_id, group_id) rows; every problem is listed with its line, nothing half-read."""
    text = text.removeprefix("\ufeff")  # Excel writes a BOM
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != list(CSV_COLUMNS):
        raise CsvInvalid([f"Dòng 1: cần tiêu đề cột {','.join(CSV_COLUMNS)}, đang là {header}."])
    found = directory(tuple(ward_groups))
    rows: list[tuple[str, str]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        user_id = record[0].strip() if record else ""
        name = record[1].strip() if len(record) > 1 else ""
        group = found.resolve(name) if name else None
        if not user_id:
            problems.append(f"Dòng {line}: thiếu user_id.")
        elif group is None:
            problems.append(
                f'Dòng {line}: không có tổ dân phố "{name}". Các tổ: {_group_names(ward_groups)}.'
            )
        elif user_id in seen:
            problems.append(f"Dòng {line}: user_id {user_id} đã có ở dòng {seen[user_id]}.")
        else:
            seen[user_id] = line
            rows.append((user_id, group.id))
    if problems:
        raise CsvInvalid(problems)
    return rows


def import_csv(
    db: Database, oa_id: str, text: str, ward_groups: Sequence[ResidentialGroup], now: datetime
) -> ImportCounts:
    """Add or move every listed member (all or nothing); members not listed stay as they are."""
    return import_memberships(db, oa_id, parse_csv(text, ward_groups), now)
