"""The app's webhook receives the events of every OA that authorised the app: with ZALO_OA_ID
set, another OA's events are recorded and never answered through our token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage.events import list_events
from app.storage.outbox import messages_to
from app.storage.tables import EventStatus
from tests.conftest import RunningApp, make_settings, start_app
from tests.support.fake_zalo import FakeZalo
from tests.support.webhook import OA_ID, follow_event, text_event

pytestmark = pytest.mark.anyio

OTHER_OA = "999000111222333444"


@pytest.fixture
async def app(tmp_path: Path, fake_zalo: FakeZalo) -> AsyncIterator[RunningApp]:
    settings = make_settings(tmp_path, fake_zalo, zalo_oa_id=OA_ID, resident_messages_per_minute=2)
    async for running in start_app(settings):
        yield running


def _for(oa_id: str, payload: dict[str, object]) -> dict[str, object]:
    if "recipient" in payload:
        return {**payload, "recipient": {"id": oa_id}}
    return {**payload, "oa_id": oa_id}


async def test_another_oas_events_are_recorded_not_answered(
    app: RunningApp, fake_zalo: FakeZalo
) -> None:
    for payload in (
        text_event("stranger", "đăng ký khai sinh"),
        follow_event("stranger"),
        *(text_event("stranger", f"tin {i}") for i in range(5)),  # past the throttle too
    ):
        assert (await app.webhook.post(_for(OTHER_OA, payload))).status_code == 200
    await app.settle()

    assert fake_zalo.sent_messages == []
    events = list_events(app.services.db, OTHER_OA)
    assert len(events) == 7
    assert {e.status for e in events} == {EventStatus.ignored}
    assert messages_to(app.services.db, "stranger") == []

    # Our own OA's residents are answered as ever.
    await app.webhook.post(text_event("neighbour", "đăng ký khai sinh"))
    await app.settle()
    assert fake_zalo.sent_texts("neighbour")


async def test_whose_oa_is_decided_by_the_wards(app: RunningApp) -> None:
    # One place decides: the served version's wards (app.wards). With ZALO_OA_ID set and no
    # ward files, the ward of procedures.yaml claims that OA only.
    snapshot = app.services.knowledge.current
    assert snapshot.ward_of(OA_ID) is not None
    assert snapshot.ward_of(OTHER_OA) is None


async def test_without_zalo_oa_id_the_one_ward_answers_whichever_oa(
    tmp_path: Path, fake_zalo: FakeZalo
) -> None:
    async for running in start_app(make_settings(tmp_path, fake_zalo)):
        assert running.services.knowledge.current.ward_of(OTHER_OA) is not None
