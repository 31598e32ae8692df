"""Staff API for announcements and residential groups. Every route needs the bearer token or a
console session (with its CSRF token on POST).

POST /api/announcements          create; answers the status (as `wardbot announce status --json`)
GET  /api/announcements/{id}     the status: total, pending, sent, deferred, failed, reasons
GET  /api/groups                 members per group
GET  /api/groups/members.csv     membership as CSV (user_id,group)
POST /api/groups/members.csv     import membership from a CSV body (all or nothing)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.announcements.delivery import announcing_oa_id
from app.announcements.groups import zalo_tag_name
from app.announcements.service import (
    MAX_CSV_BYTES,
    AnnouncementInvalid,
    CsvInvalid,
    export_csv,
    import_csv,
    prepare_announcement,
)
from app.catalogue.models import WardProfile
from app.services import Services
from app.storage.announcements import announcement_status, create_announcement
from app.storage.groups import members_per_group
from app.web.auth import ServicesDep
from app.web.console.auth import StaffOrToken

router = APIRouter(prefix="/api", dependencies=[StaffOrToken])


class AnnouncementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    groups: list[str] = Field(default_factory=list, max_length=500)
    all: bool = False
    image_url: str | None = None
    link_url: str | None = None
    link_title: Annotated[str | None, Field(max_length=100)] = None
    urgent: bool = False
    scheduled_at: datetime | None = None
    """ISO 8601; without an offset it is the ward's local time."""


def _ward(services: Services) -> WardProfile:
    return services.knowledge.current.content.catalogue.ward


def _status_or_404(services: Services, announcement_id: int) -> dict[str, Any]:
    status = announcement_status(services.db, announcement_id)
    if status is None:
        raise HTTPException(404, f"Không có thông báo số {announcement_id}.")
    return status.as_json()


@router.post("/announcements", status_code=201)
async def create(body: AnnouncementRequest, services: ServicesDep) -> dict[str, Any]:
    ward = _ward(services)
    try:
        draft = prepare_announcement(
            oa_id=announcing_oa_id(services.settings),
            text=body.text,
            groups=body.groups,
            all_followers=body.all,
            ward_groups=ward.residential_groups,
            timezone=ward.timezone,
            image_url=body.image_url,
            link_url=body.link_url,
            link_title=body.link_title,
            urgent=body.urgent,
            scheduled_at=body.scheduled_at,
            created_by="api",
        )
    except AnnouncementInvalid as exc:
        raise HTTPException(422, str(exc)) from exc
    announcement_id = create_announcement(services.db, draft, datetime.now(UTC))
    if services.announcer is not None:
        services.announcer.wake()
    return _status_or_404(services, announcement_id)


@router.get("/announcements/{announcement_id}")
async def status(announcement_id: int, services: ServicesDep) -> dict[str, Any]:
    return _status_or_404(services, announcement_id)


@router.get("/groups")
async def groups(services: ServicesDep) -> dict[str, Any]:
    counts = members_per_group(services.db, announcing_oa_id(services.settings))
    listed = [
        {
            "id": g.id,
            "name": g.name,
            "aliases": list(g.aliases),
            "zalo_tag": zalo_tag_name(g),
            "members": counts.get(g.id, 0),
        }
        for g in _ward(services).residential_groups
    ]
    known = {g["id"] for g in listed}
    # Members of a group since removed from procedures.yaml still count, visibly.
    orphans = {gid: n for gid, n in counts.items() if gid not in known}
    return {"groups": listed, "unknown_groups": orphans, "members": sum(counts.values())}


@router.get("/groups/members.csv")
async def export_members(services: ServicesDep) -> Response:
    body = export_csv(
        services.db, announcing_oa_id(services.settings), _ward(services).residential_groups
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="members.csv"'},
    )


@router.post("/groups/members.csv")
async def import_members(request: Request, services: ServicesDep) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, "Tệp CSV quá lớn (tối đa 5 MB).")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(422, "Tệp CSV phải ở dạng UTF-8.") from exc
    try:
        counts = import_csv(
            services.db,
            announcing_oa_id(services.settings),
            text,
            _ward(services).residential_groups,
            datetime.now(UTC),
        )
    except CsvInvalid as exc:
        return JSONResponse({"status": "invalid", "problems": exc.problems}, status_code=422)
    return JSONResponse(
        {
            "status": "imported",
            "added": counts.added,
            "changed": counts.changed,
            "unchanged": counts.unchanged,
        }
    )
