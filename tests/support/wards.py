"""Two wards (the sample ward files in wards/) and one report, announcement and unanswered
question in each: what the staff-per-ward tests look at from either side."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.storage.announcements import AnnouncementDraft, create_announcement
from app.storage.database import Database
from app.storage.followers import touch_interaction
from app.storage.groups import set_membership
from app.storage.questions import record_unanswered, unanswered_since
from app.storage.reports import create_report
from app.storage.tables import Report

ROOT = Path(__file__).resolve().parents[2]
OA_A = "1000000000000000001"
"""wards/phuong-mau-a.yaml: Phường Mẫu A, groups tdp-1 and tdp-2."""
OA_B = "1000000000000000002"
"""wards/xa-mau-b.yaml: Xã Mẫu B, groups thon-1 and thon-2."""
SLUG_A, SLUG_B = "phuong-mau-a", "xa-mau-b"


@dataclass(frozen=True)
class WardObjects:
    report_a: int
    report_b: int
    announcement_a: int
    announcement_b: int
    question_a: int
    question_b: int


def copy_wards(tmp_path: Path) -> Path:
    """A private copy of the sample ward files (WARDBOT_WARDS)."""
    folder = tmp_path / "wards"
    folder.mkdir()
    for ward_file in (ROOT / "wards").glob("*.yaml"):
        shutil.copy(ward_file, folder)
    return folder


def fill_two_wards(db: Database) -> WardObjects:
    """In each ward: a resident in its first group, their report ("đèn hỏng ở a|b"), an
    announcement to that group ("thông báo a|b") and a question ("câu hỏi lạ a|b")."""
    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    for name, oa_id, group in (("a", OA_A, "tdp-1"), ("b", OA_B, "thon-1")):
        resident = f"dan-{name}"
        report = create_report(db, Report(oa_id=oa_id, user_id=resident, what=f"đèn hỏng ở {name}"))
        assert report.id is not None
        ids[f"report_{name}"] = report.id
        touch_interaction(db, oa_id, resident, now)
        set_membership(db, oa_id, resident, group, now)
        ids[f"announcement_{name}"] = create_announcement(
            db, AnnouncementDraft(oa_id=oa_id, text=f"thông báo {name}", group_ids=(group,)), now
        )
        record_unanswered(
            db, oa_id=oa_id, user_id=resident, text=f"câu hỏi lạ {name}", kind="none",
            candidates=[],
        )  # fmt: skip
    questions = {q.oa_id: q.id for q in unanswered_since(db) if q.id is not None}
    return WardObjects(
        ids["report_a"],
        ids["report_b"],
        ids["announcement_a"],
        ids["announcement_b"],
        questions[OA_A],
        questions[OA_B],
    )
