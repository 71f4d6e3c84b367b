"""People who log in: create users, check passwords, open and close sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal, check_roles
from app.auth.secrets import (
    fingerprint,
    hash_secret,
    new_csrf_token,
    new_session_id,
    verify_secret,
)
from app.db.models import AppUser, LoginSession

SESSION_LIFETIME = dt.timedelta(hours=8)
MIN_PASSWORD = 10


def create(session: Session, name: str, password: str, roles: list[str], agency: str | None,
           now: dt.datetime) -> AppUser:
    if not name.strip():
        raise ValueError("a user needs a name")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
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
        verify_secret(hash_secret("timing"), password)  # spend the same time as a real check
        return None
    return user if verify_secret(user.password_hash, password) else None


def open_session(session: Session, user: AppUser, now: dt.datetime) -> tuple[str, str]:
    """Return (session id for the cookie, CSRF token); only a digest of the id is stored."""
    session_id = new_session_id()
    csrf = new_csrf_token()
    session.add(LoginSession(lookup=fingerprint(session_id), user_id=user.id, csrf_token=csrf,
                             created_at=now, expires_at=now + SESSION_LIFETIME))
    return session_id, csrf


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
