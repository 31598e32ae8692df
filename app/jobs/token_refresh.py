"""Refreshes the Zalo token pair ahead of expiry, so residents never wait on a refresh and a
failure (e.g. -118, the refresh token was spent or revoked) is noticed before it matters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

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
        tokens: TokenManager | Callable[[], Sequence[TokenManager]],
        interval_seconds: float = 60.0,
        *,
        when_healthy: Callable[[], Awaitable[object]] | None = None,
        when_oa_healthy: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        """`tokens`: one manager, or the managers of every OA served (one per ward)."""
        super().__init__(interval_seconds)
        self._tokens = tokens
        self._when_healthy = when_healthy
        """Run after each check that finds the connection healthy: sends held replies."""
        self._when_oa_healthy = when_oa_healthy
        """The same per OA (its key): one OA's broken connection holds up no other OA."""

    def _managers(self) -> Sequence[TokenManager]:
        return [self._tokens] if isinstance(self._tokens, TokenManager) else self._tokens()

    async def check_once(self) -> None:
        for manager in self._managers():
            await self._check(manager)

    @staticmethod
    async def _check(manager: TokenManager) -> None:
        try:
            if await manager.refresh_if_due():
                log.info("zalo.token.background_refresh.ok", extra={"oa": manager.oa_id})
        except ZaloError as exc:
            # Loud on purpose: a spent refresh token needs an OA admin to consent again
            # (`wardbot zalo connect`); until then this OA's replies wait in the database.
            log.error(
                "zalo.token.background_refresh.failed: an OA admin may need to reconnect",
                extra={"code": exc.code, "reason": exc.reason, "oa": manager.oa_id},
            )
        except Exception:
            # Never let one OA's unexpected failure stop the others' refreshes.
            log.exception("zalo.token.background_refresh.error", extra={"oa": manager.oa_id})

    async def tick(self) -> None:
        """One round: the token checks, then for each healthy connection `when_healthy`.

        It yields to the event loop after each OA: with a province's hundreds of OAs, a
        round of database look-ups done in one go would hold up every resident's answer in
        this process for seconds (bench/bench_province.py showed ~5 s with 200 wards)."""
        managers = self._managers()
        for manager in managers:
            await self._check(manager)
            await asyncio.sleep(0)
        healthy = [m for m in managers if m.health.ok]
        if self._when_healthy is not None and healthy:
            await self._when_healthy()
        if self._when_oa_healthy is not None:
            for manager in healthy:
                if manager.oa_id is not None:
                    await self._when_oa_healthy(manager.oa_id)
                    await asyncio.sleep(0)

    async def run_once(self) -> None:
        await self.tick()
