"""Fixtures: the app with its dossier desk and ratings (tests.support.desk)."""

from tests.support.desk import desk

__all__ = ["desk"]
