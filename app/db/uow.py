"""The unit of work owns the transaction: commit explicitly, roll back by default."""

from __future__ import annotations

import functools
from types import TracebackType
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


@functools.cache
def _insert(model: type[DeclarativeBase]) -> Insert:
    """One statement object per table: reusing it spares SQLAlchemy rebuilding it each time."""
    return model.__table__.insert()  # type: ignore[attr-defined,no-any-return]


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self._appended: dict[type[DeclarativeBase], list[dict[str, Any]]] = {}

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back what was not committed and detaches objects without expiring
        # them, so results read inside the block stay usable after it.
        self._appended.clear()
        try:
            self.session.close()
        finally:
            self._session = None

    def append(self, model: type[DeclarativeBase], values: dict[str, Any]) -> None:
        """Insert a row that nothing reads or changes before the commit (a timeline event, a
        new task index row): rows are inserted in bulk, per table in the order first
        appended, after the session's own changes are flushed. Like the session's pending
        objects (autoflush is off), they are not visible to queries before that."""
        self._appended.setdefault(model, []).append(values)

    def flush(self) -> None:
        self.session.flush()
        appended, self._appended = self._appended, {}
        connection = self.session.connection() if appended else None
        for model, rows in appended.items():
            assert connection is not None
            connection.execute(_insert(model), rows)

    def commit(self) -> None:
        self.flush()
        self.session.commit()

    def rollback(self) -> None:
        self._appended.clear()
        self.session.rollback()
