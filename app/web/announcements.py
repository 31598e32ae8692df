"""Staff API for announcements and residential groups. Every route needs the bearer token or a
console session (with its CSRF token on POST), and keeps to the caller's wards: a ward's staff
their own ward (another ward's announcement is a 404), a province admin or the token every
ward, naming the one to act in with `ward` (a slug) when there are several.

POST /api/announcements          create; answers the status (as `wardbot announce status --json`)
GET  /api/announcements/{id}     the status: total, pending, sent, deferred, failed, reasons
GET  /api/groups?ward=           members per group
GET  /api/groups/members.csv     membership as CSV (user_id,group)
POST /api/groups/members.csv     import membership from a CSV body (all or nothing)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.announcements.groups import zalo_tag_name
from app.announcements.service import (
    MAX_CSV_BYTES,
    AnnouncementInvalid,
    CsvInvalid,
    export_csv,
    import_csv,
    prepare_announcement,
)
from app.services import Services
from app.storage.announcements import announcement_status, create_announcement
from app.storage.groups import members_per_group
from app.ward_access import WardAccess
from app.web.auth import ServicesDep
from app.web.console.auth import ApiWards, StaffOrToken, check_visible, choose_ward, ward_oa_id

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
    ward: Annotated[str | None, Field(max_length=100)] = None
    """The ward's slug; needed only by a caller who sees several wards."""


def _status_or_404(services: Services, access: WardAccess, announcement_id: int) -> dict[str, Any]:
    missing = f"Không có thông báo số {announcement_id}."
    status = announcement_status(services.db, announcement_id)
    if status is None:
        raise HTTPException(404, missing)
    check_visible(access, status.announcement.oa_id, missing)
    return status.as_json()


@router.post("/announcements", status_code=201)
async def create(
    body: AnnouncementRequest, services: ServicesDep, access: ApiWards
) -> dict[str, Any]:
    ward = choose_ward(access, body.ward)
    try:
        draft = prepare_announcement(
            oa_id=ward_oa_id(services, access, ward),
            text=body.text,
            groups=body.groups,
            all_followers=body.all,
            ward_groups=ward.profile.residential_groups,
            timezone=ward.profile.timezone,
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
    return _status_or_404(services, access, announcement_id)


@router.get("/announcements/{announcement_id}")
async def status(announcement_id: int, services: ServicesDep, access: ApiWards) -> dict[str, Any]:
    return _status_or_404(services, access, announcement_id)


@router.get("/groups")
async def groups(services: ServicesDep, access: ApiWards, ward: str = "") -> dict[str, Any]:
    chosen = choose_ward(access, ward)
    counts = members_per_group(services.db, ward_oa_id(services, access, chosen))
    listed = [
        {
            "id": g.id,
            "name": g.name,
            "aliases": list(g.aliases),
            "zalo_tag": zalo_tag_name(g),
            "members": counts.get(g.id, 0),
        }
        for g in chosen.profile.residential_groups
    ]
    known = {g["id"] for g in listed}
    # Members of a group since removed from procedures.yaml still count, visibly.
    orphans = {gid: n for gid, n in counts.items() if gid not in known}
    return {"groups": listed, "unknown_groups": orphans, "members": sum(counts.values())}


@router.get("/groups/members.csv")
async def export_members(services: ServicesDep, access: ApiWards, ward: str = "") -> Response:
    chosen = choose_ward(access, ward)
    body = export_csv(
        services.db, ward_oa_id(services, access, chosen), chosen.profile.residential_groups
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="members.csv"'},
    )


@router.post("/groups/members.csv")
async def import_members(
    request: Request, services: ServicesDep, access: ApiWards, ward: str = ""
) -> JSONResponse:
    chosen = choose_ward(access, ward)
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
            ward_oa_id(services, access, chosen),
            text,
            chosen.profile.residential_groups,
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
