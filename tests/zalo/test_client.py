"""ZaloClient against the fake Zalo: wire format, token refresh, retries, error mapping."""

from __future__ import annotations

import asyncio
import unicodedata
from typing import Any

import httpx
import pytest

from app.dialogue.reply import MAX_BUTTONS, Button, ButtonKind
from app.errors import (
    ZaloAuthError,
    ZaloRateLimited,
    ZaloRecipientError,
    ZaloRequestError,
    ZaloTokenError,
    ZaloTransportError,
)
from app.zalo.client import (
    BUTTON_TITLE_MAX,
    MESSAGE_CS_PATH,
    RetryPolicy,
    ZaloClient,
    button_title,
    text_message_body,
)
from app.zalo.sender import MessageSender, SentMessage
from app.zalo.tokens import MemoryTokenStore, TokenPair
from tests.support.fake_zalo import TOKEN_PATH, FakeZalo

pytestmark = pytest.mark.anyio

USER = "246845883529197922"


# --- wire format ---------------------------------------------------------------------------


async def test_send_text_body_header_and_result(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    sent = await fake_zalo.client(http).send_text(USER, "Phường tiếp dân từ 7h30.")

    (request,) = fake_zalo.requests
    assert (request.method, request.path) == ("POST", MESSAGE_CS_PATH)
    assert request.headers["access_token"] == "access-0"
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "recipient": {"user_id": USER},
        "message": {"text": "Phường tiếp dân từ 7h30."},
    }
    assert sent == SentMessage(message_id="fake-msg-1", user_id=USER, quota_type="reply")


async def test_buttons_body_shape(fake_zalo: FakeZalo, http: httpx.AsyncClient) -> None:
    buttons = (
        Button("Giờ làm việc", ButtonKind.query, "Giờ làm việc"),
        Button("Cổng DVC", ButtonKind.url, "https://dichvucong.gov.vn"),
        Button("Gọi công an phường", ButtonKind.phone, "+84 (236) 3822-113"),
    )
    await fake_zalo.client(http).send_text(USER, "Bạn cần hỗ trợ gì?", buttons)

    body = fake_zalo.requests[0].json
    assert body == {
        "recipient": {"user_id": USER},
        "message": {
            "text": "Bạn cần hỗ trợ gì?",
            "attachment": {
                "type": "template",
                "payload": {
                    "buttons": [
                        {
                            "title": "Giờ làm việc",
                            "type": "oa.query.show",
                            "payload": "Giờ làm việc",
                        },
                        {
                            "title": "Cổng DVC",
                            "type": "oa.open.url",
                            "payload": {"url": "https://dichvucong.gov.vn"},
                        },
                        {
                            "title": "Gọi công an phường",
                            "type": "oa.open.phone",
                            "payload": {"phone_code": "842363822113"},
                        },
                    ]
                },
            },
        },
    }
    assert "template_type" not in body["message"]["attachment"]["payload"]
    assert len(fake_zalo.sent_messages[0].buttons) == 3


def test_at_most_max_buttons_and_titles_are_cut() -> None:
    long_title = "Đăng ký khai sinh, thường trú và cấp bảo hiểm y tế cho trẻ"
    buttons = [Button(f"{long_title} {i}", ButtonKind.query, f"q{i}") for i in range(8)]
    body = text_message_body(USER, "Chọn:", buttons)
    wire = body["message"]["attachment"]["payload"]["buttons"]
    assert len(wire) == MAX_BUTTONS
    assert all(len(b["title"]) <= BUTTON_TITLE_MAX for b in wire)
    assert wire[0]["title"].endswith("…")
    assert [b["payload"] for b in wire] == ["q0", "q1", "q2", "q3", "q4"]


def test_button_title_is_nfc_and_short_titles_are_untouched() -> None:
    decomposed = unicodedata.normalize("NFD", "Hộ tịch")
    assert len(decomposed) > len("Hộ tịch")
    assert button_title(decomposed) == unicodedata.normalize("NFC", "Hộ tịch")
    assert button_title("x" * BUTTON_TITLE_MAX) == "x" * BUTTON_TITLE_MAX
    assert len(button_title("x" * (BUTTON_TITLE_MAX + 1))) == BUTTON_TITLE_MAX


