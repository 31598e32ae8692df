"""The outgoing Zalo OA client: messages, tokens, error mapping."""

from app.zalo.client import (
    BUTTON_TITLE_MAX,
    BUTTONS_TEMPLATE_TYPE,
    FollowerPage,
    RetryPolicy,
    UserDetail,
    ZaloClient,
)
from app.zalo.errors import check_response
from app.zalo.sender import MessageSender, RecordingSender, SentMessage
from app.zalo.split import TEXT_LIMIT, split_text
from app.zalo.tokens import (
    MemoryTokenStore,
    OAuthClient,
    TokenManager,
    TokenPair,
    TokenStore,
    consent_url,
    new_pkce_pair,
)

__all__ = [
    "BUTTONS_TEMPLATE_TYPE",
    "BUTTON_TITLE_MAX",
    "TEXT_LIMIT",
    "FollowerPage",
    "MemoryTokenStore",
    "MessageSender",
    "OAuthClient",
    "RecordingSender",
    "RetryPolicy",
    "SentMessage",
    "TokenManager",
    "TokenPair",
    "TokenStore",
    "UserDetail",
    "ZaloClient",
    "check_response",
    "consent_url",
    "new_pkce_pair",
    "split_text",
]
