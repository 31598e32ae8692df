"""Staff accounts: password hashing (argon2), login with lockout, and console sessions.

Framework-free: the console routes (app.web.console) and `wardbot staff add` call these.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.storage.database import Database
from app.storage.staff import (
    clear_login_failures,
    create_session,
    delete_session,
    live_session,
    save_staff,
    staff_by_username,
    take_login_attempt,
    update_password_hash,
)
from app.storage.tables import StaffAccount

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class Role(StrEnum):
    admin = "admin"
    """Catalogue, unanswered questions, staff accounts, and everything staff do."""
    staff = "staff"
    """Announcements, residential groups, reports."""
    province = "province"
    """A province admin: every ward (read and act), the province dashboard and the ward
    list; belongs to no ward."""


class AccountInvalid(ValueError):
    """A username or password that `wardbot staff add` refuses; the message is for the admin."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: Role
    ward: str | None = None
    """The ward's slug; None for a province admin (and for a one-ward deployment's accounts
    made before wards existed)."""

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.admin, Role.province)

    @property
    def is_province(self) -> bool:
        return self.role is Role.province


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    locked: bool = False


@dataclass(frozen=True)
class ConsoleSession:
    user: StaffUser
    csrf_token: str


def _user(account: StaffAccount) -> StaffUser:
    assert account.id is not None
    return StaffUser(account.id, account.username, Role(account.role), account.ward)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_staff(
    db: Database, username: str, password: str, role: Role, ward: str | None = None
) -> StaffUser:
    """Create an account (or reset its password, role and ward). A province admin has no
    ward; a ward's account names its ward's slug (None only in a one-ward deployment)."""
    if role is Role.province and ward is not None:
        raise AccountInvalid("ward: a province admin belongs to no ward")
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountInvalid(
            "username: 2-40 characters, lower-case letters, digits, dot, dash or underscore"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountInvalid(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    return _user(save_staff(db, username, _hasher.hash(password), role.value, ward))


def authenticate(db: Database, username: str, password: str, now: datetime) -> LoginResult:
    """Check a login. After MAX_FAILURES failures in LOCKOUT_WINDOW the username is locked,
    even for the right password, until the window has passed.

    The attempt is counted, and the limit checked, in one database transaction before the
    password is hashed: guesses sent in parallel (or to several processes) get MAX_FAILURES
    checks between them, not one each. A successful login clears the count."""
    username = username.strip().lower()
    if not take_login_attempt(db, username, now, now - LOCKOUT_WINDOW, MAX_FAILURES):
        log.warning("console login refused: locked", extra={"username": username})
        return LoginResult(None, locked=True)
    account = staff_by_username(db, username)
    ok = False
    try:
        ok = _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or not account.active:
        # The attempt counted above stays: it is this failure.
        log.info("console login failed", extra={"username": username})
        return LoginResult(None)
    if _hasher.check_needs_rehash(account.password_hash) and account.id is not None:
        update_password_hash(db, account.id, _hasher.hash(password))
    clear_login_failures(db, username)
    log.info("console login", extra={"username": username})
    return LoginResult(_user(account))


def open_session(db: Database, user: StaffUser, now: datetime) -> tuple[str, ConsoleSession]:
    """A new session: the token for the cookie (never stored) and the session itself."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    create_session(
        db,
        token_digest=digest(token),
        staff_id=user.id,
        csrf_token=csrf,
        expires_at=now + SESSION_LIFETIME,
    )
    return token, ConsoleSession(user, csrf)


def find_session(db: Database, token: str, now: datetime) -> ConsoleSession | None:
    found = live_session(db, digest(token), now)
    if found is None:
        return None
    session, account = found
    return ConsoleSession(_user(account), session.csrf_token)


def close_session(db: Database, token: str) -> None:
    delete_session(db, digest(token))


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
