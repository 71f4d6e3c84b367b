"""Statements run on the driver's cursor (`app.db.driver`): what they write and read must be what
SQLAlchemy's own execution would write and read, errors must be SQLAlchemy's, and tracing must
still see every statement."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import bindparam, event, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import exc as orm_exc
from sqlalchemy.orm import object_session

from app.auth import audit
from app.auth.principal import SYSTEM, Principal
from app.db.driver import DriverQuery, _stale_guard
from app.db.models import AuditEntry, HumanTask
from app.db.uow import MULTI_ROW_LIMIT, detached
from app.engine.definitions import SourceFile
from app.services import deployments, instances, tasks
from app.services.context import ServiceContext
from app.services.steps import TASK_DONE_WRITER
from tests.conftest import FIXTURES

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
CALLER = Principal("tester", frozenset({"chair"}), "health")
ENTRIES = DriverQuery(select(*AuditEntry.__table__.columns)
                      .where(AuditEntry.actor == bindparam("actor")).order_by(AuditEntry.id))


def _entry(action: str, **detail: Any) -> dict[str, Any]:
    return audit.entry(AT, CALLER, action, "POST", "/api/v1/x", 200, "instance", None, detail)


def _count(ctx: ServiceContext) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(AuditEntry)) or 0


@pytest.mark.parametrize("count", [3, MULTI_ROW_LIMIT + 5])
def test_appended_rows_are_written_in_one_statement_that_tracing_still_sees(
        ctx: ServiceContext, count: int) -> None:
    """A few rows make one multi-row INSERT; many make one executemany of the one-row INSERT."""
    statements: list[tuple[str, int, bool]] = []

    def trace(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any,
              many: bool) -> None:
        table = re.search(r"INSERT INTO (\w+)", statement)
        statements.append((table.group(1) if table else statement,
                           statement.count("VALUES (") + statement.count("), ("), many))

    actions = [f"action {number}" for number in range(count)]
    event.listen(ctx.engine, "before_cursor_execute", trace)
    try:
        with ctx.uow() as uow:
            for action in actions:
                uow.append(AuditEntry, _entry(action, note=action))
            uow.commit()
    finally:
        event.remove(ctx.engine, "before_cursor_execute", trace)
    assert statements == ([("audit_log", count, False)] if count <= MULTI_ROW_LIMIT
                          else [("audit_log", 1, True)])
    with ctx.uow() as uow:
        rows = list(uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(row.action, row.detail, row.roles, row.at) for row in rows] == [
        (action, {"note": action}, ["chair"], AT) for action in actions]


def test_a_failing_batch_raises_sqlalchemys_error_and_leaves_nothing_behind(
        ctx: ServiceContext) -> None:
    with ctx.uow() as uow:
        uow.append(AuditEntry, _entry("kept"))
        uow.commit()
    with ctx.uow() as uow:
        uow.append(AuditEntry, _entry("lost"))
        uow.append(HumanTask, {  # its instance does not exist: a foreign-key violation
            "id": "t-1", "instance_id": "missing", "process_key": "p", "business_key": None,
            "bpmn_id": "b", "title": "t", "lane": None, "agency": None, "state": "ready",
            "assignee": None, "form_name": None, "instructions": None, "due_at": None,
            "created_at": AT, "completed_at": None, "completed_by": None})
        with pytest.raises(IntegrityError) as failure:
            uow.commit()
        assert "human_task" in str(failure.value.statement)
        uow.rollback()
        uow.append(AuditEntry, _entry("after"))  # the unit is usable again after a rollback
        uow.commit()
    with ctx.uow() as uow:
        assert list(uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))) \
            == ["kept", "after"]


def test_a_query_reads_values_as_sqlalchemy_would(ctx: ServiceContext) -> None:
    with ctx.uow() as uow:
        uow.session.add(AuditEntry(**_entry("one", nested={"a": [1, 2]})))
        uow.session.add(AuditEntry(**{**_entry("two"), "agency": None}))
        uow.commit()
    with ctx.uow() as uow:
        expected = [tuple(row) for row in uow.session.execute(ENTRIES.statement,
                                                              {"actor": "tester"})]
        assert ENTRIES.all(uow.session.connection(), {"actor": "tester"}) == expected
        first = ENTRIES.first(uow.session.connection(), {"actor": "tester"})
        assert ENTRIES.first(uow.session.connection(), {"actor": "nobody"}) is None
        assert ENTRIES.all(uow.session.connection(), {"actor": "nobody"}) == []
    assert first == expected[0]
    at = first[1]
    assert at == AT and at.tzinfo is not None and at.utcoffset() == dt.timedelta(0)
    assert first[-1] == {"nested": {"a": [1, 2]}} and first[3] == ["chair"]
    assert expected[1][4] is None


def test_rows_read_by_the_driver_become_detached_objects(ctx: ServiceContext) -> None:
    with ctx.uow() as uow:
        uow.session.add(AuditEntry(**_entry("one")))
        uow.commit()
    with ctx.uow() as uow:
        row = ENTRIES.first(uow.session.connection(), {"actor": "tester"})
        assert row is not None
        entry = detached(AuditEntry, row)
        assert object_session(entry) is None
        assert (entry.action, entry.at, entry.roles) == ("one", AT, ["chair"])
        assert uow.session.merge(entry, load=False).id == entry.id  # it has its identity
    with pytest.raises(ValueError):
        detached(AuditEntry, row[:-1])  # a value for every column, in the table's order


def test_a_guarded_write_that_matches_no_row_fails_after_the_batch(
        ctx: ServiceContext) -> None:
    """The batch runs whole (on PostgreSQL in one pipeline); a guard that matched nothing
    raises afterwards, and the caller's rollback discards the rest of it."""
    ghost = detached(HumanTask, [
        "t-ghost", "i-ghost", "p", None, "b", "t", None, None, "ready", None, None, None, None,
        AT, None, None, None])
    with ctx.uow() as uow:
        uow.write(TASK_DONE_WRITER, ghost, {"state": "completed"})
        uow.append(AuditEntry, _entry("with the ghost"))
        with pytest.raises(orm_exc.StaleDataError, match="t-ghost"):
            uow.commit()
        uow.rollback()
    assert _count(ctx) == 0


