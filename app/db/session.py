"""Engine and session factory for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

LONE_STATEMENT = "reviewflow_lone_statement"
"""Execution option: the connection runs one statement that needs no transaction around it."""
READS_ONLY = "reviewflow_reads_only"
"""Execution option: the transaction only reads (on SQLite it begins DEFERRED, see `_begin`)."""


def make_engine(url: str, sqlite_busy_timeout: float = 30.0) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": sqlite_busy_timeout,
                                                  "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, begin transactions (see _begin below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # The driver would begin only at the first write, so the reads of one command
            # could see different snapshots: SQLAlchemy begins instead. A transaction that may
            # write begins IMMEDIATE, taking SQLite's one write lock first: another writer
            # waits for it (busy timeout) and then reads what it committed. Begun DEFERRED,
            # two commands on different instances would both read, and the second to write
            # would fail at once ("database is locked": its snapshot is stale), a 409 for
            # people who were never in each other's way. Transactions that only read stay
            # DEFERRED and take no lock.
            options = connection.get_execution_options()
            if not options.get(LONE_STATEMENT):
                connection.connection.driver_connection.execute(
                    "BEGIN" if options.get(READS_ONLY) else "BEGIN IMMEDIATE")

        return engine
    # Connections are recycled instead of pinged before each use: a ping costs a round trip
    # on every request.
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, pool_use_lifo=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
