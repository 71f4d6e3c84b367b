"""What the unit of work promises about writes: a command's rows commit together in one
transaction or not at all, and a guarded write on a row changed since it was read fails (a
`StaleDataError` naming the row, a 409 through the API) with nothing of the command kept."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import exc as orm_exc
from sqlalchemy.orm import object_session

from app.auth import audit
from app.auth.principal import Principal
from app.db.models import AuditEntry, Event, HumanTask, ProcessInstance
from app.db.uow import detached
from app.services.context import ServiceContext
from app.services.steps import TASK_DONE_WRITER
from tests.conftest import FIXTURES, upload

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
CALLER = Principal("tester", frozenset({"chair"}), "health")


def _entry(action: str, **detail: Any) -> dict[str, Any]:
    return audit.entry(AT, CALLER, action, "POST", "/api/v1/x", 200, "instance", None, detail)


def _task(task_id: str, instance_id: str) -> dict[str, Any]:
    return {"id": task_id, "instance_id": instance_id, "process_key": "p", "business_key": None,
            "bpmn_id": "b", "title": "t", "lane": None, "agency": None, "state": "ready",
            "assignee": None, "form_name": None, "instructions": None, "due_at": None,
            "created_at": AT, "completed_at": None, "completed_by": None}


def _actions(ctx: ServiceContext) -> list[str]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.mark.parametrize("count", [1, 3, 45])
def test_appended_rows_are_stored_as_given(ctx: ServiceContext, count: int) -> None:
    """Rows of one table with different sets of columns, JSON null and aware datetimes."""
    actions = [f"action {number}" for number in range(count)]
    with ctx.uow() as uow:
        for number, action in enumerate(actions):
            row = _entry(action, note=action)
            if number % 2:
                row["roles"] = None
            if number % 3 == 2:
                del row["agency"]  # a row with fewer columns: the column's default
            uow.append(AuditEntry, row)
        uow.commit()
    with ctx.uow() as uow:
        rows = {row.action: row for row in uow.session.scalars(select(AuditEntry))}
    assert sorted(rows) == sorted(actions)
    for number, action in enumerate(actions):
        stored = rows[action]
        assert (stored.detail, stored.at, stored.roles) == (
            {"note": action}, AT, None if number % 2 else ["chair"])
        assert stored.at.utcoffset() == dt.timedelta(0)
        assert stored.agency == (None if number % 3 == 2 else "health")


def test_appended_rows_of_several_tables_commit_together_or_not_at_all(
        ctx: ServiceContext) -> None:
    with ctx.uow() as uow:
        uow.append(AuditEntry, _entry("kept"))
        uow.commit()
    with ctx.uow() as uow:
        uow.append(AuditEntry, _entry("lost"))
        uow.append(HumanTask, _task("t-1", "missing"))  # no such instance: a foreign key fails
        with pytest.raises(IntegrityError) as failure:
            uow.commit()
        assert "human_task" in str(failure.value.statement)
        uow.rollback()
        uow.append(AuditEntry, _entry("after"))  # the unit is usable again after a rollback
        uow.commit()
    assert _actions(ctx) == ["kept", "after"]


def test_a_guarded_write_that_matches_no_row_is_stale_and_keeps_nothing(
        ctx: ServiceContext) -> None:
    ghost = detached(HumanTask, [
        "t-ghost", "i-ghost", "p", None, "b", "t", None, None, "ready", None, None, None, None,
        AT, None, None, None, None])
    with ctx.uow() as uow:
        uow.append(AuditEntry, _entry("with the ghost"))
        uow.write(TASK_DONE_WRITER, ghost, {"state": "completed"})
        with pytest.raises(orm_exc.StaleDataError, match="human_task row t-ghost"):
            uow.commit()
        uow.rollback()
    assert _actions(ctx) == []


def test_rows_read_with_core_become_detached_objects(ctx: ServiceContext) -> None:
    with ctx.uow() as uow:
        uow.session.add(AuditEntry(**_entry("one")))
        uow.commit()
    with ctx.uow() as uow:
        row = uow.session.connection().execute(select(*AuditEntry.__table__.columns)).first()
        assert row is not None
        entry = detached(AuditEntry, row)
        assert object_session(entry) is None
        assert (entry.action, entry.at, entry.roles) == ("one", AT, ["chair"])
        assert uow.session.merge(entry, load=False).id == entry.id  # it has its identity
    with pytest.raises(ValueError):
        detached(AuditEntry, row[:-1])  # a value for every column, in the table's order


@pytest.fixture
def started(client: TestClient) -> dict[str, Any]:
    upload(client, FIXTURES / "parallel_review.bpmn")
    response = client.post("/api/v1/instances", json={"process_key": "parallel_review"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def transactions(ctx: ServiceContext) -> Iterator[list[str]]:
    """What the engine's connections do: "begin", "commit", "rollback" and each write."""
    seen: list[str] = []

    def write(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = re.match(r"\s*(INSERT INTO|UPDATE|DELETE FROM) (\w+)", statement)
        if found:
            seen.append(f"{found.group(1).split()[0]} {found.group(2)}")

    def mark(name: str) -> Callable[[Any], None]:
        return lambda _conn: seen.append(name)

    listeners: list[tuple[str, Callable[..., None]]] = [
        ("begin", mark("begin")), ("commit", mark("commit")), ("rollback", mark("rollback")),
        ("before_cursor_execute", write)]
    for name, listener in listeners:
        event.listen(ctx.engine, name, listener)
    yield seen
    for name, listener in listeners:
        event.remove(ctx.engine, name, listener)


def _committed_transactions(seen: list[str]) -> list[list[str]]:
    """The writes of each transaction that committed (transactions that wrote nothing left
    out)."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for item in seen:
        if item == "begin":
            current = []
        elif item in ("commit", "rollback"):
            if item == "commit" and current:
                found.append(current)
            current = None
        else:
            assert current is not None, f"{item} ran outside a transaction"
            current.append(item)
    return found


def test_a_step_commits_its_writes_in_one_transaction(
        client: TestClient, started: dict[str, Any], transactions: list[str]) -> None:
    task = started["ready_tasks"][0]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"a": 1}})
    assert response.status_code == 200, response.text
    (writes,) = _committed_transactions(transactions)
    assert writes[:2] == ["UPDATE process_instance", "UPDATE human_task"]  # parents first
    assert {"INSERT event", "INSERT audit_log"} <= set(writes)


def test_a_step_on_an_instance_changed_meanwhile_is_a_409_that_keeps_nothing(
        client: TestClient, ctx: ServiceContext, started: dict[str, Any],
        transactions: list[str]) -> None:
    """Someone saves the instance between the step's read and its write: the guarded UPDATE
    matches no row, the answer is a 409, and the task is still there to complete."""
    armed = [True]

    def saved_meanwhile(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if armed[0] and statement.lstrip().startswith("UPDATE process_instance"):
            armed[0] = False  # (on the step's own connection: SQLite's write lock is its)
            conn.execute(update(ProcessInstance).where(ProcessInstance.id == started["id"])
                         .values(lock_version=ProcessInstance.lock_version + 1))

    task = started["ready_tasks"][0]
    event.listen(ctx.engine, "before_cursor_execute", saved_meanwhile)
    try:
        response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    finally:
        event.remove(ctx.engine, "before_cursor_execute", saved_meanwhile)
    assert response.status_code == 409, response.text
    assert "changed by someone else" in response.json()["detail"]
    assert not any("UPDATE human_task" in writes
                   for writes in _committed_transactions(transactions))
    with ctx.uow() as uow:
        instance = uow.session.get(ProcessInstance, started["id"])
        assert instance is not None and instance.lock_version == 1
        done = uow.session.get(HumanTask, task["id"])
        assert done is not None and done.state == "ready"
        assert uow.session.scalar(select(func.count()).select_from(Event).where(
            Event.type == "task_completed")) == 0
    retry = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert retry.status_code == 200, retry.text
