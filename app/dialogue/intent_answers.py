"""Answers to intents (greeting, office hours, contacts...): the intent's Jinja2 template rendered
with the ward's facts, plus buttons that fit it."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from jinja2 import Environment, StrictUndefined, Template

from app.catalogue.intents import Intent
from app.catalogue.models import Catalogue
from app.dialogue import texts
from app.dialogue.hours import hours_lines, is_open, next_opening_phrase
from app.dialogue.pieces import general_call_button, menu_button
from app.dialogue.reply import Button, ButtonKind, Reply


@lru_cache(maxsize=128)
def _template(source: str) -> Template:
    env = Environment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
    return env.from_string(source)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def intent_answer(intent: Intent, catalogue: Catalogue, now: datetime) -> Reply:
    """An intent's Jinja2 answer, rendered with the ward's facts, plus buttons that fit it.

    The template sees ward, hours (lines), open_now, contacts ((label, phone) pairs) and
    next_opening (e.g. "07:30 sáng mai", or None). A template error propagates: the content
    tests and `wardbot validate` render every intent so it is caught before it is served.
    """
    ward = catalogue.ward
    context = {
        "ward": ward,
        "hours": hours_lines(ward),
        "open_now": is_open(ward, now),
        "next_opening": next_opening_phrase(ward, now),
        "contacts": [(c.label, c.phone) for c in ward.contacts.values()],
    }
    text = _tidy(_template(intent.answer).render(context))
    call = general_call_button(ward)
    buttons: tuple[Button, ...]
    if intent.id == "thanks":
        buttons = ()
    elif intent.id in ("greeting", "help"):
        buttons = (menu_button(), call)
    elif intent.id == "online_services":
        national = Button(texts.NATIONAL_PORTAL_TITLE, ButtonKind.url, ward.national_portal_url)
        buttons = (national,)
        if ward.provincial_portal_url.rstrip("/") != ward.national_portal_url.rstrip("/"):
            provincial = Button(
                texts.PROVINCIAL_PORTAL_TITLE, ButtonKind.url, ward.provincial_portal_url
            )
            buttons += (provincial,)
        buttons += (menu_button(),)
    elif intent.id in ("office_hours", "contact", "handoff"):
        buttons = (call,)
    else:
        buttons = (menu_button(), call)
    return Reply(text, buttons)