def test_a_missing_json_value_is_stored_as_sqlalchemy_stores_it(ctx: ServiceContext) -> None:
    """Bind processors run on None too: the JSON type keeps None as JSON null, on either path."""
    with ctx.uow() as uow:
        uow.append(AuditEntry, _entry("by the driver"))
        uow.commit()
    with ctx.engine.begin() as connection:
        connection.execute(insert(AuditEntry), [{**_entry("by SQLAlchemy"), "roles": None}])
    with ctx.uow() as uow:
        uow.append(AuditEntry, {**_entry("by the driver, no roles"), "roles": None})
        uow.commit()
    with ctx.engine.connect() as connection:
        stored = dict(connection.execute(select(AuditEntry.action,
                                                AuditEntry.roles.is_(None))).all())
    assert stored["by the driver, no roles"] == stored["by SQLAlchemy"]


def test_on_postgresql_a_steps_writes_are_one_statement(ctx: ServiceContext) -> None:
    """The read of the task, then every write of the step (the instance, the task, the timeline)
    in one statement: two round trips before the commit."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs the writes one after the other (it has no round trips)")
    deployments.deploy(ctx, SYSTEM, [SourceFile(
        "parallel_review.bpmn", (FIXTURES / "parallel_review.bpmn").read_bytes())])
    caller = Principal("tester", frozenset({"board_manager", "panel_member", "chair"}))
    started = instances.start(ctx, caller, "parallel_review", None, {})
    statements: list[str] = []

    def trace(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", trace)
    try:
        tasks.complete(ctx, caller, started.ready_tasks[0].id, {"a": 1})
    finally:
        event.remove(ctx.engine, "before_cursor_execute", trace)
    assert [statement.split()[:4] for statement in statements] == [
        ["SELECT", "human_task.id,", "human_task.instance_id,", "human_task.process_key,"],
        ["WITH", "s0", "AS", "(UPDATE"]]
    assert "UPDATE process_instance" in statements[1] and "INSERT INTO event" in statements[1]


def test_on_postgresql_reads_run_before_the_begin_and_the_writes_commit_themselves(
        ctx: ServiceContext) -> None:
    """The token lookup and the step's reads open no transaction; the step's writes are then
    one statement that commits by itself, all of it or, when a guard fails, none of it."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's BEGIN and COMMIT round trips are what this spares")
    with ctx.uow() as uow:
        uow.append(AuditEntry, _entry("first"))
        uow.commit()
    with ctx.uow() as uow:
        connection = uow.session.connection()
        dbapi_connection: Any = connection.connection.driver_connection
        assert ENTRIES.first(connection, {"actor": "tester"}) is not None
        assert dbapi_connection.info.transaction_status == TransactionStatus.IDLE
        uow.append(AuditEntry, _entry("second"))
        uow.commit()
        assert dbapi_connection.info.transaction_status == TransactionStatus.IDLE
        assert dbapi_connection.autocommit is False  # handed back as it was lent
    assert _count(ctx) == 2


def test_on_postgresql_a_connection_lost_mid_read_is_reported_and_not_reused(
        ctx: ServiceContext) -> None:
    """A read before the BEGIN borrows autocommit; a connection that dies meanwhile raises
    SQLAlchemy's OperationalError and is dropped, not handed back in autocommit."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("only psycopg connections are lent autocommit")
    with ctx.uow() as uow:
        connection = uow.session.connection()
        dbapi_connection: Any = connection.connection.driver_connection
        with ctx.engine.connect() as other:
            other.execute(select(func.pg_terminate_backend(dbapi_connection.info.backend_pid)))
        with pytest.raises(OperationalError):
            ENTRIES.first(connection, {"actor": "tester"})
        assert connection.invalidated
        uow.rollback()
    assert _count(ctx) == 0  # the pool still serves working connections


def test_only_the_guard_failure_itself_reads_as_stale() -> None:
    class Diag:
        def __init__(self, message: str) -> None:
            self.message_primary = message

    class Failure(Exception):
        def __init__(self, sqlstate: str, message: str) -> None:
            super().__init__(message)
            self.sqlstate = sqlstate
            self.diag = Diag(message)

    guard = 'invalid input syntax for type integer: "reviewflow-stale:2:0"'
    assert _stale_guard(Failure("22P02", guard)) == 2
    assert _stale_guard(Failure("22021", guard)) is None  # another data error, same words
    assert _stale_guard(Failure("22P02", 'invalid input syntax for type json')) is None
    assert _stale_guard(None) is None
