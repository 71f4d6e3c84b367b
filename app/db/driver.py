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
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
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
    """A SELECT of plain columns, compiled once per dialect; rows come back as tuples.

    On PostgreSQL a query that would be its transaction's first statement runs before the BEGIN
    (psycopg would send it as a round trip of its own): at READ COMMITTED every statement reads
    its own snapshot anyway, and a step's writes stay guarded by the rows' versions.
    """

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
        before_begin = dialect.driver == "psycopg" and _transaction_not_begun(dbapi_connection)
        try:
            with _translated_errors(connection, [cursor], compiled.sql), \
                    _autocommit(connection, before_begin):
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
    guarded: str | None
    """What the statement writes, when it must match exactly one row (else `StaleDataError`)."""


STALE = "reviewflow-stale:"
"""Marks the error a combined statement raises when a guarded write matched no row."""


class DriverBatch:
    """Statements run together on `connection`'s DBAPI connection.

    `add` queues a statement with its rows (several rows make one executemany), `guarded` when
    it must match exactly one row; `run` executes the queue in order, on PostgreSQL as one
    `CombinedStatement`. A guarded statement that matched no row raises `StaleDataError`, with
    nothing of the batch kept once the caller rolls back.

    `run(commit=True)` ends the unit of work: on PostgreSQL, when the transaction has not begun
    (its reads ran before any BEGIN, see `DriverQuery`), the combined statement runs on its own
    and commits by itself, all or nothing: no BEGIN and no COMMIT round trip.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self._queue: list[_Queued] = []

    def add(self, statement: DriverStatement, rows: list[dict[str, Any]],
            guarded: str | None = None) -> None:
        if rows:
            self._queue.append(_Queued(statement.compiled(self.dialect), rows, guarded))

    def run(self, commit: bool = False) -> None:
        queue, self._queue = self._queue, []
        if not queue:
            return
        connection = self.connection
        # Every row's parameters first: a value its processor refuses fails here, before
        # anything is sent.
        parameters = [[item.statement.parameters(row) for row in item.rows] for item in queue]
        if self.dialect.driver == "psycopg" and all(len(rows) == 1 for rows in parameters):
            self._run_combined(queue, [rows[0] for rows in parameters], commit)
            return
        dbapi_connection = connection.connection.driver_connection
        cursors = [dbapi_connection.cursor() for _ in queue]  # type: ignore[union-attr]
        sql = "; ".join(item.statement.sql for item in queue)
        pipelined = len(queue) > 1 or len(queue[0].rows) > 1
        try:
            with _translated_errors(connection, cursors, sql), _pipeline(connection, pipelined):
                for item, cursor, rows in zip(queue, cursors, parameters, strict=True):
                    if len(rows) > 1:
                        _execute(connection, cursor, item.statement, rows, many=True)
                    else:
                        _execute(connection, cursor, item.statement, rows[0])
            counts = [cursor.rowcount for cursor in cursors]
        finally:
            _close(cursors)
        for item, count in zip(queue, counts, strict=True):
            if item.guarded is not None and count != 1:
                raise _stale(item.guarded)

    def _run_combined(self, queue: list[_Queued], parameters: list[Any], commit: bool) -> None:
        from psycopg import RawCursor  # only on this path: SQLite needs no psycopg

        combined = CombinedStatement.of([(item.statement, item.guarded is not None)
                                         for item in queue])
        values = combined.parameters(parameters)
        connection = self.connection
        dbapi_connection: Any = connection.connection.driver_connection
        alone = commit and _transaction_not_begun(dbapi_connection)
        cursor = RawCursor(dbapi_connection)
        try:
            with _translated_errors(connection, [cursor], combined.statement.sql), \
                    _autocommit(connection, alone):
                _execute(connection, cursor, combined.statement, values)
        except DataError as exc:
            number = _stale_guard(exc.orig)
            if number is None or number >= len(queue) or queue[number].guarded is None:
                raise
            raise _stale(queue[number].guarded) from None
        finally:
            _close([cursor])


@dataclass(frozen=True)
class CombinedStatement:
    """A batch of INSERTs and UPDATEs as one PostgreSQL statement: one round trip, and a
    fraction of the client-side work of a pipeline of them.

    Each statement becomes a data-modifying WITH clause, its binds numbered PostgreSQL's way
    (`$1`, `$2`, ...) so that psycopg passes the statement as it is (its own placeholders would
    be parsed again on every execution of a statement this long). A guarded UPDATE returns its
    rows, and the final SELECT counts them in queue order, which is also the order the UPDATEs
    run and take their row locks in (parents first, see `UnitOfWork.flush`); when one of them
    matched no row, the SELECT fails (a text that is not an integer, naming the statement), so
    the statement as a whole writes nothing. The INSERTs run after them, within the same
    statement, so a row and the rows referencing it can be inserted together. Built once per
    shape of batch.
    """

    statement: CompiledStatement
    parts: tuple[tuple[CompiledStatement, bool], ...]

    _cache: ClassVar[dict[tuple[tuple[int, bool], ...], CombinedStatement]] = {}

    @classmethod
    def of(cls, parts: list[tuple[CompiledStatement, bool]]) -> CombinedStatement:
        key = tuple((id(statement), guarded) for statement, guarded in parts)
        found = cls._cache.get(key)
        if found is None:
            if len(cls._cache) >= 512:
                cls._cache.clear()
            found = cls._cache[key] = cls._build(tuple(parts))
        return found

    @classmethod
    def _build(cls, parts: tuple[tuple[CompiledStatement, bool], ...]) -> CombinedStatement:
        clauses, failures, names = [], [], []
        for number, (statement, guarded) in enumerate(parts):
            sql = statement.sql
            for name in statement.names:
                names.append(f"s{number}_{name}")
                sql = sql.replace(f"%({name})s", f"${len(names)}")
            sql = sql.replace("%%", "%")
            if guarded:
                clauses.append(f"s{number} AS ({sql} RETURNING 1)")
                # The text carries the count, so that it is computed only when reached (a
                # constant would be cast, and fail, while the statement is planned).
                count = f"(SELECT count(*) FROM s{number})"
                failures.append(f"WHEN {count} <> 1 "
                                f"THEN CAST('{STALE}{number}:' || {count} AS integer)")
            else:
                clauses.append(f"s{number} AS ({sql})")
        check = f"CASE {' '.join(failures)} ELSE 0 END" if failures else "0"
        sql = "WITH " + ",\n".join(clauses) + "\nSELECT " + check
        return cls(CompiledStatement(sql, sql.encode(), tuple(names), True, {}, {}), parts)

    def parameters(self, values: list[Any]) -> list[Any]:
        """The statement's parameters, in its `$n` order, from each part's (processed) ones."""
        return [value for part in values for value in part.values()]


def _transaction_not_begun(dbapi_connection: Any) -> bool:
    """psycopg: nothing has run since the last commit (reads before the BEGIN count as none),
    at READ COMMITTED, where a statement on its own reads what it would read in a transaction."""
    from psycopg import IsolationLevel
    from psycopg.pq import TransactionStatus

    return (not dbapi_connection.autocommit
            and dbapi_connection.info.transaction_status == TransactionStatus.IDLE
            and dbapi_connection.isolation_level in (None, IsolationLevel.READ_COMMITTED))


@contextlib.contextmanager
def _autocommit(connection: Connection, wanted: bool) -> Iterator[None]:
    """Run a statement on its own, outside a transaction: it commits (or fails) by itself. The
    connection goes back to the pool as it was lent, or, when it cannot be (lost mid-statement),
    not at all."""
    if not wanted:
        yield
        return
    from psycopg.pq import TransactionStatus

    dbapi_connection: Any = connection.connection.driver_connection
    dbapi_connection.autocommit = True
    try:
        yield
    finally:
        if dbapi_connection.info.transaction_status == TransactionStatus.IDLE:
            dbapi_connection.autocommit = False
        else:
            connection.invalidate()


def _stale(guarded: str | None) -> StaleDataError:
    return StaleDataError(f"{guarded} was changed by someone else")


_STALE_VALUE = re.compile(re.escape(STALE) + r"(\d+):\d+")


def _stale_guard(error: BaseException | None) -> int | None:
    """Which statement of a combined one matched no row, when that is why it failed."""
    if getattr(error, "sqlstate", None) != "22P02":  # invalid_text_representation
        return None
    diag = getattr(error, "diag", None)
    found = _STALE_VALUE.search(getattr(diag, "message_primary", None) or "")
    return int(found.group(1)) if found else None


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
