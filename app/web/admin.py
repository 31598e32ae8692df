"""Admin API: reload and inspect the catalogue. Every route needs the bearer token."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.catalogue_files import reload_now
from app.errors import CatalogueError
from app.web.auth import Authenticated, ServicesDep

router = APIRouter(prefix="/admin", dependencies=[Authenticated])


@router.post("/reload")
async def reload_catalogue(services: ServicesDep) -> JSONResponse:
    """Re-check now instead of at the next poll: the watched files (development) are imported
    if they changed, then the database's current version is loaded."""
    try:
        snapshot = await asyncio.to_thread(
            reload_now,
            services.catalogue_files,
            services.knowledge,
            watch_files=services.settings.watch_catalogue_files,
        )
    except CatalogueError as exc:
        # The last good catalogue keeps serving; the admin gets every problem with its line.
        return JSONResponse(
            {"status": "invalid", "problems": [str(p) for p in exc.problems]}, status_code=422
        )
    return JSONResponse(
        {
            "status": "reloaded",
            "version": snapshot.version,
            "procedures": len(snapshot.content.catalogue.procedures),
        }
    )


@router.get("/catalogue")
async def catalogue_status(services: ServicesDep) -> dict[str, Any]:
    catalogue = services.knowledge.current.content.catalogue
    return {
        "version": services.knowledge.version,
        "ward": catalogue.ward.name,
        "sample_data": catalogue.ward.sample_data,
        "procedures": len(catalogue.procedures),
        "categories": [c.name for c in catalogue.categories],
    }
