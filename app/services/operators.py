"""Service-task operators: the only way a BPMN route writes the domain tables.

A route calls one with `spiffworkflow:serviceTaskOperator id="case_update"` and parameters (Python
expressions evaluated against the task data). The engine records each call; `apply` runs them in
the step's transaction, so a failed step leaves no trace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from app.db.models import ProcessInstance, ReviewCase
from app.db.uow import UnitOfWork
from app.engine.errors import StepFailed
from app.engine.scripting import OperatorCall
from app.services import learning, register, timeline
from app.services.vocabulary import CASE_STATUSES, CLOSED_STATUSES, GRADES, ROUTES

Handler = Callable[[UnitOfWork, ProcessInstance, dict[str, Any], dt.datetime, str | None], None]

CASE_FIELDS = {"status": CASE_STATUSES, "grade": GRADES, "route": ROUTES}
STATUTORY_OUTCOMES = {"closed", "monitoring"}
"""What a review ends in; a statutory case gets there only with its SCR held or a recorded
decision not to hold one (the regulations' duty, whatever a designer's route does)."""


def case_for(uow: UnitOfWork, instance: ProcessInstance) -> ReviewCase:
    case = uow.session.scalars(select(ReviewCase).where(
        ReviewCase.reference == instance.business_key)).first()
    if case is None:
        raise ValueError(f"no case has the reference '{instance.business_key}'")
    return case


def _case_update(uow: UnitOfWork, instance: ProcessInstance, params: dict[str, Any],
                 at: dt.datetime, actor: str | None) -> None:
    case = case_for(uow, instance)
    changed: dict[str, Any] = {}
    for name, allowed in CASE_FIELDS.items():
        value = params.get(name)
        if value is None:
            continue
        if value not in allowed:
            raise ValueError(f"{name} '{value}' is not one of {', '.join(allowed)}")
        if getattr(case, name) != value:
            setattr(case, name, value)
            changed[name] = value
    for name in ("review_type", "statutory", "scr_held", "scr_not_held_reason"):
        if params.get(name) is not None and getattr(case, name) != params[name]:
            setattr(case, name, params[name])
            changed[name] = params[name]
    if params.get("notify") is not None:
        audiences = _audiences(params["notify"])
        if case.notify != audiences:
            case.notify = audiences
            changed["notify"] = audiences
    if params.get("key_dates"):
        dates = _dates(params["key_dates"])
        if dates:
            case.key_dates = {**case.key_dates, **dates}
            changed["key_dates"] = dates
    if changed.get("status") in STATUTORY_OUTCOMES and case.statutory and case.scr_held is None:
        raise ValueError(f"a statutory case cannot become {changed['status']} without a Serious "
                         "Case Review or the chair's recorded decision not to hold one")
    if "status" in changed:
        case.closed_at = at if changed["status"] in CLOSED_STATUSES else None
    if changed:
        case.updated_at = at
        reason = {"reason": params["reason"]} if params.get("reason") else {}
        timeline.record(uow, instance.id, "case_updated", at, actor, detail={**changed, **reason})


def _audiences(value: Any) -> list[str]:
    """The grading matrix's Reputation column: a comma-separated string or a list."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError("notify must be a comma-separated string or a list of audiences")
    return [item.strip() for item in items if item.strip()]


def _record_decision(uow: UnitOfWork, instance: ProcessInstance, params: dict[str, Any],
                     at: dt.datetime, actor: str | None) -> None:
    """A decision on the timeline; `key_dates` it names (the day advice arrived) go on the case."""
    if not params.get("decision"):
        raise ValueError("record_decision needs a 'decision' parameter naming the decision")
    detail = {name: value for name, value in params.items() if name != "key_dates"}
    if params.get("key_dates"):
        case = case_for(uow, instance)
        case.key_dates = {**case.key_dates, **_dates(params["key_dates"])}
        case.updated_at = at
    timeline.record(uow, instance.id, "decision_recorded", at, actor, detail=detail)


def _dates(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("key_dates must be a mapping of name to date")
    return {name: str(day) for name, day in value.items() if day}


def _notify(uow: UnitOfWork, instance: ProcessInstance, params: dict[str, Any],
            at: dt.datetime, actor: str | None) -> None:
    if not params.get("recipient"):
        raise ValueError("notify needs a 'recipient' parameter")
    timeline.record(uow, instance.id, "notification_sent", at, actor, detail=params)


def _record_outcome(uow: UnitOfWork, instance: ProcessInstance, params: dict[str, Any],
                    at: dt.datetime, actor: str | None) -> None:
    """Keep the review's outcome on the case and put its findings, recommendations and SMART
    actions in the registers that monitoring and the annual report read."""
    case = case_for(uow, instance)
    outcome = {key: value for key, value in params.items() if value is not None}
    case.outcome = {**case.outcome, **outcome}
    case.key_dates = {**case.key_dates, "review_completed": at.date().isoformat()}
    case.updated_at = at
    counts = register.record(uow, case.reference, outcome, at)
    timeline.record(uow, instance.id, "outcome_recorded", at, actor,
                    detail={"fields": sorted(outcome), **counts})


def _register_learning_event(uow: UnitOfWork, instance: ProcessInstance,
                             params: dict[str, Any], at: dt.datetime, actor: str | None) -> None:
    """A learning event held inside a route goes to the learning-events register."""
    case = case_for(uow, instance)
    event = learning.event_from_route(uow, case.reference, params, at, actor)
    timeline.record(uow, instance.id, "learning_event_registered", at, actor, detail={
        "held_on": event.held_on.isoformat(), "attendance": event.attendance})


def _register_publication(uow: UnitOfWork, instance: ProcessInstance, params: dict[str, Any],
                          at: dt.datetime, actor: str | None) -> None:
    if not params.get("published"):
        return
    case = case_for(uow, instance)
    publication = register.publish(uow, case.reference, params, actor or "system", at)
    timeline.record(uow, instance.id, "publication_registered", at, actor, detail={
        "kind": publication.kind, "published_on": publication.published_on.isoformat()})


OPERATORS: dict[str, Handler] = {
    "case_update": _case_update,
    "record_decision": _record_decision,
    "notify": _notify,
    "record_outcome": _record_outcome,
    "register_publication": _register_publication,
    "register_learning_event": _register_learning_event,
    "remind_action_owners": register.remind_owners,
    "escalate_overdue_actions": register.escalate_overdue,
}

QUERIES = {
    "action_plan_status": register.plan_status,
}
"""Operators that answer at once from the database (read-only), for gateways to decide on."""


def apply(uow: UnitOfWork, instance: ProcessInstance, call: OperatorCall, at: dt.datetime,
          actor: str | None) -> None:
    handler = OPERATORS.get(call.name)
    if handler is None:
        raise StepFailed(f"unknown service operator '{call.name}'; known: "
                         f"{', '.join(sorted(OPERATORS))}", call.element_id, call.element_name)
    try:
        handler(uow, instance, call.params, at, actor)
    except (ValueError, TypeError, KeyError) as exc:
        raise StepFailed(f"operator '{call.name}' failed: {exc}", call.element_id,
                         call.element_name) from None
