"""Hashing of passwords and tokens with argon2; random tokens and session ids."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
TOKEN_PREFIX = "rf"


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


_dummy: tuple[PasswordHasher, str] | None = None


def dummy_hash() -> str:
    """A hash of a random secret, made with the current parameters: checking a password of an
    unknown name against it takes as long as checking a real one."""
    global _dummy
    if _dummy is None or _dummy[0] is not _HASHER:
        _dummy = (_HASHER, _HASHER.hash(secrets.token_urlsafe(24)))
    return _dummy[1]


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return _HASHER.verify(secret_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError, UnicodeError):
        return False


def new_token() -> tuple[str, str, str]:
    """A bearer token `rf_<lookup>_<secret>`; returns (token, lookup, secret)."""
    lookup = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}_{lookup}_{secret}", lookup, secret


def split_token(token: str) -> tuple[str, str] | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1], parts[2]


def fingerprint(secret: str) -> str:
    """A fast digest, used only as a cache key for secrets already verified with argon2."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)
