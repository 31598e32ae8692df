"""Staff API for what residents sent: their reports and the questions the bot could not
answer. Every route needs the bearer token or a console session, and keeps to the caller's
wards: another ward's report or question is a 404, as if it did not exist.

GET /api/reports?status=&ward=    the newest reports first (at most 200)
GET /api/reports/{id}             one report and the staff's replies
GET /api/unanswered?ward=         the unanswered questions of the last 30 days, newest first
GET /api/unanswered/{id}          one unanswered question
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException

from app.reports.dialogue import report_code
from app.storage.questions import get_unanswered, unanswered_since
from app.storage.reports import get_report, list_reports, replies_of
from app.storage.tables import Report, UnansweredQuestion
from app.ward_access import WardAccess
from app.web.auth import ServicesDep
from app.web.console.auth import ApiWards, StaffOrToken, check_visible, listed_oa_ids

router = APIRouter(prefix="/api", dependencies=[StaffOrToken])

UNANSWERED_DAYS = 30


def _ward_slug(access: WardAccess, oa_id: str) -> str | None:
    ward = access.ward_of(oa_id)
    return ward.slug if ward is not None else None


def _report(access: WardAccess, report: Report) -> dict[str, Any]:
    assert report.id is not None
    return {
        "id": report.id,
        "code": report_code(report.id),
        "ward": _ward_slug(access, report.oa_id),
        "what": report.what,
        "location": report.location,
        "status": report.status,
        "assignee": report.assignee,
        "rating": report.rating,
        "created_at": report.created_at.isoformat(),
    }


def _question(access: WardAccess, question: UnansweredQuestion) -> dict[str, Any]:
    return {
        "id": question.id,
        "ward": _ward_slug(access, question.oa_id),
        "text": question.text,
        "kind": question.kind,
        "candidates": json.loads(question.candidates),
        "created_at": question.created_at.isoformat(),
    }


@router.get("/reports")
async def reports(
    services: ServicesDep, access: ApiWards, status: str = "", ward: str = ""
) -> dict[str, Any]:
    rows = list_reports(services.db, status or None, oa_ids=listed_oa_ids(access, ward))
    return {"reports": [_report(access, r) for r in rows]}


@router.get("/reports/{report_id}")
async def report(report_id: int, services: ServicesDep, access: ApiWards) -> dict[str, Any]:
    missing = f"Không có phản ánh số {report_id}."
    found = get_report(services.db, report_id)
    if found is None:
        raise HTTPException(404, missing)
    check_visible(access, found.oa_id, missing)
    replies = [
        {
            "staff": r.staff,
            "text": r.text,
            "closing": r.closing,
            "delivered": r.delivered_at is not None,
            "created_at": r.created_at.isoformat(),
        }
        for r in replies_of(services.db, report_id)
    ]
    return {**_report(access, found), "replies": replies}


@router.get("/unanswered")
async def unanswered(services: ServicesDep, access: ApiWards, ward: str = "") -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(days=UNANSWERED_DAYS)
    rows = unanswered_since(services.db, since=since, oa_ids=listed_oa_ids(access, ward))
    return {"questions": [_question(access, q) for q in reversed(rows)]}


@router.get("/unanswered/{question_id}")
async def unanswered_question(
    question_id: int, services: ServicesDep, access: ApiWards
) -> dict[str, Any]:
    missing = f"Không có câu hỏi số {question_id}."
    found = get_unanswered(services.db, question_id)
    if found is None:
        raise HTTPException(404, missing)
    check_visible(access, found.oa_id, missing)
    return _question(access, found)