def test_phone_button_without_digits_is_dropped() -> None:
    body = text_message_body(USER, "Gọi", [Button("Gọi", ButtonKind.phone, "không có")])
    assert "attachment" not in body["message"]


async def test_send_text_without_text_is_a_programming_error(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    with pytest.raises(ValueError):
        await fake_zalo.client(http).send_text(USER, "  ")
    assert fake_zalo.requests == []


async def test_a_send_that_may_have_reached_zalo_is_not_retried(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    """A read timeout may hide an accepted message: the outbox checks the echo instead."""
    fake_zalo.accept_then_timeout()
    with pytest.raises(ZaloTransportError) as raised:
        await fake_zalo.client(http).send_text(USER, "Xin chào")
    assert raised.value.maybe_delivered
    assert len(fake_zalo.sent_messages) == 1  # accepted once, never sent again


async def test_a_send_that_surely_failed_is_retried(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.fail_next_http(500)
    sent = await fake_zalo.client(http).send_text(USER, "Xin chào")
    assert sent.message_id == "fake-msg-1"
    assert len(fake_zalo.requests_to("/v3.0/oa/message/cs")) == 2


async def test_send_text_over_limit_is_refused_locally(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    with pytest.raises(ValueError):
        await fake_zalo.client(http).send_text(USER, "a" * 2001)
    assert fake_zalo.requests == []


async def test_response_with_recipient_id_is_tolerated(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    data = {"message_id": "m1", "recipient_id": "u9"}
    fake_zalo.queue_response(MESSAGE_CS_PATH, {"error": 0, "message": "Success", "data": data})
    sent = await fake_zalo.client(http).send_text(USER, "Xin chào")
    assert sent == SentMessage(message_id="m1", user_id="u9", quota_type=None)


async def test_success_without_message_id_is_request_error(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.queue_response(MESSAGE_CS_PATH, {"error": 0, "message": "Success", "data": {}})
    with pytest.raises(ZaloRequestError):
        await fake_zalo.client(http).send_text(USER, "Xin chào")


async def test_client_is_a_message_sender(http: httpx.AsyncClient, fake_zalo: FakeZalo) -> None:
    sender: MessageSender = fake_zalo.client(http)
    assert isinstance(sender, ZaloClient)


# --- token refresh -------------------------------------------------------------------------


async def test_token_rejected_refreshes_and_retries_once(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    store = MemoryTokenStore(fake_zalo.current_pair())
    fake_zalo.revoke_access_token()

    sent = await fake_zalo.client(http, store=store).send_text(USER, "Xin chào")

    assert [r.path for r in fake_zalo.requests] == [MESSAGE_CS_PATH, TOKEN_PATH, MESSAGE_CS_PATH]
    assert fake_zalo.requests[0].headers["access_token"] == "access-0"
    assert fake_zalo.requests[2].headers["access_token"] == "access-1"
    assert fake_zalo.refresh_count == 1
    assert sent.message_id == "fake-msg-1"
    assert store.pair is not None and store.pair.refresh_token == "refresh-1"


@pytest.mark.parametrize("code", [-216, -220, -124])
async def test_each_token_code_triggers_refresh(
    fake_zalo: FakeZalo, http: httpx.AsyncClient, code: int
) -> None:
    fake_zalo.queue_error(MESSAGE_CS_PATH, code)
    await fake_zalo.client(http).send_text(USER, "Xin chào")
    assert fake_zalo.refresh_count == 1


async def test_new_pair_is_saved_before_the_retry_goes_out(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    class SpyStore(MemoryTokenStore):
        def __init__(self, pair: TokenPair) -> None:
            super().__init__(pair)
            self.requests_seen_at_save: list[int] = []

        def save(self, pair: TokenPair) -> None:
            self.requests_seen_at_save.append(len(fake_zalo.requests))
            super().save(pair)

    store = SpyStore(fake_zalo.current_pair())
    fake_zalo.revoke_access_token()

    await fake_zalo.client(http, store=store).send_text(USER, "Xin chào")

    # Saved after the rejected send and the refresh, before the retried send.
    assert store.requests_seen_at_save == [2]
    assert len(fake_zalo.requests) == 3


async def test_failed_save_stops_before_the_retry(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    class BrokenStore(MemoryTokenStore):
        def save(self, pair: TokenPair) -> None:
            raise OSError("database is locked")

    fake_zalo.revoke_access_token()
    client = fake_zalo.client(http, store=BrokenStore(TokenPair("access-0", "refresh-0")))
    with pytest.raises(OSError):
        await client.send_text(USER, "Xin chào")
    assert [r.path for r in fake_zalo.requests] == [MESSAGE_CS_PATH, TOKEN_PATH]


async def test_concurrent_rejections_share_one_refresh(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    client = fake_zalo.client(http)
    fake_zalo.revoke_access_token()

    results = await asyncio.gather(*(client.send_text(f"user-{i}", f"Tin {i}") for i in range(6)))

    assert fake_zalo.refresh_count == 1
    assert len(fake_zalo.requests_to(TOKEN_PATH)) == 1
    # All six first attempts really went out with the stale token, concurrently.
    assert fake_zalo.rejected_tokens == ["access-0"] * 6
    assert sorted(fake_zalo.sent_texts()) == sorted(f"Tin {i}" for i in range(6))
    assert {r.user_id for r in results} == {f"user-{i}" for i in range(6)}


async def test_second_token_error_propagates(fake_zalo: FakeZalo, http: httpx.AsyncClient) -> None:
    fake_zalo.queue_error(MESSAGE_CS_PATH, -216, times=2)

    with pytest.raises(ZaloTokenError) as caught:
        await fake_zalo.client(http).send_text(USER, "Xin chào")

    assert caught.value.code == -216
    assert fake_zalo.refresh_count == 1
    assert [r.path for r in fake_zalo.requests] == [MESSAGE_CS_PATH, TOKEN_PATH, MESSAGE_CS_PATH]


async def test_dead_refresh_token_surfaces_as_auth_error(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    store = MemoryTokenStore(TokenPair("access-0", "refresh-old"))
    fake_zalo.revoke_access_token()
    with pytest.raises(ZaloAuthError) as caught:
        await fake_zalo.client(http, store=store).send_text(USER, "Xin chào")
    assert caught.value.code == -118


# --- transient and permanent errors ---------------------------------------------------------


async def test_5xx_is_retried_with_backoff_then_succeeds(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.fail_next_http(500, times=2)

    sent = await fake_zalo.client(http).send_text(USER, "Xin chào")

    assert sent.message_id == "fake-msg-1"
    assert len(fake_zalo.requests) == 3
    assert fake_zalo.sleeps == [0.5, 1.0]


async def test_timeouts_become_transport_error_after_all_attempts(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    """Reading is safe to repeat: a timeout is retried until the attempts run out."""
    fake_zalo.fail_next_timeout("/v3.0/oa/user/getlist", times=3)

    with pytest.raises(ZaloTransportError) as caught:
        await fake_zalo.client(http).list_followers()

    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert len(fake_zalo.requests) == 3
    assert fake_zalo.sleeps == [0.5, 1.0]


async def test_a_timed_out_send_is_raised_at_once_as_maybe_delivered(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.fail_next_timeout(MESSAGE_CS_PATH)

    with pytest.raises(ZaloTransportError) as caught:
        await fake_zalo.client(http).send_text(USER, "Xin chào")

    assert caught.value.maybe_delivered
    assert len(fake_zalo.requests) == 1
    assert fake_zalo.sent_messages == []


async def test_rate_limit_is_retried(fake_zalo: FakeZalo, http: httpx.AsyncClient) -> None:
    fake_zalo.queue_error(MESSAGE_CS_PATH, -32)
    await fake_zalo.client(http).send_text(USER, "Xin chào")
    assert len(fake_zalo.requests) == 2
    assert fake_zalo.sleeps == [0.5]


async def test_rate_limit_that_persists_is_raised(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.queue_error(MESSAGE_CS_PATH, -32, times=5)
    with pytest.raises(ZaloRateLimited):
        await fake_zalo.client(http, attempts=2).send_text(USER, "Xin chào")
    assert len(fake_zalo.requests) == 2


async def test_permanent_recipient_error_is_not_retried(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.queue_error(MESSAGE_CS_PATH, -230, "User has not interacted with the OA in 7 days")

    with pytest.raises(ZaloRecipientError) as caught:
        await fake_zalo.client(http).send_text(USER, "Xin chào")

    assert caught.value.code == -230
    assert len(fake_zalo.requests) == 1
    assert fake_zalo.sleeps == []


async def test_connection_error_is_wrapped(http: httpx.AsyncClient, fake_zalo: FakeZalo) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def no_sleep(delay: float) -> None:
        return None

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as broken:
        client = ZaloClient(
            broken,
            api_base_url="https://openapi.zalo.test",
            tokens=fake_zalo.token_manager(broken),
            retry=RetryPolicy(sleep=no_sleep),
        )
        with pytest.raises(ZaloTransportError) as caught:
            await client.send_text(USER, "Xin chào")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert not caught.value.maybe_delivered  # no connection: it surely did not arrive


def test_backoff_is_exponential_and_capped() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=8.0)
    assert [policy.delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


# --- tags and followers ------------------------------------------------------------------------


async def test_tag_and_untag(fake_zalo: FakeZalo, http: httpx.AsyncClient) -> None:
    client = fake_zalo.client(http)
    await client.tag_follower(USER, "KP3-Tổ 5")
    assert fake_zalo.tags[USER] == {"KP3-Tổ 5"}
    assert fake_zalo.requests[0].json == {"user_id": USER, "tag_name": "KP3-Tổ 5"}
    assert fake_zalo.requests[0].headers["access_token"] == "access-0"

    await client.remove_from_tag(USER, "KP3-Tổ 5")
    assert fake_zalo.tags[USER] == set()
    assert [r.path for r in fake_zalo.requests] == [
        "/v2.0/oa/tag/tagfollower",
        "/v2.0/oa/tag/rmfollowerfromtag",
    ]


async def test_list_followers_sends_data_json_query(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    fake_zalo.followers = [f"u{i}" for i in range(7)]
    for user in ("u1", "u3", "u5"):
        fake_zalo.tags[user] = {"KP3"}

    page = await fake_zalo.client(http).list_followers(offset=1, count=2, tag_name="KP3")

    request = fake_zalo.requests[0]
    assert (request.method, request.path) == ("GET", "/v3.0/oa/user/getlist")
    assert request.query == {"offset": 1, "count": 2, "tag_name": "KP3"}
    assert request.headers["access_token"] == "access-0"
    assert page.total == 3
    assert page.offset == 1
    assert page.user_ids == ("u3", "u5")


async def test_list_followers_refuses_oversized_pages(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    with pytest.raises(ValueError):
        await fake_zalo.client(http).list_followers(0, 51)


async def test_get_user_detail(fake_zalo: FakeZalo, http: httpx.AsyncClient) -> None:
    fake_zalo.followers = [USER]
    fake_zalo.tags[USER] = {"KP3"}
    fake_zalo.display_names[USER] = "Nguyễn Văn A"

    detail = await fake_zalo.client(http).get_user_detail(USER)

    assert fake_zalo.requests[0].query == {"user_id": USER}
    assert detail.user_id == USER
    assert detail.display_name == "Nguyễn Văn A"
    assert detail.is_follower is True
    assert detail.tag_names == ("KP3",)
    assert detail.last_interaction is not None and detail.last_interaction.isoformat() == (
        "2026-10-30"
    )


async def test_user_detail_tolerates_missing_fields(
    fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    minimal: dict[str, Any] = {
        "error": 0,
        "data": {"user_id": USER, "user_last_interaction_date": "?"},
    }
    fake_zalo.queue_response("/v3.0/oa/user/detail", minimal)
    detail = await fake_zalo.client(http).get_user_detail(USER)
    assert (detail.display_name, detail.is_follower, detail.last_interaction) == ("", None, None)
    assert detail.tag_names == ()
