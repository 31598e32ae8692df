"""Rating the service through the webhook with the fake Zalo: asked once when a dossier's
result is picked up (or a visit is served), 1-5 by buttons, an optional comment, shown in the
console per procedure, counter and month, and exported as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from app.ratings.service import RequestOutcome, Resident, Subject, SubjectKind
from app.storage.ratings import rated
from tests.support.desk import CODE, RESIDENT, Desk
from tests.support.webhook import OA_ID

pytestmark = pytest.mark.anyio


def payloads(message: object) -> list[str]:
    return [b["payload"] for b in message.buttons]  # type: ignore[attr-defined]


async def test_a_picked_up_dossier_is_rated_once_with_a_comment(desk: Desk) -> None:
    await desk.says(f"theo dõi hồ sơ {CODE}")
    page = await desk.staff_sets(CODE, "picked_up", procedure_code="1.001193")
    assert "1 người theo dõi được mời đánh giá" in page.text
    question = desk.sent_to()[-1]
    assert CODE in question.text and "từ 1 sao" in question.text
    assert payloads(question) == [f"Đánh giá {n} sao {CODE}" for n in range(1, 6)]
    assert [b["title"] for b in question.buttons] == [f"{n} sao" for n in range(1, 6)]

    thanks = await desk.text_of(f"Đánh giá 4 sao {CODE}")
    assert "4/5" in thanks and "góp ý" in thanks
    # A question in the comment window is answered, not swallowed as the comment.
    hours = await desk.text_of("thứ bảy phường có làm việc không")
    assert "góp ý" not in hours and "07:30" in hours
    taken = await desk.text_of("Cán bộ hướng dẫn tận tình, nhưng phải chờ lâu.")
    assert "đã ghi nhận góp ý" in taken
    (row,) = rated(desk.app.services.db)
    assert (row.score, row.subject_ref, row.procedure_code) == (4, CODE, "1.001193")
    assert row.comment == "Cán bộ hướng dẫn tận tình, nhưng phải chờ lâu."
    assert row.procedure_name and "khai sinh" in row.procedure_name

    # Asked once: the same status again, or the same subject from elsewhere, asks nothing.
    before = len(desk.sent_to())
    await desk.staff_sets(CODE, "picked_up")
    subject = Subject(SubjectKind.dossier, CODE)
    outcome = await desk.ratings.request_rating(Resident(OA_ID, RESIDENT), subject)
    assert outcome is RequestOutcome.already
    assert len(desk.sent_to()) == before
    # A second tap on the question is thanked, not counted; later messages are not comments.
    assert "đã đánh giá rồi" in await desk.text_of(f"Đánh giá 1 sao {CODE}")
    assert "khai sinh" in (await desk.text_of("đăng ký khai sinh")).lower()
    (row,) = rated(desk.app.services.db)
    assert row.score == 4 and row.comment.startswith("Cán bộ")


async def test_outside_the_window_the_question_follows_the_next_message(desk: Desk) -> None:
    await desk.says(f"theo dõi hồ sơ {CODE}")
    desk.clock.advance(days=9)
    await desk.staff_sets(CODE, "picked_up")
    assert not any("đánh giá" in m.text for m in desk.sent_to())
    replies = await desk.says("giờ làm việc")
    assert len(replies) >= 2 and payloads(replies[-1])[-1] == f"Đánh giá 5 sao {CODE}"
    assert "Không góp ý" in payloads((await desk.says(f"Đánh giá 5 sao {CODE}"))[0])
    assert "cảm ơn" in await desk.text_of("Không góp ý")
    (row,) = rated(desk.app.services.db)
    assert (row.score, row.comment) == (5, None)
    assert all("từ 1 sao" not in m.text for m in await desk.says("cảm ơn"))  # asked once


async def test_a_served_visit_is_rated_and_the_console_groups_and_exports(desk: Desk) -> None:
    """What the booking code calls when staff mark a visit served."""
    await desk.says("giờ làm việc", user_id="visitor")
    visit = Subject(
        SubjectKind.visit,
        "LH-12",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        counter="Quầy 2",
    )
    outcome = await desk.ratings.request_rating(Resident(OA_ID, "visitor"), visit)
    assert outcome is RequestOutcome.asked
    question = desk.sent_to("visitor")[-1]
    assert "LH-12" in question.text and "Đăng ký khai sinh" in question.text
    await desk.says("Đánh giá 2 sao LH-12", user_id="visitor")
    await desk.says("=HYPERLINK(phải chờ lâu)", user_id="visitor")

    await desk.staff_sets(CODE, "received")  # logs the staff member in
    page = await desk.app.client.get("/console/ratings")
    assert page.status_code == 200
    assert 'id="rating-count">1<' in page.text and 'id="rating-average">2.00<' in page.text
    assert "Quầy 2" in page.text and "Đăng ký khai sinh (1.001193)" in page.text
    month = f"{desk.clock():%m/%Y}"
    assert month in page.text
    export = await desk.app.client.get("/console/ratings.csv")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text.removeprefix("\ufeff"))))
    assert [(r["subject_ref"], r["counter"], r["score"]) for r in rows] == [
        ("LH-12", "Quầy 2", "2")
    ]
    assert rows[0]["comment"] == "'=HYPERLINK(phải chờ lâu)"  # never a formula
    assert "visitor" not in export.text  # no resident ids in the export


async def test_ratings_pages_need_a_session(desk: Desk) -> None:
    for path in ("/console/ratings", "/console/ratings.csv", "/console/dossiers"):
        response = await desk.app.client.get(path)
        assert response.status_code in (303, 401), path
