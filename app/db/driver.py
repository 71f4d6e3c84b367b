"""Run the hot path's statements on the driver's own cursor: a step's writes in one batch, and
the token lookup every request makes.

A step ends with a handful of small writes: the instance's row, the task it completed, the new
task index rows, the timeline events and the request's audit entry. Through SQLAlchemy's
`Connection.execute` each costs a trip through its execution machinery (parameter processing,
result set-up, events), several times what the driver itself spends; and on PostgreSQL each is
a round trip of its own. A `DriverBatch` compiles each statement once per dialect with
SQLAlchemy (so SQL, bind casts and bind processors are SQLAlchemy's own) and runs the batch on
the DBAPI cursor. On PostgreSQL the batch is one statement (`CombinedStatement`: each write a
data-modifying WITH clause), so it costs a single round trip and a single execution in the
driver; a batch holding an executemany goes as one psycopg pipeline instead. A `DriverQuery`
reads rows the same way, with SQLAlchemy's result processing.

Both still fire the engine's `before_cursor_execute` / `after_cursor_execute` events, so
tracing and statement counts see every statement, and driver errors come out as SQLAlchemy's
exceptions (`IntegrityError`, `OperationalError`, ...), as they would from `execute`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.selectable import Select

Statement = Insert | Update | Select[Any]
Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class CompiledStatement:
    """A statement as the driver takes it: SQL, bind names and their bind processors."""

    sql: str
    query: str | bytes
    """What the driver is given: psycopg takes the SQL already encoded (encoding it again on
    every execution costs it tens of microseconds)."""
    names: tuple[str, ...]
    positional: bool
    fixed: dict[str, Any]
    """Binds whose values are part of the statement (the `1` of `lock_version + 1`)."""
    processors: dict[str, Processor]

    @classmethod
    def of(cls, compiled: Compiled, dialect: Dialect) -> CompiledStatement:
        sql = compiled.string
        binds = compiled.binds  # type: ignore[attr-defined]
        positions = compiled.positiontup  # type: ignore[attr-defined]
        names = tuple(positions) if positions is not None else tuple(
            name for name in binds if _placeholder(name, dialect.paramstyle) in sql)
        processors = {}
        for name in names:
            processor = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        fixed = {name: binds[name].value for name in names if not binds[name].required}
        query = sql.encode() if dialect.driver == "psycopg" else sql
        return cls(sql, query, names, positions is not None, fixed, processors)

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for one row of `values` (keyed by bind name)."""
        fixed, processors = self.fixed, self.processors
        row = []
        for name in self.names:
            value = fixed[name] if name in fixed else values[name]
            processor = processors.get(name)
            row.append(value if processor is None else processor(value))
        return tuple(row) if self.positional else dict(zip(self.names, row, strict=True))


def _placeholder(name: str, paramstyle: str) -> str:
    """How a named bind appears in the SQL (positional styles list theirs in order)."""
    if paramstyle == "pyformat":
        return f"%({name})s"
    if paramstyle == "named":
        return f":{name}"
    raise NotImplementedError(f"the driver's paramstyle {paramstyle!r} is not supported")


