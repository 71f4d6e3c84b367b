"""Step writes: the instance row is written by one statement guarded by `lock_version` (as the
mapper's optimistic lock would), the completed task by one guarded by its ready state."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from app.auth.principal import Principal
from app.db.models import HumanTask, ProcessInstance
from app.services import instances, steps, tasks
from app.services.context import ServiceContext
from app.services.errors import Conflict
from tests.conftest import FIXTURES, upload

CALLER = Principal("tester", frozenset({"board_manager", "panel_member", "chair"}))


@pytest.fixture
def started(client: TestClient, ctx: ServiceContext) -> instances.InstanceState:
    upload(client, FIXTURES / "parallel_review.bpmn")
    return instances.start(ctx, CALLER, "parallel_review", None, {})


def test_a_step_bumps_lock_version_once_and_leaves_nothing_for_the_session(
        ctx: ServiceContext, started: instances.InstanceState) -> None:
    task = started.ready_tasks[0]
    state = tasks.complete(ctx, CALLER, task.id, {"a": 1})
    assert state.instance.lock_version == 2
    with ctx.uow() as uow:
        row = uow.session.get(ProcessInstance, started.instance.id)
        assert row is not None and row.lock_version == 2
        assert row.state == state.instance.state and row.updated_at == state.instance.updated_at
        done = uow.session.get(HumanTask, task.id)
        assert done is not None and (done.state, done.completed_by) == ("completed", "tester")


def test_a_row_changed_since_it_was_read_is_a_conflict(
        ctx: ServiceContext, started: instances.InstanceState) -> None:
    # Read, then write in a later transaction: on SQLite a transaction that may write holds
    # the write lock from its start, so nobody can change the row while it runs.
    with ctx.uow() as uow:
        instance = instances.get_row(uow, started.instance.id)
        workflow = steps.load_workflow(ctx, uow, instance)
    with ctx.engine.begin() as other:  # someone else saves the instance meanwhile
        other.execute(update(ProcessInstance).where(
            ProcessInstance.id == instance.id).values(lock_version=5))
    with ctx.uow() as uow:
        steps.save(uow, instance, workflow, ctx.clock.now(), "tester")
        with pytest.raises(Conflict):
            steps.commit(uow, instance.id)
    with ctx.uow() as uow:
        assert uow.session.scalar(select(ProcessInstance.lock_version).where(
            ProcessInstance.id == started.instance.id)) == 5


def test_a_task_completed_meanwhile_is_a_conflict(
        ctx: ServiceContext, started: instances.InstanceState) -> None:
    task = started.ready_tasks[0]
    with ctx.uow() as uow:
        row = uow.session.get(HumanTask, task.id)
        assert row is not None
    with ctx.engine.begin() as other:
        other.execute(update(HumanTask).where(HumanTask.id == task.id)
                      .values(state="cancelled"))
    with ctx.uow() as uow:
        uow.write(steps.TASK_DONE_WRITER, row, {"state": "completed"})
        with pytest.raises(Conflict):
            steps.commit(uow, task.instance_id)


def test_a_writer_refuses_columns_it_does_not_write(
        ctx: ServiceContext, started: instances.InstanceState) -> None:
    with ctx.uow() as uow:
        instance = instances.get_row(uow, started.instance.id)
        with pytest.raises(ValueError, match="process_version_id"):
            uow.write(steps.INSTANCE_WRITER, instance, {"process_version_id": 1})


def test_the_instance_row_is_written_before_its_tasks(
        ctx: ServiceContext, started: instances.InstanceState) -> None:
    """The order every other writer (terminate, the timer worker) locks rows in: a step that
    took its task's row lock first could deadlock with one holding the instance's."""
    updated: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # On PostgreSQL the step's writes are one statement, its UPDATEs in the order they run.
        updated.extend(re.findall(r"\bUPDATE (\w+)", statement))

    event.listen(ctx.engine, "before_cursor_execute", record)
    try:
        tasks.complete(ctx, CALLER, started.ready_tasks[0].id, {"a": 1})
    finally:
        event.remove(ctx.engine, "before_cursor_execute", record)
    assert updated == ["process_instance", "human_task"]


def test_a_step_that_ends_the_process_cancels_the_tasks_still_ready(
        client: TestClient, ctx: ServiceContext) -> None:
    """Completing a task reads its ready siblings without the session: their cancellation is
    a guarded write of its own, on the timeline, in the same transaction."""
    upload(client, FIXTURES / "withdrawal.bpmn")
    state = instances.start(ctx, CALLER, "withdrawal", None, {})
    by_element = {task.bpmn_id: task for task in state.ready_tasks}
    done = tasks.complete(ctx, CALLER, by_element["withdraw"].id, {"why": "no longer needed"})
    assert (done.instance.status, done.ready_tasks) == ("completed", [])
    with ctx.uow() as uow:
        report = uow.session.get(HumanTask, by_element["write_report"].id)
        assert report is not None
        assert (report.state, report.completed_at, report.completed_by) == (
            "cancelled", ctx.clock.now(), None)
    timeline = client.get(f"/api/v1/instances/{state.instance.id}/timeline").json()
    assert [(event["type"], event["element_id"]) for event in timeline
            if event["type"].startswith("task_")][-2:] == [
        ("task_completed", "withdraw"), ("task_cancelled", "write_report")]
