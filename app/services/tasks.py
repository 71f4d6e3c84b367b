"""Read the task index and complete user tasks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from app.db.models import HumanTask, ProcessInstance, ProcessVersion
from app.engine import runner
from app.engine.errors import StepFailed, TaskNotReady, UnknownTask
from app.services import steps, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound
from app.services.forms import validate_submission
from app.services.instances import InstanceState, get_row, ready_task_rows, step_error

TASK_STATES = ("ready", "completed", "cancelled")
SORTS = {
    "due_at": (HumanTask.due_at.asc().nulls_last(), HumanTask.id.asc()),
    "-due_at": (HumanTask.due_at.desc().nulls_last(), HumanTask.id.desc()),
    "created_at": (HumanTask.created_at.asc(), HumanTask.id.asc()),
    "-created_at": (HumanTask.created_at.desc(), HumanTask.id.desc()),
    "title": (HumanTask.title.asc(), HumanTask.id.asc()),
}


@dataclass(frozen=True)
class TaskFilter:
    state: str | None = None
    lane: str | None = None
    instance_id: str | None = None
    business_key: str | None = None
    process_key: str | None = None
    due_before: dt.datetime | None = None
    due_after: dt.datetime | None = None
    overdue_at: dt.datetime | None = None
    """When set, only ready tasks whose due time is before this moment."""

    def apply(self, query: Select[Any]) -> Select[Any]:
        for column, value in ((HumanTask.state, self.state), (HumanTask.lane, self.lane),
                              (HumanTask.instance_id, self.instance_id),
                              (HumanTask.business_key, self.business_key),
                              (HumanTask.process_key, self.process_key)):
            if value is not None:
                query = query.where(column == value)
        if self.due_before is not None:
            query = query.where(HumanTask.due_at < self.due_before)
        if self.due_after is not None:
            query = query.where(HumanTask.due_at > self.due_after)
        if self.overdue_at is not None:
            query = query.where(HumanTask.state == "ready", HumanTask.due_at < self.overdue_at)
        return query


@dataclass(frozen=True)
class TaskDetail:
    task: HumanTask
    form_schema: dict[str, Any] | None
    data: dict[str, Any]


def list_tasks(ctx: ServiceContext, filters: TaskFilter, sort: str, limit: int,
               offset: int) -> tuple[list[HumanTask], int]:
    with ctx.uow() as uow:
        total = uow.session.scalar(filters.apply(select(func.count()).select_from(HumanTask))) or 0
        rows = list(uow.session.scalars(
            filters.apply(select(HumanTask)).order_by(*SORTS[sort]).limit(limit).offset(offset)))
        return rows, total


def _row(ctx: ServiceContext, uow: Any, task_id: str) -> HumanTask:
    task = uow.session.get(HumanTask, task_id)
    if task is None:
        raise NotFound(f"no task with id '{task_id}'", task_id=task_id)
    return task


def _form(uow: Any, instance: ProcessInstance, form_name: str | None) -> dict[str, Any] | None:
    if not form_name:
        return None
    forms = uow.session.scalar(select(ProcessVersion.forms).where(
        ProcessVersion.id == instance.process_version_id)) or {}
    return forms.get(form_name)


def get(ctx: ServiceContext, task_id: str) -> TaskDetail:
    with ctx.uow() as uow:
        task = _row(ctx, uow, task_id)
        instance = get_row(uow, task.instance_id)
        data: dict[str, Any] = {}
        if task.state == "ready":
            workflow = steps.load_workflow(ctx, uow, instance)
            try:
                data = dict(runner.find_task(workflow, task_id).data)
            except UnknownTask:
                raise NotFound(f"task '{task_id}' is indexed but missing from its instance",
                               task_id=task_id) from None
        return TaskDetail(task, _form(uow, instance, task.form_name), data)


def complete(ctx: ServiceContext, task_id: str, data: dict[str, Any],
             actor: str) -> InstanceState:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        task = _row(ctx, uow, task_id)
        if task.state != "ready":
            raise Conflict(f"the task is {task.state}, not ready", task_id=task_id,
                           state=task.state)
        instance = get_row(uow, task.instance_id)
        schema = _form(uow, instance, task.form_name)
        if schema is not None:
            errors = validate_submission(schema, data)
            if errors:
                raise Invalid("the form has errors", errors=errors)
        workflow = steps.load_workflow(ctx, uow, instance)
        try:
            step = runner.complete_task(workflow, task_id, data)
            task.state = "completed"
            task.completed_at = now
            task.completed_by = actor
            timeline.record(uow, instance.id, "task_completed", now, actor,
                            element_id=task.bpmn_id, task_id=task_id,
                            detail={"title": task.title, "fields": sorted(data)})
            steps.record_step(uow, instance, step, now, actor)
            steps.save(uow, instance, workflow, now, actor)
        except (TaskNotReady, UnknownTask):
            raise Conflict("the task is no longer ready", task_id=task_id) from None
        except StepFailed as failure:
            uow.rollback()
            steps.record_failure(ctx, instance.id, failure, actor, task_id=task_id)
            raise step_error(failure) from None
        steps.commit(uow, instance.id)
        return InstanceState(instance, runner.data(workflow), ready_task_rows(uow, instance.id))
