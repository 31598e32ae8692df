"""Staff accounts, their console sessions and login attempts: tables and small query functions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, func, select

from app.storage.database import Database, as_utc
from app.storage.tables import LoginAttempt, LoginGate, StaffAccount, StaffSession


def save_staff(
    db: Database, username: str, password_hash: str, role: str, ward: str | None = None
) -> StaffAccount:
    """Create the account, or replace the password, role and ward of an existing one."""
    with db.session() as session:
        row = session.exec(select(StaffAccount).where(StaffAccount.username == username)).first()
        if row is None:
            row = StaffAccount(username=username, password_hash=password_hash, role=role, ward=ward)
            session.add(row)
        else:
            row.password_hash, row.role, row.ward, row.active = password_hash, role, ward, True
        session.commit()
        return row


def staff_by_username(db: Database, username: str) -> StaffAccount | None:
    with db.session() as session:
        return session.exec(select(StaffAccount).where(StaffAccount.username == username)).first()


def staff_by_id(db: Database, staff_id: int) -> StaffAccount | None:
    with db.session() as session:
        return session.get(StaffAccount, staff_id)


def list_staff(db: Database, wards: Collection[str | None] | None = None) -> list[StaffAccount]:
    """Every account, or those of the given ward slugs (None in it: accounts without one)."""
    with db.session() as session:
        query = select(StaffAccount).order_by(col(StaffAccount.username))
        if wards is not None:
            slugs = [w for w in wards if w is not None]
            matches: ColumnElement[bool] = col(StaffAccount.ward).in_(slugs)
            if None in wards:
                matches = or_(matches, col(StaffAccount.ward).is_(None))
            query = query.where(matches)
        return list(session.exec(query).all())


def update_password_hash(db: Database, staff_id: int, password_hash: str) -> None:
    with db.session() as session:
        row = session.get(StaffAccount, staff_id)
        if row is not None:
            row.password_hash = password_hash
            session.commit()


def take_login_attempt(
    db: Database, username: str, now: datetime, since: datetime, limit: int
) -> bool:
    """Count one password check for `username`, unless `limit` were counted since `since`:
    False then (locked), and nothing is counted.

    Count and check are one transaction that first writes the username's gate row, so
    concurrent attempts, in any process, take turns: PostgreSQL locks the row until the
    commit, SQLite's write lock the database. Parallel guesses cannot all see the same count.
    """
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    with db.session() as session:
        session.execute(
            insert(LoginGate)
            .values(username=username, touched_at=now)
            .on_conflict_do_update(index_elements=["username"], set_={"touched_at": now})
        )
        counted = session.exec(
            select(func.count())
            .select_from(LoginAttempt)
            .where(LoginAttempt.username == username)
            .where(col(LoginAttempt.at) >= since)
        ).one()
        if counted >= limit:
            session.commit()
            return False
        session.add(LoginAttempt(username=username, at=now))
        session.commit()
        return True


def clear_login_failures(db: Database, username: str) -> None:
    with db.session() as session:
        session.execute(delete(LoginAttempt).where(col(LoginAttempt.username) == username))
        session.commit()


def create_session(
    db: Database, *, token_digest: str, staff_id: int, csrf_token: str, expires_at: datetime
) -> None:
    with db.session() as session:
        session.add(
            StaffSession(
                token_digest=token_digest,
                staff_id=staff_id,
                csrf_token=csrf_token,
                expires_at=expires_at,
            )
        )
        session.commit()


def live_session(
    db: Database, token_digest: str, now: datetime
) -> tuple[StaffSession, StaffAccount] | None:
    """The session and its account, if the session exists, has not expired and the account is
    active."""
    with db.session() as session:
        row = session.get(StaffSession, token_digest)
        if row is None:
            return None
        expires = as_utc(row.expires_at)
        if expires is None or expires <= now:
            session.delete(row)
            session.commit()
            return None
        account = session.get(StaffAccount, row.staff_id)
        if account is None or not account.active:
            return None
        return row, account


def delete_session(db: Database, token_digest: str) -> None:
    with db.session() as session:
        session.execute(delete(StaffSession).where(col(StaffSession.token_digest) == token_digest))
        session.commit()


def set_active(db: Database, username: str, active: bool) -> bool:
    """Enable or disable an account; disabling also ends its sessions. False if unknown."""
    with db.session() as session:
        row = session.exec(select(StaffAccount).where(StaffAccount.username == username)).first()
        if row is None:
            return False
        row.active = active
        if not active:
            session.execute(delete(StaffSession).where(col(StaffSession.staff_id) == row.id))
        session.commit()
        return True
