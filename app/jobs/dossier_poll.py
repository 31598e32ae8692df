"""Looks followed dossiers up in the province's system every few minutes (when one is
configured: WARDBOT_DOSSIER_STATUS_PROVIDER); changes reach the followers (app.dossiers)."""

from __future__ import annotations

import logging

from app.dossiers.service import DossierDesk
from app.jobs.periodic import PeriodicJob

log = logging.getLogger(__name__)


class DossierPoller(PeriodicJob):
    name = "dossier-poll"

    def __init__(self, desk: DossierDesk, interval: float) -> None:
        super().__init__(interval)
        self.desk = desk

    async def run_once(self) -> None:
        changed = await self.desk.poll(self.desk.clock())
        if changed:
            log.info("dossier statuses changed", extra={"changed": changed})
