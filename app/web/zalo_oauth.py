"""GET /zalo/oauth/callback: Zalo sends the OA admin here after consent; the code is traded
for a token pair, which is stored before anything uses it (reference §6.3-6.4)."""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.config import UNSET_OA_ID
from app.errors import ZaloError
from app.services import Services, services_of
from app.storage.connection import record_connection
from app.storage.oauth import take_oauth_request
from app.storage.tokens import DatabaseTokenStore
from app.zalo.tokens import OAuthClient, TokenHealth

log = logging.getLogger(__name__)
router = APIRouter()

CONSENT_MAX_AGE = timedelta(minutes=15)
"""Zalo's code lives 10 minutes; the admin may take a little while to open the link."""


def _services(request: Request) -> Services:
    return services_of(request.app.state)


ServicesDep = Annotated[Services, Depends(_services)]


def _page(status: int, message: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><meta charset=utf-8><p>{message}</p>", status_code=status)


@router.get("/zalo/oauth/callback")
async def zalo_oauth_callback(
    services: ServicesDep, code: str = "", state: str = "", oa_id: str = ""
) -> HTMLResponse:
    settings = services.settings
    pending = take_oauth_request(services.db, state, datetime.now(UTC), CONSENT_MAX_AGE)
    if not code or pending is None:
        log.warning("zalo.oauth.callback.unknown_state")
        return _page(
            400, "Liên kết đã hết hạn hoặc đã được dùng. Hãy chạy lại: wardbot zalo connect"
        )
    if oa_id and pending.oa_id != UNSET_OA_ID and oa_id != pending.oa_id:
        # The admin consented for another OA than the link was made for: its pair must not
        # be stored as this OA's (its messages would go out with the wrong token).
        log.warning("zalo.oauth.callback.other_oa", extra={"oa": oa_id, "expected": pending.oa_id})
        return _page(
            400,
            "Tài khoản OA vừa cấp quyền không phải OA của liên kết này. Hãy đăng nhập đúng OA "
            f"rồi chạy lại: wardbot zalo connect --oa {html.escape(pending.oa_id)}",
        )
    async with httpx.AsyncClient(timeout=settings.zalo_timeout_seconds) as http:
        oauth = OAuthClient(
            http,
            oauth_base_url=settings.zalo_oauth_base_url,
            app_id=settings.zalo_app_id,
            app_secret=settings.zalo_app_secret.get_secret_value(),
        )
        try:
            pair = await oauth.exchange_code(code, pending.code_verifier)
        except ZaloError as exc:
            log.error("zalo.oauth.callback.exchange_failed", extra={"code": exc.code})
            return _page(502, f"Zalo từ chối mã xác thực ({exc.reason}). Hãy thử lại.")
    store = DatabaseTokenStore(services.db, pending.oa_id)
    async with store.refresh_lock() as locked:
        locked.save(pair)
    if services.accounts is not None:
        services.accounts.for_key(pending.oa_id).health = TokenHealth(datetime.now(UTC))
    # Shared at once: /readyz and the console stop showing the failure, and the process that
    # sends holds no more replies (its next token check also sees the new pair).
    record_connection(services.db, pending.oa_id, ok=True)
    log.info("zalo.oauth.callback.connected", extra={"oa": oa_id or pending.oa_id})
    return _page(200, "Đã kết nối Zalo OA. Có thể đóng trang này.")
