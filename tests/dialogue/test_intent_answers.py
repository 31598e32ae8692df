"""Intent answers: templates rendered with the ward's facts, and their buttons."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import jinja2
import pytest

from app.catalogue import Catalogue, Content, Intent
from app.dialogue import intent_answers
from app.dialogue.hours import hours_lines
from app.dialogue.intent_answers import intent_answer
from app.dialogue.reply import ButtonKind

from .support import assert_well_formed

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_MORNING = datetime(2025, 11, 24, 9, 0, tzinfo=VN)
MONDAY_LUNCH = datetime(2025, 11, 24, 12, 0, tzinfo=VN)
SUNDAY = datetime(2025, 11, 23, 10, 0, tzinfo=VN)


@pytest.mark.parametrize("now", [MONDAY_MORNING, MONDAY_LUNCH, SUNDAY])
def test_every_intent_renders(content: Content, now: datetime) -> None:
    catalogue = content.catalogue
    for intent in content.intents.intents:
        reply = intent_answer(intent, catalogue, now)
        assert_well_formed(reply)
        if "ward.name" in intent.answer:
            assert catalogue.ward.name in reply.text


def test_office_hours_answer_depends_on_the_time(content: Content) -> None:
    intent = content.intents.get("office_hours")
    assert intent is not None
    ward = content.catalogue.ward
    open_text = intent_answer(intent, content.catalogue, MONDAY_MORNING).text
    closed_text = intent_answer(intent, content.catalogue, SUNDAY).text
    for line in hours_lines(ward):
        assert f"• {line}" in open_text
    assert "đang trong giờ làm việc" in open_text and "ngoài giờ" not in open_text
    assert "ngoài giờ làm việc" in closed_text
    utc_lunch = intent_answer(intent, content.catalogue, MONDAY_LUNCH.astimezone(UTC)).text
    assert "ngoài giờ làm việc" in utc_lunch


def test_contact_answer_lists_every_line(content: Content) -> None:
    intent = content.intents.get("contact")
    assert intent is not None
    reply = intent_answer(intent, content.catalogue, MONDAY_MORNING)
    for contact in content.catalogue.ward.contacts.values():
        assert f"☎ {contact.label}: {contact.phone}" in reply.text
    general = content.catalogue.ward.contact_for(None)
    assert [(b.kind, b.payload) for b in reply.buttons] == [(ButtonKind.phone, general.dial)]


def test_online_services_links_the_portal(content: Content) -> None:
    intent = content.intents.get("online_services")
    assert intent is not None
    ward = content.catalogue.ward
    reply = intent_answer(intent, content.catalogue, MONDAY_MORNING)
    urls = [b.payload for b in reply.buttons if b.kind is ButtonKind.url]
    assert urls == [ward.national_portal_url]  # the sample ward's provincial portal is the same
    other = content.catalogue.model_copy(
        update={"ward": ward.model_copy(update={"provincial_portal_url": "https://dvc.example.vn"})}
    )
    urls = [b.payload for b in intent_answer(intent, other, MONDAY_MORNING).buttons]
    assert "https://dvc.example.vn" in urls


def test_greeting_offers_the_menu(content: Content) -> None:
    intent = content.intents.get("greeting")
    assert intent is not None
    reply = intent_answer(intent, content.catalogue, MONDAY_MORNING)
    assert reply.buttons[0].payload == "Danh sách thủ tục"


def test_templates_are_strict_and_compiled_once(catalogue: Catalogue) -> None:
    broken = Intent(id="broken", description="x", phrases=("x",), answer="Dạ, {{ nope }}")
    with pytest.raises(jinja2.UndefinedError):
        intent_answer(broken, catalogue, MONDAY_MORNING)
    source = "Dạ, {{ ward.name }}{% if open_now %} đang mở{% endif %} ạ."
    custom = Intent(id="custom", description="x", phrases=("x",), answer=source)
    assert intent_answer(custom, catalogue, MONDAY_MORNING).text == "Dạ, Phường Mẫu đang mở ạ."
    assert intent_answer(custom, catalogue, SUNDAY).text == "Dạ, Phường Mẫu ạ."
    assert intent_answers._template(source) is intent_answers._template(source)
