"""A dossier's status, and the one interface a province's one-stop system plugs into.

A province implements `DossierStatusProvider` (usually over its one-stop system's API) and
names its factory in WARDBOT_DOSSIER_STATUS_PROVIDER (`package.module:factory`, called with
no arguments; the provider reads its own configuration). Without one, staff enter statuses
in /console/dossiers. `InMemoryStatusProvider` is the fake for tests and demonstrations.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol, runtime_checkable

from app.errors import WardbotError


class DossierState(StrEnum):
    received = "received"
    processing = "processing"
    needs_papers = "needs_papers"
    """The resident must add papers (`DossierStatus.missing` says which)."""
    result_ready = "result_ready"
    """The result waits at the counter (`DossierStatus.pickup_date`: from when)."""
    picked_up = "picked_up"


@dataclass(frozen=True)
class DossierStatus:
    state: DossierState
    missing: str | None = None
    pickup_date: date | None = None
    procedure_code: str | None = None
    """The procedure (mã thủ tục), when the system says: ratings are grouped by it."""


@runtime_checkable
class DossierStatusProvider(Protocol):
    async def status(self, code: str) -> DossierStatus | None:
        """The dossier's current status; None when the system does not know the code.

        May raise on a network or system failure: the poll logs it and tries again later."""
        ...


class InMemoryStatusProvider:
    """A provider answering from a dict: set `statuses[code]` to change what it says."""

    def __init__(self) -> None:
        self.statuses: dict[str, DossierStatus] = {}
        self.asked: list[str] = []

    async def status(self, code: str) -> DossierStatus | None:
        self.asked.append(code)
        return self.statuses.get(code)


class ProviderInvalid(WardbotError):
    """WARDBOT_DOSSIER_STATUS_PROVIDER does not name a usable provider."""


def load_provider(path: str) -> DossierStatusProvider:
    """Import `package.module:factory` and call the factory (a class or a function)."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ProviderInvalid(f"dossier status provider {path!r}: expected 'package.module:name'")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ProviderInvalid(f"dossier status provider {path!r} cannot be imported") from exc
    try:
        provider = factory()
    except Exception as exc:  # its own configuration missing, a wrong name...
        raise ProviderInvalid(f"dossier status provider {path!r} could not be created") from exc
    if not isinstance(provider, DossierStatusProvider):
        raise ProviderInvalid(f"dossier status provider {path!r} has no async status(code)")
    return provider
