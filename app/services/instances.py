"""Start, read, list, terminate and retry process instances."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import Event, HumanTask, ProcessInstance
from app.db.uow import UnitOfWork
from app.engine import runner
from app.engine.errors import StepFailed
from app.engine.serializer import SERIALIZER_VERSION
from app.services import deployments, incidents, steps, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict, NotFound, StepError

STATUSES = ("running", "waiting", "completed", "terminated", "error")


@dataclass(frozen=True)
class InstanceState:
    instance: ProcessInstance
    data: dict[str, Any]
    ready_tasks: list[HumanTask]


def step_error(failure: StepFailed) -> StepError:
    return StepError(f"{failure.element_name or failure.element_id or 'the process'} failed: "
                     f"{failure.message}", **failure.as_dict())


def get_row(uow: UnitOfWork, instance_id: str) -> ProcessInstance:
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"no instance with id '{instance_id}'", instance_id=instance_id)
    return instance


def ready_task_rows(uow: UnitOfWork, instance_id: str) -> list[HumanTask]:
    return list(uow.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready")
        .order_by(HumanTask.created_at, HumanTask.id)))


def start_in(ctx: ServiceContext, uow: UnitOfWork, process_key: str, business_key: str | None,
             data: dict[str, Any], actor: str) -> InstanceState:
    """Start an instance inside the caller's unit of work; the caller commits."""
    now = ctx.clock.now()
    version = deployments.latest_ref(uow, process_key)
    spec, subprocess_specs = steps.spec_bundle(ctx, uow, version.id)
    workflow = runner.create(spec, subprocess_specs, data, steps.engine_env(ctx, uow))
    instance = ProcessInstance(
        id=str(uuid.uuid4()), process_version_id=version.id, process_key=version.process_key,
        version=version.version, business_key=business_key, status="running", state="",
        serializer_version=SERIALIZER_VERSION, lock_version=1, created_at=now, updated_at=now,
    )
    try:
        step = runner.run_engine(workflow)
        timeline.record(uow, instance.id, "started", now, actor, detail={
            "process_key": version.process_key, "version": version.version,
            "business_key": business_key, "fields": sorted(data)})
        steps.record_step(uow, instance, step, now, actor)
        ready = steps.save(uow, instance, workflow, now, actor)
    except StepFailed as failure:
        raise step_error(failure) from None
    return InstanceState(instance, runner.data(workflow), ready)


def start(ctx: ServiceContext, principal: Principal, process_key: str, business_key: str | None,
          data: dict[str, Any], command: steps.Command = steps.NO_COMMAND) -> InstanceState:
    policy.require(principal, "start_instance")
    with ctx.uow() as uow:
        state = start_in(ctx, uow, process_key, business_key, data, principal.name)
        steps.commit(uow, state.instance.id, audit=command.audit, claim=command.claim,
                     answer=state)
        return state


def events(ctx: ServiceContext, principal: Principal, instance_id: str, after_id: int,
           limit: int) -> list[Event]:
    """The instance's timeline, oldest first, after the event `after_id`."""
    policy.require(principal, "read_instances")
    with ctx.uow(read_only=True) as uow:
        return timeline.list_events(uow, instance_id, after_id, limit)


def get(ctx: ServiceContext, principal: Principal, instance_id: str) -> InstanceState:
    policy.require(principal, "read_instances")
    with ctx.uow(read_only=True) as uow:
        instance = get_row(uow, instance_id)
        workflow = steps.load_workflow(ctx, uow, instance)
        return InstanceState(instance, runner.data(workflow), ready_task_rows(uow, instance_id))


def _filtered(query: Select[Any], status: str | None, process_key: str | None,
              business_key: str | None) -> Select[Any]:
    if status:
        query = query.where(ProcessInstance.status == status)
    if process_key:
        query = query.where(ProcessInstance.process_key == process_key)
    if business_key:
        query = query.where(ProcessInstance.business_key == business_key)
    return query


def list_instances(ctx: ServiceContext, principal: Principal, status: str | None,
                   process_key: str | None, business_key: str | None, limit: int,
                   offset: int) -> tuple[list[ProcessInstance], int]:
    policy.require(principal, "read_instances")
    with ctx.uow(read_only=True) as uow:
        total = uow.session.scalar(_filtered(
            select(func.count()).select_from(ProcessInstance), status, process_key,
            business_key)) or 0
        rows = list(uow.session.scalars(_filtered(
            select(ProcessInstance), status, process_key, business_key)
            .order_by(ProcessInstance.created_at.desc(), ProcessInstance.id)
            .limit(limit).offset(offset)))
        return rows, total


def terminate(ctx: ServiceContext, principal: Principal, instance_id: str,
              reason: str | None, command: steps.Command = steps.NO_COMMAND) -> InstanceState:
    policy.require(principal, "terminate")
    actor = principal.name
    now = ctx.clock.now()
    with ctx.uow() as uow:
        instance = get_row(uow, instance_id)
        if instance.status in steps.FINAL_STATUSES:
            raise Conflict(f"the instance is already {instance.status}", instance_id=instance_id,
                           status=instance.status)
        workflow = steps.load_workflow(ctx, uow, instance)
        runner.cancel(workflow)
        if reason:
            timeline.record(uow, instance.id, "termination_requested", now, actor,
                            detail={"reason": reason})
        steps.save(uow, instance, workflow, now, actor, status="terminated")
        answer = InstanceState(instance, runner.data(workflow), [])
        steps.commit(uow, instance.id, audit=command.audit, claim=command.claim,
                     answer=answer)
        return answer


def fail(uow: UnitOfWork, instance: ProcessInstance, workflow: Any, failure: StepFailed,
         at: Any, actor: str | None) -> list[HumanTask]:
    """Park an instance in `error` after a step that no caller waited for failed; returns its
    ready tasks."""
    ready = steps.save(uow, instance, workflow, at, actor, status="error",
                       error=failure.as_dict())
    timeline.record(uow, instance.id, "error", at, actor, element_id=failure.element_id,
                    detail=failure.as_dict())
    return ready


def retry(ctx: ServiceContext, principal: Principal, instance_id: str,
          data: dict[str, Any] | None = None,
          command: steps.Command = steps.NO_COMMAND) -> InstanceState:
    policy.require(principal, "retry")
    actor = principal.name
    now = ctx.clock.now()
    with ctx.uow() as uow:
        instance = get_row(uow, instance_id)
        if instance.status != "error":
            raise Conflict(f"only an instance in error can be retried; this one is "
                           f"{instance.status}", instance_id=instance_id, status=instance.status)
        workflow = steps.load_workflow(ctx, uow, instance)
        try:
            step = runner.retry(workflow, data)
            timeline.record(uow, instance.id, "retried", now, actor,
                            detail={"fields": sorted(data or {})})
            steps.record_step(uow, instance, step, now, actor)
            ready = steps.save(uow, instance, workflow, now, actor)
            incidents.resolve_open(uow, instance.id, now, actor)
        except StepFailed as failure:
            uow.rollback()
            steps.record_failure(ctx, instance_id, failure, actor)
            raise step_error(failure) from None
        answer = InstanceState(instance, runner.data(workflow), ready)
        steps.commit(uow, instance.id, audit=command.audit, claim=command.claim,
                     answer=answer)
        return answer
