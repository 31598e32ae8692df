"""One token pair per Official Account: every OA's calls go out with its own token.

A province's deployment serves many OAs through one Zalo app; each OA has its own token pair
from its own consent (reference §6). `OaTokens` keeps one `TokenManager` per OA, built on
first use (its store is keyed by the OA id, so refreshes stay single-flight per OA across
processes); `OaClients` keeps one client per OA over them. One OA's failed refresh leaves
every other OA's manager, and so its sends, untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from app.zalo.tokens import TokenManager

C = TypeVar("C")


class OaTokens:
    """`for_oa(oa_id)`: the OA's token manager. `key_of` maps an OA id to the key its pair is
    stored under (the OA id itself, except for today's single OA without ZALO_OA_ID)."""

    def __init__(
        self,
        make: Callable[[str], TokenManager],
        *,
        key_of: Callable[[str], str] = lambda oa_id: oa_id,
    ) -> None:
        self._make = make
        self._key_of = key_of
        self._managers: dict[str, TokenManager] = {}
        self._lock = threading.Lock()

    def key_of(self, oa_id: str) -> str:
        return self._key_of(oa_id)

    def for_oa(self, oa_id: str) -> TokenManager:
        return self.for_key(self._key_of(oa_id))

    def for_key(self, key: str) -> TokenManager:
        with self._lock:
            manager = self._managers.get(key)
            if manager is None:
                manager = self._managers[key] = self._make(key)
            return manager

    def known(self) -> dict[str, TokenManager]:
        """The managers built so far, by key."""
        with self._lock:
            return dict(self._managers)


class OaClients(Generic[C]):
    """One client per OA (`make(manager)`), sharing `tokens`' managers."""

    def __init__(self, tokens: OaTokens, make: Callable[[TokenManager], C]) -> None:
        self.tokens = tokens
        self._make = make
        self._clients: dict[str, C] = {}
        self._lock = threading.Lock()

    def __call__(self, oa_id: str) -> C:
        key = self.tokens.key_of(oa_id)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._make(self.tokens.for_key(key))
            return client
