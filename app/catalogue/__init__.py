"""The catalogue: procedures.yaml and intents/ as validated, immutable objects."""

from app.catalogue.intents import Intent, IntentSet, Lexicon
from app.catalogue.loader import (
    Content,
    load_catalogue,
    load_content,
    load_documents,
    load_intents,
)
from app.catalogue.models import Catalogue, Category, Procedure, WardProfile

__all__ = [
    "Catalogue",
    "Category",
    "Content",
    "Intent",
    "IntentSet",
    "Lexicon",
    "Procedure",
    "WardProfile",
    "load_catalogue",
    "load_content",
    "load_documents",
    "load_intents",
]
