"""Engine and session factory for SQLite and PostgreSQL."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.db import watchdog

LONE_STATEMENT = "reviewflow_lone_statement"
"""Execution option: the connection runs one statement that needs no transaction around it."""
READS_ONLY = "reviewflow_reads_only"
"""Execution option: the transaction only reads (on SQLite it begins DEFERRED, see `_begin`)."""


def make_engine(url: str, sqlite_busy_timeout: float = 30.0, connect_timeout: float = 5.0,
                statement_timeout: float = 10.0) -> Engine:
    """An engine whose requests fail, rather than hang, when PostgreSQL is down or frozen:
    connections time out opening (libpq rounds `connect_timeout` up to whole seconds, at least
    2), statements past `statement_timeout` are cancelled by the server, and a connection whose
    server stops answering altogether is cut by the watchdog (`app.db.watchdog`)."""
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
    # Connections are pinged before each use (a round trip per request): one the server
    # closed or lost (a restart, a failover) is replaced instead of failing the request.
    connect_args = {"connect_timeout": max(1, math.ceil(connect_timeout)),
                    "options": f"-c statement_timeout={round(statement_timeout * 1000)}"}
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800,
                           pool_use_lifo=True, pool_pre_ping=True, connect_args=connect_args)
    watchdog.install(engine, statement_timeout + connect_timeout)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
