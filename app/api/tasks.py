"""User tasks: the index an inbox reads, one task's detail, and completion."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.params import IsoDateTime
from app.api.schemas import (
    ERROR_RESPONSES,
    MAX_INT,
    InstanceDetail,
    Page,
    TaskSummary,
    instance_detail,
)
from app.services import tasks
from app.services.errors import Invalid

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], dependencies=[CHECKED_INPUT])

IdPath = Path(min_length=1, max_length=36, description="The task id")


class TaskDetail(TaskSummary):
    instructions: str | None
    form_schema: dict[str, Any] | None
    data: dict[str, Any]


class TaskComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(default_factory=dict)


@router.get("", response_model=Page[TaskSummary])
async def list_tasks(
    ctx: ContextDep,
    principal: PrincipalDep,
    audit: AuditDep,
    state: Literal["ready", "completed", "cancelled"] | None = None,
    lane: str | None = Query(None, max_length=100),
    instance_id: str | None = Query(None, max_length=36),
    business_key: str | None = Query(None, max_length=255),
    process_key: str | None = Query(None, max_length=255),
    due_before: IsoDateTime | None = None,
    due_after: IsoDateTime | None = None,
    overdue: bool | None = Query(None, description="true: only ready tasks past their due time"),
    sort: Literal["due_at", "-due_at", "created_at", "-created_at", "title"] = "created_at",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_INT),
) -> Page[TaskSummary]:
    for name, value in (("due_before", due_before), ("due_after", due_after)):
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone, such as Z or +00:00", field=name)
    filters = tasks.TaskFilter(state=state, lane=lane, instance_id=instance_id,
                               business_key=business_key, process_key=process_key,
                               due_before=due_before, due_after=due_after,
                               overdue_at=ctx.clock.now() if overdue else None)
    rows, total = await serving.answer(
        audit, lambda: tasks.list_tasks(ctx, principal, filters, sort, limit, offset))
    return Page[TaskSummary](items=[TaskSummary.model_validate(r) for r in rows], total=total,
                             limit=limit, offset=offset)


@router.get("/{task_id}", response_model=TaskDetail, responses=ERROR_RESPONSES)
async def get_task(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                   task_id: str = IdPath) -> TaskDetail:
    """A task with its instructions, its form's JSON Schema and the data the form needs."""
    found = await serving.answer(audit, lambda: tasks.get(ctx, principal, task_id))
    return TaskDetail(**TaskSummary.model_validate(found.task).model_dump(),
                      instructions=found.task.instructions, form_schema=found.form_schema,
                      data=found.data)


@router.post("/{task_id}/complete", response_model=InstanceDetail, responses=ERROR_RESPONSES)
async def complete_task(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                        body: TaskComplete, task_id: str = IdPath) -> InstanceDetail:
    """Submit a task's form; returns the instance's new state and its next ready tasks."""
    return await serving.command(audit, lambda command: instance_detail(
        tasks.complete(ctx, principal, task_id, body.data, command)))


class TaskAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=200, description="The user to give the task to")


@router.post("/{task_id}/claim", response_model=TaskSummary, responses=ERROR_RESPONSES)
async def claim_task(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                     task_id: str = IdPath) -> TaskSummary:
    """Take the task: from now on only you can complete it."""
    return await serving.answer(audit, lambda: TaskSummary.model_validate(
        tasks.claim(ctx, principal, task_id)))


@router.post("/{task_id}/unclaim", response_model=TaskSummary, responses=ERROR_RESPONSES)
async def unclaim_task(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                       task_id: str = IdPath) -> TaskSummary:
    """Give the task back to everyone who holds its role."""
    return await serving.answer(audit, lambda: TaskSummary.model_validate(
        tasks.unclaim(ctx, principal, task_id)))


@router.post("/{task_id}/assign", response_model=TaskSummary, responses=ERROR_RESPONSES)
async def assign_task(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                      body: TaskAssign, task_id: str = IdPath) -> TaskSummary:
    """A board manager gives the task to a person who holds its role."""
    return await serving.answer(audit, lambda: TaskSummary.model_validate(
        tasks.assign(ctx, principal, task_id, body.user)))
