"""Helpers for console tests: accounts, logging in through the real form, CSRF tokens."""

from __future__ import annotations

import re

import httpx

from app.staff import Role, add_staff
from app.storage.database import Database

PASSWORD = "mat-khau-du-dai-1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def make_staff(db: Database, username: str = "canbo", role: Role = Role.staff) -> str:
    add_staff(db, username, PASSWORD, role)
    return username


async def submit_login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/console/login")
    assert page.status_code == 200
    return await client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_in(page.text)},
    )


async def log_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Log in and return the session's CSRF token (from the dashboard's logout form)."""
    response = await submit_login(client, username, password)
    assert response.status_code == 303, response.text
    dashboard = await client.get("/console")
    assert dashboard.status_code == 200
    return csrf_in(dashboard.text)
