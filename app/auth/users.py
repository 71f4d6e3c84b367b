"""People who log in: create users, check passwords, open and close sessions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.auth.principal import Principal, check_roles
from app.auth.secrets import (
    dummy_hash,
    fingerprint,
    hash_secret,
    new_csrf_token,
    new_session_id,
    verify_secret,
)
from app.db.models import AppUser, LoginSession

SESSION_LIFETIME = dt.timedelta(hours=8)
MIN_PASSWORD = 12
LAST_SEEN_STEP = dt.timedelta(minutes=1)
"""How stale a session's `last_seen_at` may get before a page request writes it again."""


def check_new_password(password: str) -> None:
    """Refuse a password too short to resist guessing (wherever a password is set)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")


def create(session: Session, name: str, password: str, roles: list[str], agency: str | None,
           now: dt.datetime) -> AppUser:
    if not name.strip():
        raise ValueError("a user needs a name")
    check_new_password(password)
    if session.scalars(select(AppUser).where(AppUser.name == name.strip())).first():
        raise ValueError(f"a user called '{name}' exists already")
    user = AppUser(name=name.strip(), password_hash=hash_secret(password),
                   roles=check_roles(roles, agency), agency=agency, active=True, created_at=now)
    session.add(user)
    return user


def principal_of(user: AppUser) -> Principal:
    return Principal(user.name, frozenset(user.roles), user.agency, "session")


def check_password(session: Session, name: str, password: str) -> AppUser | None:
    user = session.scalars(select(AppUser).where(AppUser.name == name)).first()
    if user is None or not user.active:
        verify_secret(dummy_hash(), password)  # spend the same time as a real check
        return None
    return user if verify_secret(user.password_hash, password) else None


def open_session(session: Session, user: AppUser, now: dt.datetime,
                 user_agent: str | None = None,
                 client_address: str | None = None) -> tuple[str, str]:
    """Return (session id for the cookie, CSRF token); only a digest of the id is stored."""
    session_id = new_session_id()
    csrf = new_csrf_token()
    session.add(LoginSession(lookup=fingerprint(session_id), user_id=user.id, csrf_token=csrf,
                             created_at=now, expires_at=now + SESSION_LIFETIME,
                             last_seen_at=now, user_agent=_clip(user_agent, 300),
                             client_address=_clip(client_address, 100)))
    return session_id, csrf


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def find_session(session: Session, session_id: str,
                 now: dt.datetime) -> tuple[AppUser, LoginSession] | None:
    row = session.scalars(select(LoginSession).where(
        LoginSession.lookup == fingerprint(session_id))).first()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(AppUser, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def close_session(session: Session, session_id: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.lookup == fingerprint(session_id)))


def sessions_of(session: Session, user_id: int, now: dt.datetime) -> list[LoginSession]:
    """A person's live sessions, the newest first."""
    return list(session.scalars(select(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.expires_at > now)
        .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())))


def end_session(session: Session, user_id: int, row_id: int) -> bool:
    """End one of the person's own sessions; False when they have none with this id."""
    result = session.execute(delete(LoginSession).where(
        LoginSession.id == row_id, LoginSession.user_id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def seen_statement(row_id: int, now: dt.datetime) -> Any:
    """The UPDATE that records a session's use (run it on its own, see `LAST_SEEN_STEP`)."""
    return update(LoginSession).where(LoginSession.id == row_id).values(last_seen_at=now)
