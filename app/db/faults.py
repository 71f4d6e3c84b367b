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
    if exc.connection_invalidated or _while_connection_lost(exc.orig):
        return True
    return isinstance(exc, OperationalError | InterfaceError) and not is_contention(exc)


def _while_connection_lost(error: BaseException | None) -> bool:
    """Whether the driver's error was raised while it handled a lost connection. SQLAlchemy's
    pre-ping on psycopg, finding the socket closed, then resets autocommit on the dead
    connection, and psycopg refuses with a ProgrammingError ("connection in transaction
    status ACTIVE") that hides the OperationalError it came from."""
    seen = error.__context__ if error is not None else None
    while seen is not None:
        if type(seen).__name__ in ("OperationalError", "InterfaceError"):  # PEP 249's names
            return True
        seen = seen.__context__
    return False
