"""Fire due timers: claim one due instance at a time, run it on, save it, in one transaction.

On PostgreSQL the claim is `SELECT ... FOR UPDATE SKIP LOCKED`, so any number of workers share
the due instances and none is fired twice; a worker that dies mid-step releases its claim with its
transaction. On SQLite the claim is a plain select, which is safe for one worker beside the API.
Instances are claimed in due order, so after downtime the oldest timers fire first.

A step that fails parks its instance in `error`. Any other exception on one instance (a corrupt
state, a bug) becomes an incident on it and backs it off (`app.services.incidents`); the others
still fire. Only a database that cannot be reached stops the call.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.db.models import ProcessInstance
from app.engine import runner
from app.engine.errors import StepFailed
from app.services import incidents, steps, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict

WORKER_ACTOR = "timer"
SOURCE = "timer worker"
ACTIVE = ("running", "waiting")
UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
"""The database's trouble, not the instance's: the worker loop waits and polls again."""

log = logging.getLogger("reviewflow.worker")


def _claim(ctx: ServiceContext, uow: steps.UnitOfWork, skip: set[str]) -> ProcessInstance | None:
    query = (select(ProcessInstance)
             .where(ProcessInstance.next_timer_at <= ctx.clock.now(),
                    ProcessInstance.status.in_(ACTIVE))
             .order_by(ProcessInstance.next_timer_at, ProcessInstance.id)
             .limit(1)
             .with_for_update(skip_locked=True))
    if skip:
        query = query.where(ProcessInstance.id.not_in(skip))
    return uow.session.scalars(query).first()


def fire_one(ctx: ServiceContext, skip: set[str] | None = None) -> str | None:
    """Run one due instance on; return its id, or None when nothing is due."""
    skip = skip if skip is not None else set()
    now = ctx.clock.now()
    with ctx.uow() as uow:
        instance = _claim(ctx, uow, skip)
        if instance is None:
            return None
        instance_id = instance.id
        skip.add(instance_id)
        try:
            workflow = steps.load_workflow(ctx, uow, instance)
            step = runner.run_engine(workflow)
            steps.record_step(uow, instance, step, now, WORKER_ACTOR)
            steps.save(uow, instance, workflow, now, WORKER_ACTOR)
            incidents.resolve_open(uow, instance_id, now, WORKER_ACTOR)
            steps.commit(uow, instance_id)
        except StepFailed as failure:
            uow.rollback()
            _park(ctx, instance_id, failure)
            return instance_id
        except (Conflict, *UNREACHABLE):
            raise
        except Exception as exc:  # one poisoned instance must not stop the others
            uow.rollback()
            log.exception("the timer worker failed on instance %s", instance_id)
            incidents.record(ctx, instance_id, SOURCE, WORKER_ACTOR, exc)
            return instance_id
        if instance.next_timer_at is None or instance.next_timer_at > now:
            skip.discard(instance_id)  # keeps the claim's NOT IN list short
    return instance_id


def _park(ctx: ServiceContext, instance_id: str, failure: StepFailed) -> None:
    """A timer's step failed: keep the state before it, mark the instance `error`, record why."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id, with_for_update=True)
        if instance is None:
            return
        instance.status = "error"
        instance.error = failure.as_dict()
        instance.next_timer_at = None
        instance.updated_at = now
        timeline.record(uow, instance_id, "error", now, WORKER_ACTOR,
                        element_id=failure.element_id, detail=failure.as_dict())
        steps.commit(uow, instance_id)


def fire_due(ctx: ServiceContext, limit: int = 1000) -> int:
    """Fire what is due now, each instance at most once per call; return how many ran."""
    seen: set[str] = set()
    fired = 0
    while fired < limit:
        try:
            instance_id = fire_one(ctx, seen)
        except Conflict:
            continue
        if instance_id is None:
            break
        fired += 1
    return fired
