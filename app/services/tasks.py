"""Read the task index and complete user tasks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.sql.elements import UnaryExpression

from app.auth import policy, users
from app.auth.principal import Principal
from app.db.models import AppUser, HumanTask, ProcessInstance, ProcessVersion
from app.db.uow import UnitOfWork, detached
from app.engine import runner
from app.engine.errors import StepFailed, TaskNotReady, UnknownTask
from app.services import agencies, steps, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound
from app.services.form_keywords import FormContext, with_agency_choices
from app.services.forms import validate_submission, validator_for
from app.services.instances import InstanceState, get_row, step_error

TASK_STATES = ("ready", "completed", "cancelled")
SORTS: dict[str, tuple[UnaryExpression[Any], ...]] = {
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


def list_tasks(ctx: ServiceContext, principal: Principal, filters: TaskFilter, sort: str,
               limit: int, offset: int) -> tuple[list[HumanTask], int]:
    """The tasks matching the filters that the principal may see."""
    policy.require(principal, "read_tasks")
    visible = policy.visible_tasks(principal)
    with ctx.uow(read_only=True) as uow:
        total = uow.session.scalar(filters.apply(
            select(func.count()).select_from(HumanTask).where(visible))) or 0
        rows = list(uow.session.scalars(filters.apply(select(HumanTask).where(visible))
                                        .order_by(*SORTS[sort]).limit(limit).offset(offset)))
        return rows, total


def _row(ctx: ServiceContext, uow: UnitOfWork, task_id: str) -> HumanTask:
    task = uow.session.get(HumanTask, task_id)
    if task is None:
        message, detail = policy.missing_task(task_id)
        raise NotFound(message, **detail)
    return task


def _form(ctx: ServiceContext, uow: UnitOfWork, instance: ProcessInstance,
          form_name: str | None) -> tuple[dict[str, Any], Any] | None:
    """A version's form and its compiled validator, cached: versions never change."""
    if not form_name:
        return None

    def load() -> tuple[dict[str, Any], Any] | None:
        forms = uow.session.scalar(select(ProcessVersion.forms).where(
            ProcessVersion.id == instance.process_version_id)) or {}
        schema = forms.get(form_name)
        return (schema, validator_for(schema)) if schema is not None else None

    found: tuple[dict[str, Any], Any] | None = ctx.forms.get(
        (instance.process_version_id, form_name), load)
    return found


def get(ctx: ServiceContext, principal: Principal, task_id: str) -> TaskDetail:
    policy.require(principal, "read_tasks")
    with ctx.uow(read_only=True) as uow:
        task = _row(ctx, uow, task_id)
        policy.check_task_read(principal, task)
        instance = get_row(uow, task.instance_id)
        form = _form(ctx, uow, instance, task.form_name)
        schema = form[0] if form else None
        data: dict[str, Any] = {}
        if task.state == "ready":  # only what the form and the BPMN's `reads` name
            workflow = steps.load_workflow(ctx, uow, instance)
            try:
                found_task = runner.find_task(workflow, task_id)
            except UnknownTask:
                raise NotFound(f"task '{task_id}' is indexed but missing from its instance",
                               task_id=task_id) from None
            data = policy.task_data(principal, schema, runner.reads(found_task),
                                    found_task.data)
        found, _problem = agencies.register_or_problem(ctx)
        if schema is not None and found is not None:  # agency fields offer the register
            schema = with_agency_choices(schema, found)
        return TaskDetail(task, schema, data)


_TASK_COLUMNS = tuple(HumanTask.__table__.columns)
_TASK_AND_READY_SIBLINGS = (
    select(*_TASK_COLUMNS, *ProcessInstance.__table__.columns)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .where(HumanTask.instance_id == select(HumanTask.instance_id)
           .where(HumanTask.id == bindparam("task_id")).scalar_subquery(),
           or_(HumanTask.state == "ready", HumanTask.id == bindparam("task_id"))))
"""A task, its instance and the instance's other ready tasks, in one round trip (every
completion runs it: a Core query, its compilation cached by SQLAlchemy)."""


def _task_and_ready_siblings(uow: UnitOfWork,
                             task_id: str) -> tuple[list[HumanTask], ProcessInstance | None]:
    """The instance's ready tasks and the task `task_id` (whatever its state), and their
    instance; detached, so the step writes their changes with `UnitOfWork.write`."""
    rows = uow.session.connection().execute(_TASK_AND_READY_SIBLINGS,
                                            {"task_id": task_id}).all()
    if not rows:
        return [], None
    split = len(_TASK_COLUMNS)
    return ([detached(HumanTask, row[:split]) for row in rows],
            detached(ProcessInstance, rows[0][split:]))


def _validate(ctx: ServiceContext, uow: UnitOfWork, form: tuple[dict[str, Any], Any],
              data: dict[str, Any], task_data: dict[str, Any], now: dt.datetime) -> None:
    """The form's schema and the Board's keywords, against today and the task's data."""
    found, problem = agencies.register_or_problem(ctx)
    context = FormContext(today=now.date(), data=task_data, agencies=found,
                          can_act=lambda agency: agencies.has_lead(uow.session, agency, now),
                          register_problem=problem,
                          time_budget=ctx.settings.form_validation_seconds)
    errors = validate_submission(form[0], data, form[1], context)
    if errors:
        raise Invalid("the form has errors: " + ", ".join(sorted({e["field"] for e in errors})),
                      errors=errors)


