"""Load an instance's workflow and save the result of one step, all in the caller's transaction.

Saving writes the state, the task index, the message subscriptions and the timeline together,
so they can never disagree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.auth import audit as audit_log
from app.db.faults import is_contention
from app.db.models import HumanTask, MessageSubscription, ProcessInstance, ProcessVersion
from app.db.uow import RowWriter, UnitOfWork

__all__ = ["Command", "UnitOfWork", "commit", "load_workflow", "record_step", "save", "spec_bundle"]
from app.engine import runner
from app.engine.errors import StateUnreadable, StepFailed
from app.engine.scripting import EngineEnv
from app.engine.serializer import SERIALIZER_VERSION
from app.engine.spec_cache import SpecBundle
from app.services import idempotency, operators, storable, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict, Unreadable

FINAL_STATUSES = frozenset({"completed", "terminated"})
INSTANCE_WRITER = RowWriter(ProcessInstance, (
    "state", "serializer_version", "status", "updated_at", "error", "next_timer_at",
    "waiting_messages", "ended_at"), guard="lock_version", version="lock_version")
"""What a step changes on its instance, written as one statement guarded by `lock_version`."""
TASK_DONE_WRITER = RowWriter(HumanTask, ("state", "completed_at", "completed_by"), guard="state")
"""A task leaving the ready state (completed or cancelled), guarded by that state: a second
completion finds no row."""


def spec_bundle(ctx: ServiceContext, uow: UnitOfWork, version_id: int) -> SpecBundle:
    def load_json() -> str:
        version = uow.session.get(ProcessVersion, version_id)
        if version is None:
            raise LookupError(f"process version {version_id} is missing")
        return version.spec_json

    return ctx.specs.spec(version_id, load_json)


def engine_env(ctx: ServiceContext, uow: UnitOfWork) -> EngineEnv:
    """The context's engine settings, with the query operators reading this transaction."""
    queries = {name: functools.partial(query, uow, now=ctx.clock.now())
               for name, query in operators.QUERIES.items()}
    return dataclasses.replace(ctx.engine_env, queries=queries)


def load_workflow(ctx: ServiceContext, uow: UnitOfWork,
                  instance: ProcessInstance) -> runner.Workflow:
    spec, subprocess_specs = spec_bundle(ctx, uow, instance.process_version_id)
    try:
        return runner.load(instance.state, spec, subprocess_specs, engine_env(ctx, uow))
    except StateUnreadable as exc:
        raise Unreadable(f"the instance's saved state cannot be read ({exc}); an operator must "
                         f"restore it from a backup", instance_id=instance.id) from None


def record_step(uow: UnitOfWork, instance: ProcessInstance, step: runner.Step,
                at: dt.datetime, actor: str | None) -> None:
    """Put what the engine did on the timeline and apply its service-task calls, in order."""
    for item in step.items:
        if isinstance(item, runner.OperatorCall):
            operators.apply(uow, instance, item, at, actor)
        else:
            timeline.record(uow, instance.id, item.kind, at, actor, element_id=item.element_id,
                            detail={"element_name": item.element_name, **item.detail})


def save(uow: UnitOfWork, instance: ProcessInstance, workflow: runner.Workflow, at: dt.datetime,
         actor: str | None, status: str | None = None,
         indexed: Sequence[HumanTask] | None = None,
         error: dict[str, Any] | None = None) -> list[HumanTask]:
    """Write state, status, task index and subscriptions; add the events that follow from them.

    `indexed`, when the caller has read them already, are the instance's task index rows that
    were ready when the step began. `error`, with status `error`, is why the instance stopped;
    written with the rest. Returns the instance's ready tasks as they now stand, so callers
    need not read them again.
    """
    previous_status = instance.status
    ready_now: list[runner.ReadyTask] | None = None
    if status is None:
        new_status, ready_now = runner.status_and_ready(workflow)
    else:
        new_status = status
    waiting = new_status not in FINAL_STATUSES and new_status != "error"
    state = runner.dump(workflow)
    storable.check_dumped(state, lambda: runner.data(workflow), "data")
    values: dict[str, Any] = {
        "state": state, "serializer_version": SERIALIZER_VERSION,
        "status": new_status, "updated_at": at,
        "next_timer_at": runner.next_timer_at(workflow) if waiting else None,
        "waiting_messages": _sync_subscriptions(uow, instance, workflow, new_status),
    }
    if new_status != "error":
        values["error"] = None
    elif error is not None:
        values["error"] = error
    ended = new_status in FINAL_STATUSES and previous_status not in FINAL_STATUSES
    if ended:
        values["ended_at"] = at
    if _is_new(instance):
        for name, value in values.items():
            setattr(instance, name, value)
        uow.append(ProcessInstance, {attribute.key: getattr(instance, attribute.key)
                                     for attribute in _INSTANCE_COLUMNS})
    else:
        uow.write(INSTANCE_WRITER, instance, values)
    ready = _sync_tasks(uow, instance, workflow, at, actor, indexed, ready_now)
    if ended:
        timeline.record(uow, instance.id, new_status, at, actor)
    return ready


