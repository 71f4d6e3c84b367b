"""Cases: referrals in, the case register, escalation between grades, urgent concerns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.db.models import Event, HumanTask, ProcessInstance, ReviewCase
from app.engine import runner
from app.services import instances, messages, steps
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound
from app.services.vocabulary import GRADES, grade_rank

REFERRAL_PROCESS = "referral"
CONCERN_PROCESS = "urgent_concern"
ESCALATION_MESSAGE = "grade_escalated"
REFERENCE_PREFIX = "LIR"
ALLOCATION_ATTEMPTS = 5


@dataclass(frozen=True)
class Referral:
    child_pseudonym: str
    agencies: list[str]
    incident_date: dt.date
    summary: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class CaseView:
    case: ReviewCase
    tasks: list[HumanTask]


def _reference(year: int, sequence: int) -> str:
    return f"{REFERENCE_PREFIX}-{year}-{sequence:04d}"


def refer(ctx: ServiceContext, referral: Referral, actor: str) -> CaseView:
    """Open a case with the next reference of the year and start the referral process."""
    for _attempt in range(ALLOCATION_ATTEMPTS):
        now = ctx.clock.now()
        with ctx.uow() as uow:
            sequence = (uow.session.scalar(select(func.max(ReviewCase.sequence)).where(
                ReviewCase.year == now.year)) or 0) + 1
            case = ReviewCase(
                reference=_reference(now.year, sequence), year=now.year, sequence=sequence,
                child_pseudonym=referral.child_pseudonym, agencies=referral.agencies,
                incident_date=referral.incident_date, summary=referral.summary,
                facts=referral.facts, status="screening", key_dates={
                    "referred": now.date().isoformat(),
                    "incident": referral.incident_date.isoformat()},
                outcome={}, created_at=now, updated_at=now,
            )
            uow.session.add(case)
            try:
                uow.session.flush()
            except IntegrityError:
                continue
            data = {"reference": case.reference, "referred_on": now.date().isoformat(),
                    "child_pseudonym": referral.child_pseudonym,
                    "agencies": referral.agencies,
                    "incident_date": referral.incident_date.isoformat(),
                    "summary": referral.summary, "facts": referral.facts, **referral.facts}
            state = instances.start_in(ctx, uow, REFERRAL_PROCESS, case.reference, data, actor)
            case.referral_instance_id = state.instance.id
            try:
                steps.commit(uow, state.instance.id)
            except IntegrityError:
                continue
            return CaseView(case, instances.ready_task_rows(uow, state.instance.id))
    raise Conflict("could not allocate a case reference; try again")


def _case(uow: Any, reference: str) -> ReviewCase:
    case = uow.session.scalars(select(ReviewCase).where(
        ReviewCase.reference == reference)).first()
    if case is None:
        raise NotFound(f"no case with the reference '{reference}'", reference=reference)
    return case


def _open_tasks(uow: Any, reference: str) -> list[HumanTask]:
    return list(uow.session.scalars(select(HumanTask).where(
        HumanTask.business_key == reference, HumanTask.state == "ready")
        .order_by(HumanTask.created_at, HumanTask.id)))


def get(ctx: ServiceContext, reference: str) -> CaseView:
    with ctx.uow() as uow:
        case = _case(uow, reference)
        return CaseView(case, _open_tasks(uow, reference))


def list_cases(ctx: ServiceContext, status: str | None, grade: str | None, route: str | None,
               limit: int, offset: int) -> tuple[list[ReviewCase], int]:
    with ctx.uow() as uow:
        query = select(ReviewCase)
        for column, value in ((ReviewCase.status, status), (ReviewCase.grade, grade),
                              (ReviewCase.route, route)):
            if value is not None:
                query = query.where(column == value)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(uow.session.scalars(query.order_by(ReviewCase.created_at.desc(),
                                                       ReviewCase.id.desc())
                                        .limit(limit).offset(offset)))
        return rows, total


def timeline(ctx: ServiceContext, reference: str) -> list[tuple[Event, str]]:
    """Every event of every instance of the case, in time order, with its process key."""
    with ctx.uow() as uow:
        _case(uow, reference)
        rows = uow.session.execute(
            select(Event, ProcessInstance.process_key)
            .join(ProcessInstance, ProcessInstance.id == Event.instance_id)
            .where(ProcessInstance.business_key == reference)
            .order_by(Event.id)).all()
        return [(row[0], row[1]) for row in rows]


def escalate(ctx: ServiceContext, reference: str, grade: str, reason: str,
             actor: str) -> CaseView:
    """Move a case in a review route to a higher grade and its route, keeping what was collected."""
    if grade not in GRADES:
        raise Invalid(f"grade must be one of {', '.join(GRADES)}", field="grade")
    with ctx.uow() as uow:
        case = _case(uow, reference)
        current = case.grade
        if current is not None and grade_rank(grade) >= grade_rank(current):
            raise Invalid(f"an escalation must raise the grade above '{current}'", field="grade",
                          current_grade=current)
        instance = uow.session.get(ProcessInstance, case.referral_instance_id or "")
        if instance is None:
            raise Conflict("the case has no running referral process", reference=reference)
        workflow = steps.load_workflow(ctx, uow, instance)
        if ESCALATION_MESSAGE not in runner.waiting_messages(workflow):
            raise Conflict("the case is not in a review route; change its grade at screening",
                           reference=reference, status=case.status)
        collected = runner.subprocess_data(workflow)
    payload = {**collected, "escalated_grade": grade, "escalation_reason": reason,
               "previous_grade": current}
    messages.deliver(ctx, ESCALATION_MESSAGE, reference, payload, actor)
    return get(ctx, reference)


def raise_concern(ctx: ServiceContext, reference: str, description: str,
                  actor: str) -> CaseView:
    """Start the urgent concern process beside the review; it does not interrupt it."""
    with ctx.uow() as uow:
        case = _case(uow, reference)
        state = instances.start_in(ctx, uow, CONCERN_PROCESS, reference, {
            "reference": reference, "child_pseudonym": case.child_pseudonym,
            "concern_description": description, "raised_by": actor}, actor)
        steps.commit(uow, state.instance.id)
        return CaseView(case, _open_tasks(uow, reference))
