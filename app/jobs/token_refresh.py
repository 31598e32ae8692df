"""Refreshes the Zalo token pair ahead of expiry, so residents never wait on a refresh and a
failure (e.g. -118, the refresh token was spent or revoked) is noticed before it matters."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from app.errors import ZaloError
from app.jobs.periodic import PeriodicJob
from app.zalo.tokens import TokenManager

log = logging.getLogger(__name__)


class TokenRefresher(PeriodicJob):
    """Checks every `interval_seconds`; the manager refreshes only within its margin, and the
    store's lock makes the processes of a deployment refresh once between them."""

    name = "zalo-token-refresher"

    def __init__(
        self,
        tokens: TokenManager,
        interval_seconds: float = 60.0,
        *,
        when_healthy: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__(interval_seconds)
        self._tokens = tokens
        self._when_healthy = when_healthy
        """Run after each check that finds the connection healthy: sends held replies."""

    async def check_once(self) -> None:
        try:
            if await self._tokens.refresh_if_due():
                log.info("zalo.token.background_refresh.ok")
        except ZaloError as exc:
            # Loud on purpose: a spent refresh token needs an OA admin to consent again
            # (`wardbot zalo connect`); until then replies wait in the database.
            log.error(
                "zalo.token.background_refresh.failed: an OA admin may need to reconnect",
                extra={"code": exc.code, "reason": exc.reason},
            )

    async def tick(self) -> None:
        """One round: the token check, then (if the connection is healthy) `when_healthy`."""
        await self.check_once()
        if self._when_healthy is not None and self._tokens.health.ok:
            await self._when_healthy()

    async def run_once(self) -> None:
        await self.tick()