def complete(ctx: ServiceContext, principal: Principal, task_id: str,
             data: dict[str, Any], command: steps.Command = steps.NO_COMMAND) -> InstanceState:
    actor = principal.name
    now = ctx.clock.now()
    policy.require(principal, "work_tasks")  # by role before the lookup: says nothing of it
    with ctx.uow() as uow:
        rows, instance = _task_and_ready_siblings(uow, task_id)
        task = next((row for row in rows if row.id == task_id), None)
        if task is None or instance is None:
            message, detail = policy.missing_task(task_id)
            raise NotFound(message, **detail)
        policy.check_task_read(principal, task)
        if task.state != "ready":
            raise Conflict(f"the task is {task.state}, not ready", task_id=task_id,
                           state=task.state)
        policy.check_task_work(principal, task)
        form = _form(ctx, uow, instance, task.form_name)
        workflow = steps.load_workflow(ctx, uow, instance)
        try:
            if form is not None:  # before anything is written: a 422 leaves no trace
                _validate(ctx, uow, form, data, runner.find_task(workflow, task_id).data, now)
            step = runner.complete_task(workflow, task_id, data)
            uow.write(steps.TASK_DONE_WRITER, task, {
                "state": "completed", "completed_at": now, "completed_by": actor})
            timeline.record(uow, instance.id, "task_completed", now, actor,
                            element_id=task.bpmn_id, task_id=task_id,
                            detail={"title": task.title, "fields": sorted(data)})
            steps.record_step(uow, instance, step, now, actor)
            ready = steps.save(uow, instance, workflow, now, actor, indexed=rows)
        except (TaskNotReady, UnknownTask):
            raise Conflict("the task is no longer ready", task_id=task_id) from None
        except StepFailed as failure:
            uow.rollback()
            steps.record_failure(ctx, instance.id, failure, actor, task_id=task_id)
            raise step_error(failure) from None
        # the caller learns what it may: the process data only if it may read instances
        answer = InstanceState(
            instance, runner.data(workflow) if policy.can_read_instance_data(principal) else {},
            [row for row in ready if policy.can_see_task(principal, row)])
        steps.commit(uow, instance.id, audit=command.audit, claim=command.claim,
                     answer=answer)
        return answer


def _ready_row(ctx: ServiceContext, uow: Any, principal: Principal, task_id: str) -> HumanTask:
    task = _row(ctx, uow, task_id)
    policy.check_task_read(principal, task)
    if task.state != "ready":
        raise Conflict(f"the task is {task.state}, not ready", task_id=task_id, state=task.state)
    return task


def _set_assignee(ctx: ServiceContext, uow: Any, task: HumanTask, assignee: str | None,
                  kind: str, actor: str) -> HumanTask:
    task.assignee = assignee
    timeline.record(uow, task.instance_id, kind, ctx.clock.now(), actor,
                    element_id=task.bpmn_id, task_id=task.id, detail={"assignee": assignee})
    uow.commit()
    return task


def claim(ctx: ServiceContext, principal: Principal, task_id: str) -> HumanTask:
    """Take a ready task: from now on only the claimant can complete it."""
    policy.require(principal, "work_tasks")
    with ctx.uow() as uow:
        task = _ready_row(ctx, uow, principal, task_id)
        policy.check_task_work(principal, task)
        return _set_assignee(ctx, uow, task, principal.name, "task_claimed", principal.name)


def unclaim(ctx: ServiceContext, principal: Principal, task_id: str) -> HumanTask:
    policy.require(principal, "work_tasks")
    with ctx.uow() as uow:
        task = _ready_row(ctx, uow, principal, task_id)
        if task.assignee is None:
            raise Conflict("the task is not claimed", task_id=task_id)
        policy.check_unclaim(principal, task)
        return _set_assignee(ctx, uow, task, None, "task_unclaimed", principal.name)


def assign(ctx: ServiceContext, principal: Principal, task_id: str, user: str) -> HumanTask:
    """A board manager gives a task to someone who holds its lane's role."""
    policy.require(principal, "assign")
    with ctx.uow() as uow:
        task = _ready_row(ctx, uow, principal, task_id)
        person = uow.session.scalars(select(AppUser).where(AppUser.name == user)).first()
        if person is None or not person.active:
            raise Invalid(f"no active user called '{user}'", field="user")
        if not policy.holds_lane(users.principal_of(person), task.lane, task.agency):
            raise Invalid(f"{user} does not hold the {task.lane} role this task needs"
                          + (f" for {task.agency}" if task.agency else ""), field="user")
        return _set_assignee(ctx, uow, task, person.name, "task_assigned", principal.name)


def save_draft(ctx: ServiceContext, principal: Principal, task_id: str,
               data: dict[str, Any]) -> HumanTask:
    """Keep answers typed so far; only whoever may complete the task may save them."""
    policy.require(principal, "work_tasks")
    with ctx.uow() as uow:
        task = _ready_row(ctx, uow, principal, task_id)
        policy.check_task_work(principal, task)
        task.draft = data
        uow.commit()
        return task
