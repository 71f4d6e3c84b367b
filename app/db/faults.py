"""Tell a database that is unavailable (a 503) from one that refused a request (409, 500)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

CONTENTION_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
"""PostgreSQL: serialization failure, deadlock detected, lock not available."""


def is_contention(exc: BaseException) -> bool:
    """Another transaction holds what this one needed (SQLite: "database is locked")."""
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in CONTENTION_SQLSTATES
    return "locked" in str(exc.orig).lower()


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or did not answer in time: refused or lost
    connections, connect and statement timeouts, a full pool, a connection the pool had to
    drop. A constraint or a bad value is not one (the caller's request or a bug)."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError) and not is_contention(exc)
