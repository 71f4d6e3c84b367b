"""A response tells the truth about the commit: a 2xx means the step was committed, a 5xx that
nothing was. A failure is injected at each point after the engine ran (the state's
serialization, each write, the commit, the building of the answer) and the database is read
afterwards: the task is still ready, the instance unchanged, no timeline event or successful
audit entry was added, and the same request then succeeds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from app.db.models import AuditEntry, Event, HumanTask, ProcessInstance
from app.engine import runner
from app.main import create_app
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, token_for, upload


class Injected(RuntimeError):
    """The fault a test injects."""


def _fail_statement(ctx: ServiceContext, fragment: str) -> Callable[[], None]:
    """Fail the first statement whose SQL holds `fragment`; returns how to stop."""
    armed = [True]

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if armed[0] and fragment in statement:
            armed[0] = False
            raise Injected(f"injected failure at {fragment}")

    event.listen(ctx.engine, "before_cursor_execute", before)
    return lambda: event.remove(ctx.engine, "before_cursor_execute", before)


def _fail_commit(ctx: ServiceContext) -> Callable[[], None]:
    armed = [True]

    def before_commit(_conn: Any) -> None:
        if armed[0]:
            armed[0] = False
            raise Injected("injected failure at the commit")

    event.listen(ctx.engine, "commit", before_commit)
    return lambda: event.remove(ctx.engine, "commit", before_commit)


def _fail_call(monkeypatch: pytest.MonkeyPatch, name: str) -> Callable[[], None]:
    def broken(*_args: Any) -> Any:
        raise Injected(f"injected failure in runner.{name}")

    monkeypatch.setattr(runner, name, broken)
    return monkeypatch.undo


POINTS = {
    "serializing the state": lambda ctx, mp: _fail_call(mp, "dump"),
    "writing the instance": lambda ctx, mp: _fail_statement(ctx, "UPDATE process_instance"),
    "writing the completed task": lambda ctx, mp: _fail_statement(ctx, "UPDATE human_task"),
    "adding the next task": lambda ctx, mp: _fail_statement(ctx, "INSERT INTO human_task"),
    "adding the timeline events": lambda ctx, mp: _fail_statement(ctx, "INSERT INTO event"),
    "adding the audit entry": lambda ctx, mp: _fail_statement(ctx, "INSERT INTO audit_log"),
    "the commit": lambda ctx, mp: _fail_commit(ctx),
    "building the answer": lambda ctx, mp: _fail_call(mp, "data"),
}


def _snapshot(ctx: ServiceContext, instance_id: str) -> dict[str, Any]:
    with ctx.uow() as uow:
        session = uow.session
        instance = session.get(ProcessInstance, instance_id)
        assert instance is not None
        return {
            "lock_version": instance.lock_version, "state": instance.state,
            "events": session.scalar(select(func.count()).select_from(Event)),
            "tasks": sorted(session.execute(select(HumanTask.bpmn_id, HumanTask.state)).all()),
            "completed": session.scalars(select(AuditEntry.status).where(
                AuditEntry.action == "complete_task", AuditEntry.status < 300)).all(),
        }


@pytest.fixture
def caller(ctx: ServiceContext) -> Iterator[TestClient]:
    """A client that gets the 500 as a response, as a real one would."""
    token = token_for(ctx, "board_manager", "reviewer", name="agency-system")
    with TestClient(create_app(context=ctx), raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.mark.parametrize("point", list(POINTS))
def test_a_failure_after_the_engine_ran_commits_nothing(
        ctx: ServiceContext, client: TestClient, caller: TestClient,
        monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    upload(client, FIXTURES / "divide.bpmn")  # completing its task adds the next one
    started = client.post("/api/v1/instances", json={"process_key": "divide"}).json()
    task = started["ready_tasks"][0]
    before = _snapshot(ctx, started["id"])
    stop = POINTS[point](ctx, monkeypatch)
    try:
        failed = caller.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"divisor": 2}})
    finally:
        stop()
    assert failed.status_code >= 500, failed.text
    assert _snapshot(ctx, started["id"]) == {**before, "events": before["events"]}
    done = caller.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"divisor": 2}})
    assert done.status_code == 200, done.text  # a 2xx: committed
    after = _snapshot(ctx, started["id"])
    assert after["lock_version"] == before["lock_version"] + 1
    assert after["completed"] == [200]
    assert after["tasks"] == [("check_result", "ready"), ("enter_divisor", "completed")]


def test_a_start_that_fails_at_the_commit_leaves_no_instance(
        ctx: ServiceContext, client: TestClient, caller: TestClient) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    stop = _fail_commit(ctx)
    try:
        failed = caller.post("/api/v1/instances", json={"process_key": "parallel_review"})
    finally:
        stop()
    assert failed.status_code == 500
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert uow.session.scalar(select(func.count()).select_from(HumanTask)) == 0
    assert caller.post("/api/v1/instances",
                       json={"process_key": "parallel_review"}).status_code == 201
