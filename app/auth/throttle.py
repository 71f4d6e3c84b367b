"""Failed sign-ins, counted per account name and per client address in the database, so that
every process refuses the same attempts.

An attempt is counted as a failure *before* its password is checked and forgiven when the
password was right: however many attempts arrive at once, no more than the free ones get past
the count. Past `free_failures` each further attempt must wait, twice as long after each
failure; at `lock_failures` the name (or address) is locked for `lock_for`. Failures are
forgotten after `lock_for` without one. Refused attempts are not counted.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.models import SignInThrottle
from app.settings import Settings

ACCOUNT = "account"
ADDRESS = "address"
KEY_LENGTH = 255
CLEANUP_BATCH = 200


@dataclass(frozen=True)
class Policy:
    free_failures: int
    lock_failures: int
    first_delay: dt.timedelta
    lock_for: dt.timedelta

    def blocked_until(self, failures: int, now: dt.datetime) -> dt.datetime | None:
        if failures >= self.lock_failures:
            return now + self.lock_for
        if failures >= self.free_failures:
            doublings: int = 2 ** (failures - self.free_failures)  # never a negative power
            return now + min(self.first_delay * doublings, self.lock_for)
        return None


@dataclass(frozen=True)
class Policies:
    account: Policy
    address: Policy

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        delay = dt.timedelta(seconds=settings.sign_in_first_delay_seconds)
        lock = dt.timedelta(minutes=settings.sign_in_lock_minutes)
        return cls(Policy(settings.sign_in_free_failures, settings.sign_in_lock_failures,
                          delay, lock),
                   Policy(settings.sign_in_address_free_failures,
                          settings.sign_in_address_lock_failures, delay, lock))

    def of(self, scope: str) -> Policy:
        return self.account if scope == ACCOUNT else self.address


@dataclass(frozen=True)
class Refused:
    """The attempt was not made: wait `retry_after` seconds (the name or address is held)."""

    scope: str
    retry_after: int
    locked: bool


def _keys(name: str, address: str) -> list[tuple[str, str]]:
    # Always in this order (account, then address): concurrent attempts lock rows in the
    # same order, so they wait for each other but never deadlock.
    return [(ACCOUNT, name[:KEY_LENGTH]), (ADDRESS, address[:KEY_LENGTH])]


def _locked_row(session: Session, scope: str, key: str, now: dt.datetime) -> SignInThrottle:
    """The row of (scope, key), created if missing, locked until the transaction ends."""
    dialect = session.get_bind().dialect.name
    values = {"scope": scope, "key": key, "failures": 0, "last_failure_at": now,
              "blocked_until": None}
    if dialect == "postgresql":
        session.execute(postgresql.insert(SignInThrottle).values(values)
                        .on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(SignInThrottle).values(values).on_conflict_do_nothing())
    else:  # pragma: no cover - the service runs on SQLite and PostgreSQL only
        raise RuntimeError(f"no sign-in throttle for {dialect}")
    row = session.get(SignInThrottle, (scope, key), with_for_update=True,
                      populate_existing=True)
    assert row is not None  # inserted above, or there already
    return row


def begin_attempt(session: Session, policies: Policies, name: str, address: str,
                  now: dt.datetime) -> Refused | None:
    """Count an attempt by `name` from `address` as failed, or refuse it while either is held.

    Commit the transaction before checking the password, then call `forgive` if it was right.
    """
    rows = [_locked_row(session, scope, key, now) for scope, key in _keys(name, address)]
    for row in rows:
        policy = policies.of(row.scope)
        held = row.blocked_until is not None and row.blocked_until > now
        if not held and now - row.last_failure_at >= policy.lock_for:
            row.failures = 0
            row.blocked_until = None
    held_rows = [row for row in rows if row.blocked_until is not None and row.blocked_until > now]
    if held_rows:
        longest = max(held_rows, key=lambda row: row.blocked_until or now)
        until = longest.blocked_until or now
        locked = longest.failures >= policies.of(longest.scope).lock_failures
        return Refused(longest.scope, max(1, math.ceil((until - now).total_seconds())), locked)
    for row in rows:
        row.failures += 1
        row.last_failure_at = now
        row.blocked_until = policies.of(row.scope).blocked_until(row.failures, now)
    return None


def forgive(session: Session, policies: Policies, name: str, address: str) -> None:
    """The attempt signed in: forget the account's failures and take back the address's count
    of this attempt (its other failures stand)."""
    (account_key, address_key) = (key for _scope, key in _keys(name, address))
    session.execute(delete(SignInThrottle).where(SignInThrottle.scope == ACCOUNT,
                                                 SignInThrottle.key == account_key))
    row = session.get(SignInThrottle, (ADDRESS, address_key), with_for_update=True,
                      populate_existing=True)
    if row is not None and row.failures > 0:
        row.failures -= 1
        if row.failures < policies.address.free_failures:
            row.blocked_until = None


def failures(session: Session, scope: str, key: str) -> int:
    row = session.get(SignInThrottle, (scope, key[:KEY_LENGTH]))
    return row.failures if row is not None else 0


def forget_stale(session: Session, policies: Policies, now: dt.datetime) -> int:
    """Delete rows whose failures are forgotten anyway (names sprayed at the form leave one
    each). Skips rows other attempts hold, so it never waits for them."""
    horizon = now - max(policies.account.lock_for, policies.address.lock_for)
    stale = session.execute(
        select(SignInThrottle.scope, SignInThrottle.key)
        .where(SignInThrottle.last_failure_at < horizon,
               or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until < now))
        .limit(CLEANUP_BATCH).with_for_update(skip_locked=True)).all()
    if not stale:
        return 0
    session.execute(delete(SignInThrottle).where(
        tuple_(SignInThrottle.scope, SignInThrottle.key).in_([tuple(row) for row in stale])))
    return len(stale)
