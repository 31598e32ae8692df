"""Ratings and dossiers at their edges: Zalo refusing the question for the window, and two
wards (OAs) with the same code kept apart."""

from __future__ import annotations

import pytest

from app.dossiers.status import DossierState, DossierStatus
from app.ratings.service import RequestOutcome, Resident, Subject, SubjectKind
from app.storage.dossiers import follow, follower_ids, get_dossier
from app.storage.ratings import requests_for
from tests.support.desk import CODE, Desk
from tests.support.fake_zalo import MESSAGE_CS_PATH
from tests.support.webhook import OA_ID

pytestmark = pytest.mark.anyio


async def test_a_question_zalo_refuses_for_the_window_is_asked_after_the_next_message(
    desk: Desk,
) -> None:
    await desk.says("giờ làm việc", user_id="visitor")
    desk.fake.queue_error(MESSAGE_CS_PATH, -230)  # Zalo: no interaction in the last 7 days
    visit = Subject(SubjectKind.visit, "LH-7", counter="Quầy 1")
    outcome = await desk.ratings.request_rating(Resident(OA_ID, "visitor"), visit)
    assert outcome is RequestOutcome.deferred
    (row,) = requests_for(desk.app.services.db, SubjectKind.visit, "LH-7")
    assert row.asked_at is None
    replies = await desk.says("cảm ơn", user_id="visitor")
    assert replies[-1].buttons[0]["payload"] == "Đánh giá 1 sao LH-7"
    (row,) = requests_for(desk.app.services.db, SubjectKind.visit, "LH-7")
    assert row.asked_at is not None


async def test_the_same_code_in_two_wards_is_two_dossiers(desk: Desk) -> None:
    db, now = desk.app.services.db, desk.clock()
    follow(db, "other-ward-oa", CODE, "neighbour", now)
    await desk.says(f"theo dõi hồ sơ {CODE}")
    status = DossierStatus(DossierState.processing)
    recorded = await desk.dossiers.record(OA_ID, CODE, status, by="motcua", now=now)
    assert recorded.told == 1  # this ward's follower only
    other = get_dossier(db, "other-ward-oa", CODE)
    assert other is not None and other.state is None
    assert follower_ids(db, "other-ward-oa", CODE) == ["neighbour"]
