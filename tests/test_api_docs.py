"""The API description (/docs, /redoc, /openapi.json) is for developers: off in production."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_settings, start_app
from tests.support.webhook import OA_ID

pytestmark = pytest.mark.anyio

DOCS = ("/docs", "/redoc", "/openapi.json")


async def test_production_publishes_no_api_docs(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        environment="production",
        zalo_oa_id=OA_ID,
        zalo_app_secret="app-secret-from-developers-zalo-me",
    )
    async for running in start_app(settings):
        for path in DOCS:
            assert (await running.client.get(path)).status_code == 404, path


async def test_development_keeps_them(tmp_path: Path) -> None:
    async for running in start_app(make_settings(tmp_path)):
        for path in DOCS:
            assert (await running.client.get(path)).status_code == 200, path
