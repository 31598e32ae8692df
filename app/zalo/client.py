"""The outgoing Zalo OA client: consultation messages, tags and followers over `httpx`.

Every call carries the header `access_token` (reference §0). Answers go through
`app.zalo.errors`, so callers only ever see `SentMessage`, the small result types below, or a
`ZaloError`. A rejected token is refreshed once and the call retried once; transient errors
are retried with exponential backoff; anything else is raised at once. Logs name events, user
ids and error codes; never tokens or message text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import httpx

from app.dialogue.reply import MAX_BUTTONS, Button, ButtonKind
from app.errors import (
    ZaloError,
    ZaloRateLimited,
    ZaloRequestError,
    ZaloTokenError,
    ZaloTransportError,
)
from app.zalo.budget import BudgetLane
from app.zalo.errors import check_http_response
from app.zalo.sender import SentMessage
from app.zalo.split import TEXT_LIMIT
from app.zalo.tokens import TokenManager

logger = logging.getLogger(__name__)

MESSAGE_CS_PATH: Final = "/v3.0/oa/message/cs"
TAG_FOLLOWER_PATH: Final = "/v2.0/oa/tag/tagfollower"
REMOVE_FROM_TAG_PATH: Final = "/v2.0/oa/tag/rmfollowerfromtag"
USER_LIST_PATH: Final = "/v3.0/oa/user/getlist"
USER_DETAIL_PATH: Final = "/v3.0/oa/user/detail"

BUTTON_TITLE_MAX: Final = 35
"""Longest button title we send. Unsettled in reference §3.2/§9.5: [CBX] caps at 20, [T3]
gives 35 (promotion buttons), one source 100. 35 fits Vietnamese labels such as
"Đăng ký thường trú cho trẻ em" (28) that 20 would cut; if Zalo turns out to clip or reject
above 20, change it here. Longer titles are cut and end with "…"."""

BUTTONS_TEMPLATE_TYPE: Final[str | None] = None
"""`template_type` for a text-with-buttons message; None leaves the key out, as [CBX] does in
production (reference §3.2, unsettled per §9.5). Set a string to send it."""

FOLLOWERS_PAGE_MAX: Final = 50
"""`user/getlist` returns at most 50 users a call (reference §4.1, §9.15)."""

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of transient errors: `attempts` tries in all, waiting `base_delay * 2**n`
    seconds (at most `max_delay`) between them. Tests pass a no-op `sleep`."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Sleep = asyncio.sleep

    def delay(self, failed_attempts: int) -> float:
        return float(min(self.max_delay, self.base_delay * 2 ** (failed_attempts - 1)))


@dataclass(frozen=True)
class FollowerPage:
    """One page of `user/getlist`. `total` counts every match, not just this page."""

    total: int
    offset: int
    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class UserDetail:
    """The parts of `user/detail` the bot uses (reference §4.2)."""

    user_id: str
    display_name: str
    is_follower: bool | None
    last_interaction: date | None
    tag_names: tuple[str, ...]
    avatar_url: str | None = None
    user_id_by_app: str | None = None


class ZaloClient:
    """Talks to the OA Open API at `api_base_url` (https://openapi.zalo.me in production).

    With a `budget` (app.zalo.budget), every request waits for the app's shared budget first
    and a -32 puts every process of the app into back-off; without one, nothing is paced.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base_url: str,
        tokens: TokenManager,
        retry: RetryPolicy | None = None,
        budget: BudgetLane | None = None,
    ) -> None:
        self._http = http
        self._base_url = api_base_url.rstrip("/")
        self._tokens = tokens
        self._retry = retry or RetryPolicy()
        self._budget = budget

    # --- messages ----------------------------------------------------------------------

    async def send_text(
        self, user_id: str, text: str, buttons: Iterable[Button] = ()
    ) -> SentMessage:
        """Send one consultation message (at most `TEXT_LIMIT` characters after NFC).

        Longer replies are split once by the outbox (app.outbox), which sends each part with
        this. A failure that may hide an accepted message (`ZaloTransportError` with
        `maybe_delivered`) is not retried here: the outbox looks for Zalo's echo first.
        """
        text = unicodedata.normalize("NFC", text).strip()
        if not text:
            raise ValueError("a message needs text")
        if len(text) > TEXT_LIMIT:
            raise ValueError(f"text over {TEXT_LIMIT} characters: the outbox splits replies")
        body = text_message_body(user_id, text, buttons)
        data = await self._call("POST", MESSAGE_CS_PATH, json_body=body, idempotent=False)
        message = _sent_message(data, user_id)
        logger.info("zalo.message.sent user=%s message=%s", user_id, message.message_id)
        return message

    # --- tags and followers -----------------------------------------------------------

    async def tag_follower(self, user_id: str, tag_name: str) -> None:
        """Add the tag to a follower (reference §4.3)."""
        await self._call(
            "POST", TAG_FOLLOWER_PATH, json_body={"user_id": user_id, "tag_name": tag_name}
        )
        logger.info("zalo.tag.added user=%s", user_id)

    async def remove_from_tag(self, user_id: str, tag_name: str) -> None:
        """Remove the tag from a follower (reference §4.3)."""
        await self._call(
            "POST", REMOVE_FROM_TAG_PATH, json_body={"user_id": user_id, "tag_name": tag_name}
        )
        logger.info("zalo.tag.removed user=%s", user_id)

    async def list_followers(
        self, offset: int = 0, count: int = FOLLOWERS_PAGE_MAX, tag_name: str | None = None
    ) -> FollowerPage:
        """One page of the OA's users, optionally only those with `tag_name` (reference §4.1)."""
        if offset < 0 or not 0 < count <= FOLLOWERS_PAGE_MAX:
            raise ValueError(f"need offset >= 0 and 0 < count <= {FOLLOWERS_PAGE_MAX}")
        query: dict[str, Any] = {"offset": offset, "count": count}
        if tag_name is not None:
            query["tag_name"] = tag_name
        data = await self._call("GET", USER_LIST_PATH, query=query)
        users = data.get("users")
        user_ids = tuple(
            str(user["user_id"])
            for user in (users if isinstance(users, list) else [])
            if isinstance(user, dict) and user.get("user_id")
        )
        return FollowerPage(
            total=_int(data.get("total"), default=len(user_ids)),
            offset=_int(data.get("offset"), default=offset),
            user_ids=user_ids,
        )

    async def get_user_detail(self, user_id: str) -> UserDetail:
        """Profile of one user as this OA sees them (reference §4.2)."""
        data = await self._call("GET", USER_DETAIL_PATH, query={"user_id": user_id})
        tags_info = data.get("tags_and_notes_info")
        tag_names = tags_info.get("tag_names") if isinstance(tags_info, dict) else None
        is_follower = data.get("user_is_follower")
        avatar = data.get("avatar")
        by_app = data.get("user_id_by_app")
        return UserDetail(
            user_id=str(data.get("user_id") or user_id),
            display_name=str(data.get("display_name") or ""),
            is_follower=is_follower if isinstance(is_follower, bool) else None,
            last_interaction=_parse_ddmmyyyy(data.get("user_last_interaction_date")),
            tag_names=tuple(str(t) for t in tag_names) if isinstance(tag_names, list) else (),
            avatar_url=avatar if isinstance(avatar, str) and avatar else None,
            user_id_by_app=str(by_app) if by_app else None,
        )

    # --- one call: token handling and retries -------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """`idempotent=False` (sending a message): a transient error that may hide an accepted
        request is raised instead of retried."""
        token = await self._tokens.access_token()
        try:
            return await self._call_retrying(method, path, token, json_body, query, idempotent)
        except ZaloTokenError as exc:
            logger.warning("zalo.token.rejected path=%s code=%s", path, exc.code)
            token = await self._tokens.refresh_after_rejection(token)
        # Exactly one retry with the new token; a second token error reaches the caller.
        return await self._call_retrying(method, path, token, json_body, query, idempotent)

    async def _call_retrying(
        self,
        method: str,
        path: str,
        token: str,
        json_body: dict[str, Any] | None,
        query: dict[str, Any] | None,
        idempotent: bool,
    ) -> dict[str, Any]:
        failed = 0
        while True:
            try:
                return await self._call_once(method, path, token, json_body, query)
            except ZaloError as exc:
                ambiguous = isinstance(exc, ZaloTransportError) and exc.maybe_delivered
                if not exc.transient or (ambiguous and not idempotent):
                    logger.warning("zalo.call.failed path=%s reason=%s", path, exc.reason)
                    raise
                failed += 1
                if failed >= self._retry.attempts:
                    logger.error(
                        "zalo.call.gave_up path=%s attempts=%d reason=%s",
                        path,
                        failed,
                        exc.reason,
                    )
                    raise
                delay = self._retry.delay(failed)
                logger.warning(
                    "zalo.call.retry path=%s attempt=%d reason=%s delay=%.1f",
                    path,
                    failed,
                    exc.reason,
                    delay,
                )
                await self._retry.sleep(delay)

    async def _call_once(
        self,
        method: str,
        path: str,
        token: str,
        json_body: dict[str, Any] | None,
        query: dict[str, Any] | None,
    ) -> dict[str, Any]:
        params = None
        if query is not None:
            # GET parameters travel as one JSON string in `data` (reference §0).
            params = {"data": json.dumps(query, ensure_ascii=False, separators=(",", ":"))}
        if self._budget is not None:
            await self._budget.acquire()
        try:
            response = await self._http.request(
                method,
                f"{self._base_url}{path}",
                headers={"access_token": token},
                json=json_body,
                params=params,
            )
        except httpx.HTTPError as exc:
            raise ZaloTransportError(
                f"{method} {path}: {type(exc).__name__}", maybe_delivered=_maybe_delivered(exc)
            ) from exc
        try:
            return check_http_response(response)
        except ZaloRateLimited:
            if self._budget is not None:
                self._budget.rate_limited()
            raise


def _maybe_delivered(exc: httpx.HTTPError) -> bool:
    """Whether Zalo may have received (and accepted) the request before the failure.

    Not when no connection was made or the request was not written out in full; a read
    timeout or a dropped connection after the request went out leaves it unknown.
    """
    return not isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.WriteTimeout
    )


# --- wire format ------------------------------------------------------------------------


def text_message_body(user_id: str, text: str, buttons: Iterable[Button] = ()) -> dict[str, Any]:
    """The `/v3.0/oa/message/cs` body for text with optional buttons (reference §3.2)."""
    message: dict[str, Any] = {"text": text}
    wire_buttons = _wire_buttons(buttons)
    if wire_buttons:
        payload: dict[str, Any] = {"buttons": wire_buttons}
        if BUTTONS_TEMPLATE_TYPE is not None:
            payload["template_type"] = BUTTONS_TEMPLATE_TYPE
        message["attachment"] = {"type": "template", "payload": payload}
    return {"recipient": {"user_id": user_id}, "message": message}


def _wire_buttons(buttons: Iterable[Button]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = []
    for button in buttons:
        converted = _wire_button(button)
        if converted is None:
            continue
        if len(wire) == MAX_BUTTONS:
            logger.warning("zalo.buttons.dropped over the limit of %d", MAX_BUTTONS)
            break
        wire.append(converted)
    return wire


def _wire_button(button: Button) -> dict[str, Any] | None:
    title = button_title(button.title)
    match button.kind:
        case ButtonKind.url:
            return {"title": title, "type": "oa.open.url", "payload": {"url": button.payload}}
        case ButtonKind.query:
            return {"title": title, "type": "oa.query.show", "payload": button.payload}
        case ButtonKind.phone:
            digits = re.sub(r"\D", "", button.payload)
            if not digits:
                logger.warning("zalo.buttons.dropped phone button without digits")
                return None
            return {"title": title, "type": "oa.open.phone", "payload": {"phone_code": digits}}


def button_title(title: str) -> str:
    """`title` in NFC, cut to `BUTTON_TITLE_MAX` characters with a final "…" if longer."""
    title = unicodedata.normalize("NFC", title).strip()
    if len(title) <= BUTTON_TITLE_MAX:
        return title
    return title[: BUTTON_TITLE_MAX - 1].rstrip() + "…"


def _sent_message(data: dict[str, Any], user_id: str) -> SentMessage:
    message_id = data.get("message_id")
    if not message_id:
        raise ZaloRequestError("Zalo reported success without a message_id")
    # [T1] says `user_id`; the [GOCLAW] and [CBX] fixtures say `recipient_id` (reference §3.3).
    recipient = data.get("user_id") or data.get("recipient_id") or user_id
    quota = data.get("quota")
    quota_type = quota.get("quota_type") if isinstance(quota, dict) else None
    return SentMessage(
        message_id=str(message_id),
        user_id=str(recipient),
        quota_type=str(quota_type) if quota_type else None,
    )


def _int(value: object, *, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def _parse_ddmmyyyy(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None
