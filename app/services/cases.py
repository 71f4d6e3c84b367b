"""Cases: referrals in, the case register, escalation between grades, urgent concerns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError

from app.auth import policy
from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.db.models import Event, HumanTask, ProcessInstance, ReviewCase
from app.db.uow import UnitOfWork
from app.engine import runner
from app.services import agencies, instances, messages, steps
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


def refer(ctx: ServiceContext, principal: Principal, referral: Referral,
          command: steps.Command = steps.NO_COMMAND) -> CaseView:
    """Open a case with the next reference of the year and start the referral process."""
    policy.require(principal, "refer")
    agencies.require_known(ctx, referral.agencies, "agencies")
    if not principal.has("board_manager", "admin") and principal.agency not in referral.agencies:
        raise Forbidden(f"an agency can refer only cases it is involved in; add "
                        f"{principal.agency} to the agencies")
    actor = principal.name
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
            uow.flush()  # the answer names the tasks the referral made ready
            answer = _view(uow, principal, case)
            steps.commit(uow, state.instance.id, audit=command.audit, claim=command.claim,
                     answer=answer)
            return answer
    raise Conflict("could not allocate a case reference; try again")


def _case(uow: UnitOfWork, reference: str) -> ReviewCase:
    case = uow.session.scalars(select(ReviewCase).where(
        ReviewCase.reference == reference)).first()
    if case is None:
        message, detail = policy.missing_case(reference)
        raise NotFound(message, **detail)
    return case


def _open_tasks(uow: Any, principal: Principal, reference: str) -> list[HumanTask]:
    return list(uow.session.scalars(select(HumanTask).where(
        HumanTask.business_key == reference, HumanTask.state == "ready",
        policy.visible_tasks(principal)).order_by(HumanTask.created_at, HumanTask.id)))


def _readable(uow: Any, principal: Principal, reference: str) -> ReviewCase:
    policy.require(principal, "read_cases")
    case = _case(uow, reference)
    policy.check_case_read(principal, case)
    return case


RowT = TypeVar("RowT", ReviewCase, Event)


def as_seen_by(principal: Principal, case: ReviewCase) -> ReviewCase:
    """The case, or for someone with less need to know a detached copy without what is
    withheld from them (the stored row is never changed)."""
    withheld = policy.case_withheld(principal, case)
    return _copy(case, **withheld) if withheld else case


def _copy(row: RowT, **changes: Any) -> RowT:
    """A new, unsaved object with `row`'s column values and `changes`: what a reader is shown
    when something is withheld from them, leaving the stored row as it is."""
    values = {attr.key: getattr(row, attr.key) for attr in sa_inspect(type(row)).column_attrs}
    return type(row)(**{**values, **changes})


def _view(uow: Any, principal: Principal, case: ReviewCase) -> CaseView:
    return CaseView(as_seen_by(principal, case), _open_tasks(uow, principal, case.reference))


def get(ctx: ServiceContext, principal: Principal, reference: str) -> CaseView:
    with ctx.uow(read_only=True) as uow:
        return _view(uow, principal, _readable(uow, principal, reference))


def list_cases(ctx: ServiceContext, principal: Principal, status: str | None, grade: str | None,
               route: str | None, limit: int, offset: int) -> tuple[list[ReviewCase], int]:
    policy.require(principal, "read_cases")
    with ctx.uow(read_only=True) as uow:
        query = select(ReviewCase).where(policy.visible_cases(principal))
        for column, value in ((ReviewCase.status, status), (ReviewCase.grade, grade),
                              (ReviewCase.route, route)):
            if value is not None:
                query = query.where(column == value)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(uow.session.scalars(query.order_by(ReviewCase.created_at.desc(),
                                                       ReviewCase.id.desc())
                                        .limit(limit).offset(offset)))
        return rows, total


def timeline(ctx: ServiceContext, principal: Principal,
             reference: str) -> list[tuple[Event, str]]:
    """Every event of every instance of the case that the principal may see, in time order."""
    with ctx.uow(read_only=True) as uow:
        _readable(uow, principal, reference)
        rows = uow.session.execute(
            select(Event, ProcessInstance.process_key, HumanTask.agency)
            .join(ProcessInstance, ProcessInstance.id == Event.instance_id)
            .outerjoin(HumanTask, HumanTask.id == Event.task_id)
            .where(ProcessInstance.business_key == reference)
            .order_by(Event.id)).all()
        return [(_event_as_seen_by(principal, event), key) for event, key, agency in rows
                if policy.event_visible(principal, event.type, agency, event.task_id is not None)]


def _event_as_seen_by(principal: Principal, event: Event) -> Event:
    detail = policy.event_detail(principal, event.detail or {})
    if detail == (event.detail or {}):
        return event
    return _copy(event, detail=detail)


def escalate(ctx: ServiceContext, principal: Principal, reference: str, grade: str,
             reason: str) -> CaseView:
    """Move a case in a review route to a higher grade and its route, keeping what was collected."""
    if grade not in GRADES:
        raise Invalid(f"grade must be one of {', '.join(GRADES)}", field="grade")
    policy.require(principal, "escalate")  # by role first: says nothing of the case
    with ctx.uow(read_only=True) as uow:
        case = _case(uow, reference)
        policy.check_case_write(principal, case, "escalate")
        current = case.grade
        if current is not None and grade_rank(grade) >= grade_rank(current):
            raise Invalid(f"an escalation must raise the grade above '{current}'", field="grade",
                          current_grade=current)
        instance = uow.session.get(ProcessInstance, case.referral_instance_id or "")
        if instance is None:
            raise Conflict("the case has no running referral process", reference=reference)
        workflow = steps.load_workflow(ctx, uow, instance)
        if ESCALATION_MESSAGE not in runner.waiting_messages(workflow):
            if case.status == "in_review":
                raise Conflict("an escalation of this case already waits for a decision; "
                               "escalate again once it is made", reference=reference,
                               status=case.status)
            raise Conflict("the case is not in a review route; change its grade at screening",
                           reference=reference, status=case.status)
        collected = runner.subprocess_data(workflow)
    payload = {**collected, "escalated_grade": grade, "escalation_reason": reason,
               "previous_grade": current}
    messages.deliver_on_behalf(ctx, principal.name, ESCALATION_MESSAGE, reference, payload)
    return get(ctx, principal, reference)


def raise_concern(ctx: ServiceContext, principal: Principal, reference: str,
                  description: str, command: steps.Command = steps.NO_COMMAND) -> CaseView:
    """Start the urgent concern process beside the review; it does not interrupt it."""
    policy.require(principal, "raise_concern")  # by role first: says nothing of the case
    with ctx.uow() as uow:
        case = _case(uow, reference)
        policy.check_case_write(principal, case, "raise_concern")
        state = instances.start_in(ctx, uow, CONCERN_PROCESS, reference, {
            "reference": reference, "child_pseudonym": case.child_pseudonym,
            "concern_description": description, "raised_by": principal.name}, principal.name)
        uow.flush()
        answer = _view(uow, principal, case)
        steps.commit(uow, state.instance.id, audit=command.audit, claim=command.claim,
                     answer=answer)
        return answer
