"""Admin API: reload and inspect the catalogue. Every route needs the bearer token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.errors import CatalogueError
from app.web.auth import Authenticated, ServicesDep

router = APIRouter(prefix="/admin", dependencies=[Authenticated])


@router.post("/reload")
async def reload_catalogue(services: ServicesDep) -> JSONResponse:
    try:
        snapshot = services.knowledge.reload()
    except CatalogueError as exc:
        # The last good catalogue keeps serving; the admin gets every problem with its line.
        return JSONResponse(
            {"status": "invalid", "problems": [str(p) for p in exc.problems]}, status_code=422
        )
    return JSONResponse(
        {"status": "reloaded", "procedures": len(snapshot.content.catalogue.procedures)}
    )


@router.get("/catalogue")
async def catalogue_status(services: ServicesDep) -> dict[str, Any]:
    catalogue = services.knowledge.current.content.catalogue
    return {
        "ward": catalogue.ward.name,
        "sample_data": catalogue.ward.sample_data,
        "procedures": len(catalogue.procedures),
        "categories": [c.name for c in catalogue.categories],
    }
