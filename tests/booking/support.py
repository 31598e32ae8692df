"""A ward with booking configured, for tests: the sample ward of procedures.yaml with a small,
fixed calendar (one counter for civil status, one for everything else)."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from app.catalogue import Catalogue
from app.catalogue.loader import load_catalogue
from app.catalogue.models import BookingConfig, WardProfile
from tests.conftest import ROOT

OA = "388613280878808645"


@cache
def sample_catalogue() -> Catalogue:
    return load_catalogue(ROOT / "procedures.yaml")


def ward_with(**booking: Any) -> WardProfile:
    """The sample ward, its booking section changed by `booking` (fields of BookingConfig)."""
    ward = sample_catalogue().ward
    assert ward.booking is not None
    config = BookingConfig.model_validate({**ward.booking.model_dump(), **booking})
    return ward.model_copy(update={"booking": config})


def holidays(*days: str) -> tuple[date, ...]:
    return tuple(date.fromisoformat(d) for d in days)
