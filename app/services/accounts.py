"""Accounts: API tokens, people who sign in, and their sign-in sessions.

The CLI and the sign-in pages write through these use cases, each in one unit of work, rather
than through `app.auth` directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth import audit, throttle, tokens, users
from app.auth.principal import Principal
from app.db.models import LoginSession
from app.services import agencies
from app.services.context import ServiceContext

SESSION_LIFETIME = users.SESSION_LIFETIME


def create_token(ctx: ServiceContext, name: str, roles: list[str], agency: str | None,
                 expires_days: int | None = None) -> str:
    """Create an API token and return it: it is stored only as a digest."""
    agencies.check_for_account(ctx.settings.agencies_file, agency)
    now = ctx.clock.now()
    expires = now + dt.timedelta(days=expires_days) if expires_days else None
    with ctx.uow() as uow:
        token = tokens.create(uow.session, name, roles, agency, now, expires)
        uow.commit()
    return token


def revoke_tokens(ctx: ServiceContext, name: str) -> int:
    """Revoke every live token with this name; return how many."""
    with ctx.uow() as uow:
        count = tokens.revoke(uow.session, name, ctx.clock.now())
        uow.commit()
    return count


def create_user(ctx: ServiceContext, name: str, password: str, roles: list[str],
                agency: str | None) -> None:
    """Create a person who signs in to the inbox (ValueError names what is wrong)."""
    agencies.check_for_account(ctx.settings.agencies_file, agency)
    with ctx.uow() as uow:
        users.create(uow.session, name, password, roles, agency, ctx.clock.now())
        uow.commit()


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: a session id for the cookie, a refusal, or neither
    (a wrong name or password)."""

    session_id: str | None = None
    refused: throttle.Refused | None = None


def token_caller(ctx: ServiceContext, token: str) -> Principal | None:
    """Who holds this API token; None when it is unknown, expired or revoked. One read, in no
    transaction (a secret not yet checked needs argon2 first, tens of milliseconds)."""
    with ctx.lone_statement() as connection:
        return ctx.tokens.authenticate(connection, token, ctx.clock.now())


def _audit_failure(db: Session, at: dt.datetime, name: str, address: str, status: int,
                   reason: str) -> None:
    audit.record(db, at, None, "sign_in_failed", "POST", "/ui/login", status,
                 target_type="account", target_id=name or None,
                 detail={"name_tried": name, "client_address": address, "reason": reason})


def sign_in(ctx: ServiceContext, name: str, password: str, address: str, agent: str) -> SignIn:
    """Check a name and password under the throttle (see `app.auth.throttle`); open a session
    when they are right. Failures and refusals are audited."""
    policies = throttle.Policies.from_settings(ctx.settings)
    now = ctx.clock.now()
    # The attempt is counted as failed before the password is checked, so that attempts
    # sent at once cannot all pass the count (see app.auth.throttle).
    with ctx.uow() as uow:
        refused = throttle.begin_attempt(uow.session, policies, name, address, now)
        if refused is not None:
            _audit_failure(uow.session, now, name, address, 429,
                           "locked" if refused.locked else "throttled")
        uow.commit()
    if refused is not None:
        return SignIn(refused=refused)
    # argon2 takes a good part of a second: the check only reads, so that on SQLite it
    # holds no lock meanwhile. Unknown names are checked against a dummy hash.
    with ctx.uow(read_only=True) as uow:
        user = users.check_password(uow.session, name, password)
    with ctx.uow() as uow:
        if user is None:
            _audit_failure(uow.session, now, name, address, 401, "wrong name or password")
            throttle.forget_stale(uow.session, policies, now)
            uow.commit()
            return SignIn()
        throttle.forgive(uow.session, policies, name, address)
        session_id, _csrf = users.open_session(uow.session, user, now, agent, address)
        uow.commit()
        return SignIn(session_id=session_id)


def sign_out(ctx: ServiceContext, session_id: str) -> None:
    """End the session whose cookie holds this id (nothing when there is none)."""
    with ctx.uow() as uow:
        users.close_session(uow.session, session_id)
        uow.commit()


@dataclass(frozen=True)
class SessionUser:
    principal: Principal
    csrf_token: str
    user_id: int
    session_id: int
    """The row id of this login session (not the cookie's secret)."""


def session_user(ctx: ServiceContext, session_id: str) -> SessionUser | None:
    """Who is signed in with this cookie's session id; None when it is unknown or expired."""
    with ctx.uow(read_only=True) as uow:
        found = users.find_session(uow.session, session_id, ctx.clock.now())
        if found is None:
            return None
        user, row = found
    now = ctx.clock.now()
    if row.last_seen_at is None or now - row.last_seen_at >= users.LAST_SEEN_STEP:
        # A short write of its own, outside the read-only unit above.
        with ctx.lone_statement() as connection:
            connection.execute(users.seen_statement(row.id, now))
            connection.commit()
    return SessionUser(users.principal_of(user), row.csrf_token, user.id, row.id)


def live_sessions(ctx: ServiceContext, user_id: int) -> list[LoginSession]:
    """A person's live sessions, the newest first."""
    with ctx.uow(read_only=True) as uow:
        return users.sessions_of(uow.session, user_id, ctx.clock.now())


def end_sessions(ctx: ServiceContext, user_id: int, row_ids: list[int]) -> int:
    """End those of the person's own sessions; return how many there were."""
    with ctx.uow() as uow:
        ended = sum(users.end_session(uow.session, user_id, row_id) for row_id in row_ids)
        uow.commit()
    return ended
