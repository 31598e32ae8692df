"""The exception tree of wardbot.

WardbotError
├── CatalogueError          procedures.yaml or intents/ is unreadable or invalid
├── CatalogueConflict       a catalogue save whose base version is no longer the current one
└── ZaloError               anything that went wrong talking to Zalo
    ├── ZaloTransportError  network failure, timeout or HTTP 5xx: transient
    ├── ZaloRateLimited     error -32: transient, back off
    ├── ZaloTokenError      -216 / -220 / -124: the access token must be refreshed
    ├── ZaloAuthError       OAuth refused to refresh (e.g. -118): a human must re-consent
    ├── ZaloRecipientError  the user cannot receive it (-213, -227, -230, -232, -244)
    └── ZaloRequestError    any other error code: our request or the account is wrong
"""

from __future__ import annotations

from dataclasses import dataclass, field


class WardbotError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One precise problem in a content file, as an admin needs to see it."""

    path: str
    line: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return (
            f"{where}: {self.location}: {self.message}"
            if self.location
            else f"{where}: {self.message}"
        )


@dataclass
class CatalogueError(WardbotError):
    """The catalogue or the intents could not be loaded; `problems` lists every issue found."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{len(self.problems)} problem(s) in the catalogue:"]
        lines.extend(f"  {p}" for p in self.problems)
        return "\n".join(lines)


class CatalogueConflict(WardbotError):
    """Someone saved the catalogue since the version an edit started from: reload and retry."""

    def __init__(self, base: int | None, current: int | None) -> None:
        super().__init__(f"the catalogue is now at version {current}, the edit started from {base}")
        self.base = base
        self.current = current


class ZaloError(WardbotError):
    """Base class of errors talking to Zalo. `code` is Zalo's `error` value when there is one."""

    transient: bool = False

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code

    @property
    def reason(self) -> str:
        """A short machine-readable reason stored with a failed delivery."""
        return f"zalo:{self.code}" if self.code is not None else type(self).__name__


class ZaloTransportError(ZaloError):
    """`maybe_delivered`: the request may have reached Zalo and been accepted (the answer was
    lost: a read timeout, a dropped connection). Sending again could send it twice, so the
    outbox looks for Zalo's echo first. False when it surely did not (no connection was made,
    or Zalo answered HTTP 5xx)."""

    transient = True

    def __init__(
        self, message: str, code: int | None = None, *, maybe_delivered: bool = False
    ) -> None:
        super().__init__(message, code)
        self.maybe_delivered = maybe_delivered


class ZaloRateLimited(ZaloError):
    transient = True


class ZaloTokenError(ZaloError):
    pass


class ZaloAuthError(ZaloError):
    pass


class ZaloRecipientError(ZaloError):
    pass


class ZaloRequestError(ZaloError):
    pass


def connection_down(exc: ZaloError) -> bool:
    """True when the message itself was fine and may go out later: Zalo was unreachable, rate
    limited us past our retries, or refused our token (until an admin reconnects the OA)."""
    return exc.transient or isinstance(exc, ZaloTokenError | ZaloAuthError)
