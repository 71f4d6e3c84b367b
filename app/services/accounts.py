"""Accounts: API tokens, people who sign in, and their sign-in sessions.

The CLI and the sign-in pages write through these use cases, each in one unit of work, rather
than through `app.auth` directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import audit, policy, throttle, tokens, users
from app.auth.principal import ROLES, Principal
from app.db.models import AppUser, LoginSession
from app.services import agencies
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound

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


# ---- people and their roles (the administrator's pages) ----------------------------------

PEOPLE_PATH = "/ui/admin/people"


@dataclass(frozen=True)
class Person:
    """A person who signs in, as the administrator's pages show them (never the hash)."""

    id: int
    name: str
    roles: tuple[str, ...]
    agency: str | None
    active: bool
    created_at: dt.datetime


def _person(user: AppUser) -> Person:
    return Person(user.id, user.name, tuple(sorted(user.roles or [])), user.agency,
                  bool(user.active), user.created_at)


def _invalid(errors: list[dict[str, str]]) -> Invalid:
    """Every problem of a form at once, in the page's order (the first one as the message)."""
    return Invalid(errors[0]["message"], field=errors[0]["field"], errors=errors)


def _role_errors(ctx: ServiceContext, roles: list[str], agency: str | None
                 ) -> list[dict[str, str]]:
    """What is wrong with roles and an agency as a page sends them, in words."""
    errors: list[dict[str, str]] = []
    if set(roles) - set(ROLES):
        errors.append({"field": "roles", "message": "Select roles from the list"})
    elif not roles:
        errors.append({"field": "roles", "message": "Select at least one role"})
    if agency:
        if agencies.register(ctx).unknown([agency]):
            errors.append({"field": "agency",
                           "message": "Select an agency from the Board's register"})
    elif "agency_lead" in roles:
        errors.append({"field": "agency",
                       "message": "Select the agency this agency lead works for"})
    return errors


def _name_taken(name: str) -> dict[str, str]:
    return {"field": "name", "message": f"Someone is already called {name}: choose another "
                                        "user name"}


def _record(session: Session, at: dt.datetime, principal: Principal, action: str,
            status: int, person: str, detail: dict[str, object]) -> None:
    audit.record(session, at, principal, action, "POST", PEOPLE_PATH, status,
                 target_type="account", target_id=person, detail=detail)


def _user_row(session: Session, user_id: int) -> AppUser:
    user = session.get(AppUser, user_id)
    if user is None:
        raise NotFound(f"no person with id {user_id}", user_id=user_id)
    return user


def list_people(ctx: ServiceContext, principal: Principal) -> list[Person]:
    """Everyone who signs in, active ones first, by name."""
    policy.require(principal, "manage_people")
    with ctx.uow(read_only=True) as uow:
        rows = uow.session.scalars(select(AppUser).order_by(AppUser.name))
        people = [_person(row) for row in rows]
    return sorted(people, key=lambda person: (not person.active, person.name.lower()))


def get_person(ctx: ServiceContext, principal: Principal, user_id: int) -> Person:
    policy.require(principal, "manage_people")
    with ctx.uow(read_only=True) as uow:
        return _person(_user_row(uow.session, user_id))


def add_person(ctx: ServiceContext, principal: Principal, name: str, password: str,
               roles: list[str], agency: str | None) -> Person:
    """Add a person who signs in with a first password the administrator gives them.
    Refusals are `Invalid` naming the field, in words a page can show."""
    policy.require(principal, "manage_people")
    name = name.strip()
    errors: list[dict[str, str]] = []
    if not name:
        errors.append({"field": "name", "message": "Enter the person's user name"})
    elif len(name) > 200:
        errors.append({"field": "name",
                       "message": "Enter a user name of 200 characters or fewer"})
    if len(password) < users.MIN_PASSWORD:
        errors.append({"field": "password", "message": "Enter a first password of at least "
                                                       f"{users.MIN_PASSWORD} characters"})
    errors += _role_errors(ctx, roles, agency)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if name and uow.session.scalars(select(AppUser.id).where(AppUser.name == name)).first():
            errors.insert(0, _name_taken(name))
        if errors:
            raise _invalid(errors)
        checked = sorted(set(roles))
        user = users.create(uow.session, name, password, checked, agency or None, now)
        uow.session.flush()
        _record(uow.session, now, principal, "person_added", 201, name,
                {"roles": checked, "agency": agency or None})
        try:
            uow.commit()
        except IntegrityError:  # added by someone else meanwhile
            raise _invalid([_name_taken(name)]) from None
        return _person(user)


def change_person(ctx: ServiceContext, principal: Principal, user_id: int, roles: list[str],
                  agency: str | None) -> Person:
    """Change a person's roles and agency; their open sessions take the change at once."""
    policy.require(principal, "manage_people")
    errors = _role_errors(ctx, roles, agency)
    if errors:
        raise _invalid(errors)
    checked = sorted(set(roles))
    now = ctx.clock.now()
    with ctx.uow() as uow:
        user = _user_row(uow.session, user_id)
        if user.name == principal.name and "admin" not in checked:
            raise _invalid([{"field": "roles", "message": "Keep the admin role: you cannot "
                                                          "take it from yourself"}])
        before = {"roles": sorted(user.roles or []), "agency": user.agency}
        user.roles, user.agency = checked, agency or None
        _record(uow.session, now, principal, "person_changed", 200, user.name,
                {"before": before, "after": {"roles": checked, "agency": agency or None}})
        uow.commit()
        return _person(user)


def set_person_active(ctx: ServiceContext, principal: Principal, user_id: int,
                      active: bool) -> Person:
    """Deactivate a person (their sessions end: they can no longer sign in) or reactivate."""
    policy.require(principal, "manage_people")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        user = _user_row(uow.session, user_id)
        if not active and user.name == principal.name:
            raise Conflict("You cannot deactivate yourself: ask another administrator")
        user.active = active
        if not active:
            uow.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
        _record(uow.session, now, principal,
                "person_reactivated" if active else "person_deactivated", 200, user.name, {})
        uow.commit()
        return _person(user)


def holders_of(ctx: ServiceContext, principal: Principal, role: str,
               agency: str | None = None) -> list[str]:
    """The names of the active people holding `role` (and, for an agency's task, working for
    `agency`): whom a board manager can give a task to."""
    policy.require(principal, "assign")
    with ctx.uow(read_only=True) as uow:
        rows = uow.session.scalars(select(AppUser).where(AppUser.active.is_(True))
                                   .order_by(AppUser.name))
        return [row.name for row in rows if role in (row.roles or [])
                and (agency is None or row.agency == agency)]
