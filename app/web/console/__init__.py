"""The staff console: server-rendered Vietnamese pages under /console, one module per page area.

Every page needs a signed-in staff member (auth); admin pages need the admin role. Every page
shows and acts on the staff member's own ward only (auth.PageWards; a province admin: every
ward). Every form carries the session's CSRF token. `router` holds every page's routes;
app.main mounts it.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.web.console import (
    announcements,
    bookings,
    catalogue,
    catalogue_form,
    catalogue_history,
    dashboard,
    dossiers,
    groups,
    login,
    ratings,
    reports,
    simulator,
    staff,
    unanswered,
    wards,
)

router = APIRouter()
for page in (
    login,
    dashboard,
    catalogue,
    unanswered,
    staff,
    reports,
    announcements,
    groups,
    simulator,
    catalogue_form,
    catalogue_history,
    dossiers,
    ratings,
    bookings,
    wards,
):
    router.include_router(page.router)

__all__ = ["router"]
