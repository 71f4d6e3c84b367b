"""Cut PostgreSQL connections whose server has stopped answering, so no request hangs on one.

`statement_timeout` is enforced by the server: a frozen server (stopped process, lost host whose
kernel still acknowledges packets, a network that drops replies) never sends the cancellation,
and the driver waits on its socket for ever, through a statement, a commit, the pool's pre-ping or
its reset. The watchdog is one thread per engine that looks at every open connection a few times
a second; a connection that has been waiting on the server, with no new statement, for longer
than its limit (the statement timeout plus the connect timeout: a live server has cancelled the
statement by then) has its socket shut down. The waiting call then fails with an
`OperationalError` that SQLAlchemy sees as a disconnect, and the pool discards the connection.

It costs nothing on the hot path but one counter per statement (`before_cursor_execute`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import weakref
from typing import Any

import psycopg
from sqlalchemy import Engine, event

log = logging.getLogger("reviewflow.db")

_STATEMENTS = "reviewflow_statements"
"""Key in each pooled connection's `info`: statements begun on it (a busy connection that runs
many short statements is not mistaken for one stuck on a single one)."""


class Watchdog:
    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.interval = min(0.25, limit / 4)
        self._lock = threading.Lock()
        self._connections: weakref.WeakKeyDictionary[psycopg.Connection[Any], dict[str, Any]] = (
            weakref.WeakKeyDictionary())
        self._thread: threading.Thread | None = None

    def watch(self, dbapi_connection: psycopg.Connection[Any], info: dict[str, Any]) -> None:
        info.setdefault(_STATEMENTS, 0)
        with self._lock:
            self._connections[dbapi_connection] = info
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="reviewflow-db-watchdog",
                                                daemon=True)
                self._thread.start()

    def forget(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._connections.pop(dbapi_connection, None)

    def _run(self) -> None:
        waiting: dict[int, tuple[int, float]] = {}  # id -> (statement count, waiting since)
        while True:
            time.sleep(self.interval)  # the watchdog's own pace, not a wait for a state
            with self._lock:
                if not self._connections:
                    self._thread = None  # restarted by the next `watch`
                    return
                watched = list(self._connections.items())
            now = time.monotonic()
            seen: dict[int, tuple[int, float]] = {}
            for connection, info in watched:
                if connection.closed or connection.info.transaction_status != (
                        psycopg.pq.TransactionStatus.ACTIVE):
                    continue
                count = info.get(_STATEMENTS, 0)
                previous = waiting.get(id(connection))
                since = previous[1] if previous and previous[0] == count else now
                seen[id(connection)] = (count, since)
                if now - since > self.limit:
                    self._cut(connection)
            waiting = seen

    def _cut(self, connection: psycopg.Connection[Any]) -> None:
        log.warning("the database has not answered for %.1f s: closing the connection",
                    self.limit)
        with contextlib.suppress(OSError, psycopg.Error):
            # Shut down a duplicate of the socket: the driver's own call, blocked reading it,
            # wakes up and finds the connection closed (closing its descriptor would not).
            duplicate = socket.socket(fileno=os.dup(connection.fileno()))
            try:
                duplicate.shutdown(socket.SHUT_RDWR)
            finally:
                duplicate.close()


def install(engine: Engine, limit: float) -> Watchdog:
    """Watch every connection `engine` opens (PostgreSQL with psycopg only)."""
    watchdog = Watchdog(limit)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        if isinstance(dbapi_connection, psycopg.Connection):
            watchdog.watch(dbapi_connection, record.info)

    @event.listens_for(engine, "close")
    def _close(dbapi_connection: Any, _record: Any) -> None:
        watchdog.forget(dbapi_connection)

    @event.listens_for(engine, "close_detached")
    def _close_detached(dbapi_connection: Any) -> None:
        watchdog.forget(dbapi_connection)

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(connection: Any, *_args: Any) -> None:
        info = connection.info
        info[_STATEMENTS] = info.get(_STATEMENTS, 0) + 1

    return watchdog
