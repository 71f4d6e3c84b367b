"""API tokens: create (printed once), authenticate, revoke."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal, check_roles
from app.auth.secrets import fingerprint, hash_secret, new_token, split_token, verify_secret
from app.db.models import ApiToken


def create(session: Session, name: str, roles: list[str], agency: str | None,
           now: dt.datetime, expires_at: dt.datetime | None = None) -> str:
    """Store a new token and return it; it cannot be shown again."""
    if not name.strip():
        raise ValueError("a token needs a name")
    token, lookup, secret = new_token()
    session.add(ApiToken(name=name.strip(), lookup=lookup, secret_hash=hash_secret(secret),
                         roles=check_roles(roles, agency), agency=agency, created_at=now,
                         expires_at=expires_at, revoked_at=None))
    return token


def revoke(session: Session, name: str, now: dt.datetime) -> int:
    rows = list(session.scalars(select(ApiToken).where(ApiToken.name == name,
                                                       ApiToken.revoked_at.is_(None))))
    for row in rows:
        row.revoked_at = now
    return len(rows)


_BY_LOOKUP = select(
    ApiToken.id, ApiToken.name, ApiToken.secret_hash, ApiToken.roles, ApiToken.agency,
    ApiToken.expires_at, ApiToken.revoked_at).where(ApiToken.lookup == bindparam("lookup"))
"""Every API request runs it: built once, its compilation cached by SQLAlchemy."""


class TokenVerifier:
    """Checks bearer tokens. argon2 is slow by design, so a secret already verified against a
    token's hash is remembered (by its SHA-256) and not verified again; the token's row is still
    read on every request, so expiry and revocation take effect at once."""

    def __init__(self) -> None:
        self._verified: dict[tuple[str, str], tuple[int, bool]] = {}
        """(lookup, SHA-256 of the secret) -> (the token row's id, whether the secret matched)."""
        self._lock = threading.Lock()

    def remembers(self, token: str) -> bool:
        """Whether this token's secret was checked already (so `authenticate` will be quick)."""
        parts = split_token(token)
        if parts is None:
            return True  # refused without any hashing
        with self._lock:
            return (parts[0], fingerprint(parts[1])) in self._verified

    def authenticate(self, db: Connection, token: str, now: dt.datetime) -> Principal | None:
        parts = split_token(token)
        if parts is None:
            return None
        lookup, secret = parts
        row = db.execute(_BY_LOOKUP, {"lookup": lookup}).first()
        if row is None:
            return None
        row_id, name, secret_hash, roles, agency, expires_at, revoked_at = row
        if revoked_at is not None or (expires_at is not None and expires_at <= now):
            return None
        key = (lookup, fingerprint(secret))
        with self._lock:
            remembered = self._verified.get(key)
        if remembered is not None and remembered[0] == row_id:
            known = remembered[1]
        else:
            known = verify_secret(secret_hash, secret)
            with self._lock:
                if len(self._verified) > 10_000:
                    self._verified.clear()
                self._verified[key] = (row_id, known)
        if not known:
            return None
        return Principal(name, frozenset(roles), agency, "token")