class DriverStatement:
    """An INSERT or UPDATE compiled once per dialect for `DriverBatch`.

    An INSERT is compiled for the columns it is given (`columns`), without RETURNING: the rows
    it writes are never read back in the same step.
    """

    def __init__(self, statement: Statement, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = tuple(columns) if columns is not None else None
        self._compiled: dict[tuple[type[Dialect], str], CompiledStatement] = {}

    def compiled(self, dialect: Dialect) -> CompiledStatement:
        key = (type(dialect), dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.columns,
                                              for_executemany=self.columns is not None)
            found = self._compiled[key] = CompiledStatement.of(compiled, dialect)
        return found


class DriverQuery(DriverStatement):
    """A SELECT of plain columns, compiled once per dialect; rows come back as tuples."""

    def __init__(self, statement: Select[Any]) -> None:
        super().__init__(statement)
        self._results: dict[type[Dialect], tuple[Processor | None, ...]] = {}

    def first(self, connection: Connection, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row for `values` (keyed by bind name), or None."""
        rows = self._fetch(connection, values, first=True)
        return rows[0] if rows else None

    def all(self, connection: Connection, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Every row for `values` (keyed by bind name)."""
        return self._fetch(connection, values, first=False)

    def _fetch(self, connection: Connection, values: dict[str, Any],
               first: bool) -> list[tuple[Any, ...]]:
        """Rows with their values processed as SQLAlchemy would (JSON decoded, datetimes
        parsed)."""
        dialect = connection.dialect
        compiled = self.compiled(dialect)
        dbapi_connection = connection.connection.driver_connection
        cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with _translated_errors(connection, [cursor], compiled.sql):
                _execute(connection, cursor, compiled, compiled.parameters(values))
                if first:
                    row = cursor.fetchone()
                    fetched = [row] if row is not None else []
                else:
                    fetched = cursor.fetchall()
        finally:
            _close([cursor])
        processors = self._processors(dialect)
        return [tuple(value if processor is None else processor(value)
                      for processor, value in zip(processors, row, strict=True))
                for row in fetched]

    def _processors(self, dialect: Dialect) -> tuple[Processor | None, ...]:
        found = self._results.get(type(dialect))
        if found is None:
            select: Select[Any] = self.statement  # type: ignore[assignment]
            found = self._results[type(dialect)] = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in select.selected_columns)
        return found


@dataclass
class _Queued:
    statement: CompiledStatement
    rows: list[dict[str, Any]]
    check: Callable[[int], None] | None


class DriverBatch:
    """Statements run together on `connection`'s DBAPI connection, in its transaction.

    `add` queues a statement with its rows (several rows make one executemany) and, when given,
    a check of the row count it must affect; `run` executes the queue in order (on PostgreSQL
    as one `CombinedStatement`). A check that fails raises from `run` after the batch, with the
    transaction left for the caller to roll back.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self._queue: list[_Queued] = []

    def add(self, statement: DriverStatement, rows: list[dict[str, Any]],
            check: Callable[[int], None] | None = None) -> None:
        if rows:
            self._queue.append(_Queued(statement.compiled(self.dialect), rows, check))

    def run(self) -> None:
        queue, self._queue = self._queue, []
        if not queue:
            return
        connection = self.connection
        # Every row's parameters first: a value its processor refuses fails here, before
        # anything is sent.
        parameters = [[item.statement.parameters(row) for row in item.rows] for item in queue]
        dbapi_connection = connection.connection.driver_connection
        if len(queue) > 1 and self.dialect.driver == "psycopg" and all(
                len(rows) == 1 for rows in parameters):
            counts = self._run_combined(queue, [rows[0] for rows in parameters])
        else:
            cursors = [dbapi_connection.cursor() for _ in queue]  # type: ignore[union-attr]
            sql = "; ".join(item.statement.sql for item in queue)
            pipelined = len(queue) > 1 or len(queue[0].rows) > 1
            try:
                with _translated_errors(connection, cursors, sql), \
                        _pipeline(connection, pipelined):
                    for item, cursor, rows in zip(queue, cursors, parameters, strict=True):
                        if len(rows) > 1:
                            _execute(connection, cursor, item.statement, rows, many=True)
                        else:
                            _execute(connection, cursor, item.statement, rows[0])
                counts = [cursor.rowcount for cursor in cursors]
            finally:
                _close(cursors)
        for item, count in zip(queue, counts, strict=True):
            if item.check is not None:
                item.check(count)

    def _run_combined(self, queue: list[_Queued], parameters: list[Any]) -> list[int]:
        """Run the queue as one statement (see `CombinedStatement`); the row counts of the
        checked statements come back as its result, the others count as -1."""
        from psycopg import RawCursor  # only on this path: SQLite needs no psycopg

        combined = CombinedStatement.of([(item.statement, item.check is not None)
                                         for item in queue])
        values = combined.parameters(parameters)
        connection = self.connection
        cursor = RawCursor(connection.connection.driver_connection)
        try:
            with _translated_errors(connection, [cursor], combined.statement.sql):
                _execute(connection, cursor, combined.statement, values)
                row = cursor.fetchone()
        finally:
            _close([cursor])
        found = iter(row or ())
        return [next(found) if checked else -1 for _statement, checked in combined.parts]


@dataclass(frozen=True)
class CombinedStatement:
    """A batch of INSERTs and UPDATEs as one PostgreSQL statement: one round trip, and a
    fraction of the client-side work of a pipeline of them.

    Each statement becomes a data-modifying WITH clause, its binds numbered PostgreSQL's way
    (`$1`, `$2`, ...) so that psycopg passes the statement as it is (its own placeholders would
    be parsed again on every execution of a statement this long); a checked UPDATE returns
    its rows, and the final SELECT counts them in queue order, which is
    also the order the UPDATEs run and take their row locks in (parents first, see
    `UnitOfWork.flush`). The INSERTs run after them, within the same statement, so a row and
    the rows referencing it can be inserted together. Built once per shape of batch.
    """

    statement: CompiledStatement
    parts: tuple[tuple[CompiledStatement, bool], ...]

    _cache: ClassVar[dict[tuple[tuple[int, bool], ...], CombinedStatement]] = {}

    @classmethod
    def of(cls, parts: list[tuple[CompiledStatement, bool]]) -> CombinedStatement:
        key = tuple((id(statement), checked) for statement, checked in parts)
        found = cls._cache.get(key)
        if found is None:
            if len(cls._cache) >= 512:
                cls._cache.clear()
            found = cls._cache[key] = cls._build(tuple(parts))
        return found

    @classmethod
    def _build(cls, parts: tuple[tuple[CompiledStatement, bool], ...]) -> CombinedStatement:
        clauses, counts, names = [], [], []
        for number, (statement, checked) in enumerate(parts):
            sql = statement.sql
            for name in statement.names:
                names.append(f"s{number}_{name}")
                sql = sql.replace(f"%({name})s", f"${len(names)}")
            sql = sql.replace("%%", "%")
            if checked:
                clauses.append(f"s{number} AS ({sql} RETURNING 1)")
                counts.append(f"(SELECT count(*) FROM s{number})")
            else:
                clauses.append(f"s{number} AS ({sql})")
        sql = "WITH " + ",\n".join(clauses) + "\nSELECT " + (", ".join(counts) or "1")
        return cls(CompiledStatement(sql, sql.encode(), tuple(names), True, {}, {}), parts)

    def parameters(self, values: list[Any]) -> list[Any]:
        """The statement's parameters, in its `$n` order, from each part's (processed) ones."""
        return [value for part in values for value in part.values()]


def _execute(connection: Connection, cursor: Any, statement: CompiledStatement,
             parameters: Any, many: bool = False) -> None:
    """Run one statement on the cursor, between the engine's cursor events."""
    dispatch = connection.dispatch
    if dispatch.before_cursor_execute:
        dispatch.before_cursor_execute(connection, cursor, statement.sql, parameters, None,
                                       many)
    if many:
        cursor.executemany(statement.query, parameters)
    else:
        cursor.execute(statement.query, parameters)
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(connection, cursor, statement.sql, parameters, None,
                                      many)


@contextlib.contextmanager
def _pipeline(connection: Connection, wanted: bool) -> Iterator[None]:
    """psycopg's pipeline mode sends every statement before reading any answer. Entering and
    leaving it costs more than it saves for a lone statement, so only batches use it."""
    if wanted and connection.dialect.driver == "psycopg":
        with connection.connection.driver_connection.pipeline():  # type: ignore[union-attr]
            yield
    else:
        yield


@contextlib.contextmanager
def _translated_errors(connection: Connection, cursors: list[Any], sql: str) -> Iterator[None]:
    """Driver errors go through SQLAlchemy's own handling, as from `execute`: wrapped as its
    exceptions (parameters hidden), the engine's `handle_error` events, and a lost connection
    invalidating the pool."""
    try:
        yield
    except connection.dialect.loaded_dbapi.Error as exc:
        connection._handle_dbapi_exception(exc, sql, None, cursors[-1], None)


def _close(cursors: list[Any]) -> None:
    """Close cursors without hiding the error that is on its way (a broken connection refuses
    to close them)."""
    for cursor in cursors:
        with contextlib.suppress(Exception):
            cursor.close()