def _sync_tasks(uow: UnitOfWork, instance: ProcessInstance, workflow: runner.Workflow,
                at: dt.datetime, actor: str | None,
                known: Sequence[HumanTask] | None,
                ready_now: list[runner.ReadyTask] | None) -> list[HumanTask]:
    if instance.status in FINAL_STATUSES:
        ready_now = []
    elif ready_now is None:
        ready_now = runner.ready_tasks(workflow)
    ready = {task.id: task for task in ready_now}
    if _is_new(instance):
        indexed: dict[str, HumanTask] = {}
    elif known is not None:
        indexed = {row.id: row for row in known}
    else:
        indexed = {row.id: row for row in uow.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id,
                                    HumanTask.state == "ready"))}
    for task_id, row in indexed.items():
        if row.state == "ready" and task_id not in ready:
            uow.write(TASK_DONE_WRITER, row, {"state": "cancelled", "completed_at": at})
            timeline.record(uow, instance.id, "task_cancelled", at, actor,
                            element_id=row.bpmn_id, task_id=task_id)
    current = [row for task_id, row in indexed.items() if row.state == "ready"
               and task_id in ready]
    for task_id, task in ready.items():
        if task_id in indexed:
            continue
        values = {
            "id": task_id, "instance_id": instance.id, "process_key": instance.process_key,
            "business_key": instance.business_key, "bpmn_id": task.bpmn_id,
            "title": task.title, "lane": task.lane, "agency": task.agency, "state": "ready",
            "assignee": None, "form_name": task.form, "instructions": task.instructions,
            "due_at": task.due_at, "created_at": at, "completed_at": None,
            "completed_by": None, "element_process": task.process,
        }
        uow.append(HumanTask, values)
        current.append(HumanTask(**values))  # the caller's answer; not in the session
        timeline.record(uow, instance.id, "task_ready", at, actor, element_id=task.bpmn_id,
                        task_id=task_id, detail={
                            "title": task.title, "lane": task.lane, "agency": task.agency,
                            "due_at": task.due_at.isoformat() if task.due_at else None})
    return sorted(current, key=lambda row: (row.created_at, row.id))


_INSTANCE_COLUMNS = tuple(sa_inspect(ProcessInstance).column_attrs)


def _is_new(instance: ProcessInstance) -> bool:
    """Not saved yet: a new instance is never added to the session; `save` appends its row."""
    state = sa_inspect(instance)
    return bool(state.transient or state.pending)


def _sync_subscriptions(uow: UnitOfWork, instance: ProcessInstance, workflow: runner.Workflow,
                        status: str) -> list[str]:
    """Keep the message subscriptions; returns the names for `waiting_messages`, which mirrors
    them so most steps skip SQL."""
    wanted = set() if status in FINAL_STATUSES else runner.waiting_messages(workflow)
    if instance.waiting_messages is not None or _is_new(instance):
        existing = set(instance.waiting_messages or [])
    else:  # saved before waiting_messages existed
        existing = set(uow.session.scalars(select(MessageSubscription.message_name).where(
            MessageSubscription.instance_id == instance.id)))
    if wanted != existing:
        gone = existing - wanted
        if gone:
            uow.session.execute(delete(MessageSubscription).where(
                MessageSubscription.instance_id == instance.id,
                MessageSubscription.message_name.in_(gone)))
        for name in sorted(wanted - existing):
            uow.append(MessageSubscription, {"instance_id": instance.id, "message_name": name})
    return sorted(wanted)


@dataclass(frozen=True)
class Command:
    """What the request behind a step commits with it: its audit entry (so the log never
    misses a committed step) and its idempotency key's claim. A use case that commits a step
    takes one and passes its parts to `commit`; without them (the default) it commits the
    step alone."""

    audit: audit_log.CommandEntry | None = None
    claim: idempotency.Claim | None = None


NO_COMMAND = Command()


def commit(uow: UnitOfWork, instance_id: str, *, audit: audit_log.CommandEntry | None = None,
           claim: idempotency.Claim | None = None, answer: object = None) -> None:
    """Commit, with the request's audit entry and idempotency key when given; a concurrent
    change to the same instance becomes a `Conflict`. `answer`, the use case's result (built
    before the commit), is kept with the key for replays, in the same transaction."""
    if claim is not None:
        idempotency.join(uow, claim, instance_id, answer)  # first: a key used meanwhile stops it
    if audit is not None and not (audit.committed or audit.joined):
        audit_log.join(uow, audit, instance_id)
        uow.after_commit(functools.partial(setattr, audit, "committed", True))
    try:
        uow.commit()
    except (StaleDataError, IntegrityError):
        _failed(uow, audit)
        raise Conflict("the instance was changed by someone else at the same moment; "
                       "reload it and try again", instance_id=instance_id) from None
    except OperationalError as exc:
        _failed(uow, audit)
        if is_contention(exc):
            raise Conflict("the instance is being changed by someone else; try again",
                           instance_id=instance_id) from None
        raise


def _failed(uow: UnitOfWork, entry: audit_log.CommandEntry | None) -> None:
    uow.rollback()
    if entry is not None:
        entry.joined = False


def record_failure(ctx: ServiceContext, instance_id: str, failure: StepFailed,
                   actor: str | None, task_id: str | None = None) -> None:
    """Record a failed step on the timeline in a transaction of its own."""
    with ctx.uow() as uow:
        timeline.record(uow, instance_id, "error", ctx.clock.now(), actor,
                        element_id=failure.element_id, task_id=task_id, detail=failure.as_dict())
        uow.commit()
