"""What every console page shares: the templates, `render` (the session, the Zalo and
catalogue banners, no caching, no framing) and the catalogue-conflict message."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.knowledge import Knowledge
from app.services import ZaloConnectionState, services_of
from app.staff import ConsoleSession

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates" / "console")
CATALOGUE_CONFLICT = "Danh mục vừa được người khác cập nhật, vui lòng tải lại trang và thử lại."
"""A save whose base version is no longer current (CatalogueConflict)."""


def render(
    request: Request,
    name: str,
    session: ConsoleSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    user = session.user if session else None
    banner = catalogue_warning = None
    if user is not None:
        services = services_of(request.app.state)
        timezone = ZoneInfo(services.knowledge.current.content.catalogue.ward.timezone)
        banner = zalo_banner(services.zalo_connection(), timezone)
        if user.is_admin:
            catalogue_warning = catalogue_banner(services.knowledge)
    context.update(
        session=session, user=user, zalo_banner=banner, catalogue_banner=catalogue_warning
    )
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    # Console pages show residents' data: never cache them, never frame them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def zalo_banner(connection: ZaloConnectionState | None, timezone: tzinfo) -> str | None:
    """The warning every console page shows while residents' replies cannot go out."""
    if connection is None:
        return None
    held = connection.held_replies
    if not connection.ok:
        since = ""
        if connection.since is not None:
            local = connection.since.astimezone(timezone)
            since = f" từ {local:%H:%M} ngày {local:%d/%m/%Y}"
        code = f" (mã lỗi {connection.error_code})" if connection.error_code is not None else ""
        return (
            f"Mất kết nối Zalo OA{since}{code}. Tin nhắn của người dân vẫn được nhận và lưu; "
            f"{held} tin trả lời đang chờ và sẽ tự gửi khi kết nối lại. Quản trị viên cần "
            "kết nối lại OA: chạy lệnh «wardbot zalo connect» rồi mở đường liên kết được in ra."
        )
    if held:
        return (
            f"{held} tin trả lời đang chờ gửi lại vì Zalo tạm thời không phản hồi; "
            "hệ thống sẽ tự gửi khi Zalo hoạt động lại."
        )
    return None


def catalogue_banner(knowledge: Knowledge) -> str | None:
    """The warning admins see on every page while a catalogue version or edit was refused."""
    if knowledge.refused is not None:
        return (
            f"Phiên bản {knowledge.refused.version} của danh mục có lỗi nên chưa được dùng; "
            f"trợ lý vẫn trả lời theo phiên bản {knowledge.version}. Xem trang Danh mục thủ tục."
        )
    if knowledge.file_problems:
        return (
            "Tệp danh mục vừa sửa có lỗi nên chưa được nhập; trợ lý vẫn trả lời theo phiên bản "
            f"{knowledge.version}. Xem trang Danh mục thủ tục."
        )
    return None
