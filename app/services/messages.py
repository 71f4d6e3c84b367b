"""Deliver BPMN messages from outside (an agency system's answer, the national panel's advice)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.auth import policy
from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.db.models import MessageSubscription, ProcessInstance, ReviewCase
from app.engine import runner
from app.engine.errors import NoMatchingEvent, StepFailed
from app.services import instances, steps, timeline
from app.services.context import ServiceContext
from app.services.errors import NotFound


def deliver(ctx: ServiceContext, principal: Principal, name: str, business_key: str,
            data: dict[str, Any],
            command: steps.Command = steps.NO_COMMAND) -> instances.InstanceState:
    """Deliver to the oldest instance with that business key that waits for the message.

    A failure while the engine runs on from the message parks the instance in `error`: the
    sender cannot fix a process, and `retry` runs it again once the cause is fixed.
    """
    policy.require(principal, "send_message")
    if not principal.has("board_manager", "admin"):
        if name in policy.BOARD_MESSAGES:
            raise Forbidden(f"the message '{name}' is recorded by the Board's manager, not "
                            f"sent by an agency's system")
        with ctx.uow(read_only=True) as uow:
            case = uow.session.scalars(select(ReviewCase).where(
                ReviewCase.reference == business_key)).first()
            if case is None or principal.agency not in case.agencies:  # answered as absent
                raise policy.Concealed("an agency system can message only its own cases",
                                       policy.missing_waiting_instance(name, business_key))
    return deliver_on_behalf(ctx, principal.name, name, business_key, data, command,
                             seen_by=principal)


def deliver_on_behalf(ctx: ServiceContext, actor: str, name: str, business_key: str,
                      data: dict[str, Any], command: steps.Command = steps.NO_COMMAND,
                      seen_by: Principal | None = None) -> instances.InstanceState:
    """Deliver without checking permissions: for use cases that have checked them already.

    The answer is the instance as it now stands, as `seen_by` may see it when given: the
    process data only if they may read instances, and the tasks they may see."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        instance = uow.session.scalars(
            select(ProcessInstance)
            .join(MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id)
            .where(MessageSubscription.message_name == name,
                   ProcessInstance.business_key == business_key,
                   ProcessInstance.status.in_(("running", "waiting")))
            .order_by(ProcessInstance.created_at, ProcessInstance.id).limit(1)).first()
        if instance is None:
            message, detail = policy.missing_waiting_instance(name, business_key)
            raise NotFound(message, **detail)
        workflow = steps.load_workflow(ctx, uow, instance)
        timeline.record(uow, instance.id, "message_received", now, actor,
                        detail={"name": name, "fields": sorted(data)})
        try:
            step = runner.deliver_message(workflow, name, data)
        except NoMatchingEvent:
            raise NotFound(f"the instance no longer waits for the message '{name}'",
                           name=name, business_key=business_key) from None
        except StepFailed as failure:
            ready = instances.fail(uow, instance, workflow, failure, now, actor)
        else:
            try:
                steps.record_step(uow, instance, step, now, actor)
                ready = steps.save(uow, instance, workflow, now, actor)
            except StepFailed as failure:
                uow.rollback()
                steps.record_failure(ctx, instance.id, failure, actor)
                raise instances.step_error(failure) from None
        if seen_by is None:
            answer = instances.InstanceState(instance, runner.data(workflow), ready)
        else:
            answer = instances.InstanceState(
                instance, runner.data(workflow) if policy.can_read_instance_data(seen_by) else {},
                [task for task in ready if policy.can_see_task(seen_by, task)])
        steps.commit(uow, instance.id, audit=command.audit, claim=command.claim, answer=answer)
        return answer
