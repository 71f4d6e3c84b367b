"""The unit of work owns the transaction: commit explicitly, roll back by default."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Connection, Insert, Table, bindparam, insert, update
from sqlalchemy.orm import (
    DeclarativeBase,
    Session,
    configure_mappers,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

ModelT = TypeVar("ModelT", bound=DeclarativeBase)


class RowWriter:
    """Writes chosen columns of persistent ORM objects with one prebuilt Core UPDATE.

    What the session's flush would do, at a fraction of its cost: `UnitOfWork.write` sets the
    new values on the object as already saved (so the session does not track it as changed)
    and runs the statement at the flush. The row is matched by primary key and by the value
    `guard` had before (`UPDATE ... WHERE id = :key AND guard = :guard`); `version`, when
    given, is incremented (optimistic locking, like the mapper's `version_id_col`). A row
    changed meanwhile matches nothing and raises `StaleDataError`, as the ORM's flush would.
    """

    def __init__(self, model: type[DeclarativeBase], columns: tuple[str, ...], guard: str,
                 version: str | None = None) -> None:
        table = _table(model)
        self.model = model
        self.columns = frozenset(columns)
        self.guard = guard
        self.version = version
        (self.key,) = (column.name for column in table.primary_key.columns)
        values: dict[str, Any] = {name: bindparam(f"set_{name}", type_=table.c[name].type)
                                  for name in columns}
        if version:
            values[version] = table.c[version] + 1
        self.statement = (update(table)
                          .where(table.c[self.key] == bindparam("key"),
                                 table.c[guard] == bindparam("guard",
                                                             type_=table.c[guard].type))
                          .values(values))
        self._names = tuple(columns)

    def stage(self, obj: Any, values: dict[str, Any]) -> dict[str, Any]:
        """Apply `values` to `obj` as saved; return the statement's parameters."""
        unknown = set(values) - self.columns
        if unknown:
            raise ValueError(f"{type(self).__name__} does not write {sorted(unknown)}")
        params = {"key": getattr(obj, self.key), "guard": getattr(obj, self.guard)}
        for name, value in values.items():
            set_committed_value(obj, name, value)
        if self.version:
            set_committed_value(obj, self.version, params["guard"] + 1)
        params.update({f"set_{name}": getattr(obj, name) for name in self._names})
        return params

    def row(self, params: dict[str, Any]) -> str:
        """The row a staged write changes, as its failure names it."""
        return f"{self.statement.table} row {params['key']}"

    def run(self, connection: Connection, params: dict[str, Any]) -> None:
        """Run a staged write; it must change exactly its row."""
        if connection.execute(self.statement, params).rowcount != 1:
            raise StaleDataError(f"{self.row(params)} was changed by someone else")


def detached(model: type[ModelT], values: Sequence[Any]) -> ModelT:
    """An ORM object for a row read without the session (values in the table's column order),
    as a query would load it, but detached: nothing tracks it, and its changes are written with
    `UnitOfWork.write`."""
    obj = model(**dict(zip(_attribute_keys(model), values, strict=True)))
    make_transient_to_detached(obj)  # as if loaded: no changes, its identity from its key
    return obj


@functools.cache
def _attribute_keys(model: type[DeclarativeBase]) -> tuple[str, ...]:
    configure_mappers()
    mapper = model.__mapper__
    return tuple(mapper.get_property_by_column(column).key for column in _table(model).columns)


def _table(model: type[DeclarativeBase]) -> Table:
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table


@functools.cache
def _rank(model: type[DeclarativeBase]) -> int:
    """Where the model's table comes in its metadata's foreign-key order (parents first)."""
    table = _table(model)
    return list(table.metadata.sorted_tables).index(table)


@functools.cache
def _insert(model: type[DeclarativeBase]) -> Insert:
    """The table's Core INSERT: given a list of rows, one executemany (SQLAlchemy caches its
    compilation per set of columns)."""
    return insert(_table(model))


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self._appended: dict[type[DeclarativeBase], list[dict[str, Any]]] = {}
        self._written: list[tuple[RowWriter, dict[str, Any]]] = []
        self._after_commit: list[Callable[[], None]] = []

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
        self._written.clear()
        self._after_commit.clear()
        try:
            self.session.close()
        finally:
            self._session = None

    def append(self, model: type[DeclarativeBase], values: dict[str, Any]) -> None:
        """Insert a row that nothing reads or changes before the commit (a new instance, its
        task index rows, subscriptions and timeline events): rows are inserted in bulk, table
        by table with parents first, after the session's own changes are flushed. Like the
        session's pending objects (autoflush is off), they are not visible to queries before
        that."""
        self._appended.setdefault(model, []).append(values)

    def write(self, writer: RowWriter, obj: Any, values: dict[str, Any]) -> None:
        """Change `obj` now and its row at the flush, before the session's own changes."""
        self._written.append((writer, writer.stage(obj, values)))

    def flush(self) -> None:
        """Row writes, then the session's own changes, then appended rows.

        Parents first (an instance before its tasks), as the session's flush orders them:
        every writer takes row locks in the same order, so none deadlocks another.
        """
        session = self.session
        written, self._written = self._written, []
        appended, self._appended = self._appended, {}
        if written:
            connection = session.connection()
            for writer, params in sorted(written, key=lambda item: _rank(item[0].model)):
                writer.run(connection, params)
        session.flush()
        if appended:
            connection = session.connection()
            for model in sorted(appended, key=_rank):
                by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
                for row in appended[model]:
                    by_columns.setdefault(tuple(row), []).append(row)
                for rows in by_columns.values():
                    connection.execute(_insert(model), rows)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this unit's transaction has committed."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        """Write everything and commit. A use case builds its answer before it commits: an
        answer that cannot be built is then a 5xx with nothing committed."""
        self.flush()
        try:
            self.session.commit()
        except BaseException:
            # A COMMIT that failed may leave the driver's transaction open while SQLAlchemy
            # counts it as ended (and so would not reset the connection in the pool): roll it
            # back here, so the next user of the connection cannot commit it.
            self.session.rollback()
            raise
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        """Roll back what is not committed."""
        self._appended.clear()
        self._written.clear()
        self._after_commit.clear()
        self.session.rollback()
