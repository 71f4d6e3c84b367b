"""Fire due timers: claim one due instance at a time, run it on, save it, in one transaction.

On PostgreSQL the claim is `SELECT ... FOR UPDATE SKIP LOCKED`, so any number of workers share
the due instances and none is fired twice; a worker that dies mid-step releases its claim with its
transaction. On SQLite the claim is a plain select, which is safe for one worker beside the API.
Instances are claimed in due order, so after downtime the oldest timers fire first.
"""

from __future__ import annotations

from sqlalchemy import select

from app.db.models import ProcessInstance
from app.engine import runner
from app.engine.errors import StepFailed
from app.services import steps, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict

WORKER_ACTOR = "timer"
ACTIVE = ("running", "waiting")


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
        workflow = steps.load_workflow(ctx, uow, instance)
        try:
            step = runner.run_engine(workflow)
            steps.record_step(uow, instance, step, now, WORKER_ACTOR)
            steps.save(uow, instance, workflow, now, WORKER_ACTOR)
        except StepFailed as failure:
            uow.rollback()
            _park(ctx, instance_id, failure)
            return instance_id
        steps.commit(uow, instance_id)
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
