"""The action register: owners report progress, the sub-group signs actions off."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select, true

from app.auth import policy
from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.db.models import Action, ReviewCase
from app.db.uow import UnitOfWork
from app.services import timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, NotFound

STATUSES = ("not_started", "in_progress", "completed", "cancelled")
CLOSED = ("completed", "cancelled")
AMBER_DAYS = 30


@dataclass(frozen=True)
class ActionFilter:
    agency: str | None = None
    case_reference: str | None = None
    status: str | None = None
    overdue: bool | None = None
    due_before: dt.date | None = None


@dataclass(frozen=True)
class ActionView:
    action: Action
    overdue: bool
    rag: str


def view(action: Action, today: dt.date) -> ActionView:
    overdue = action.status not in CLOSED and action.target_date < today
    if action.status in CLOSED:
        rag = "green"
    elif overdue:
        rag = "red"
    elif action.target_date <= today + dt.timedelta(days=AMBER_DAYS) \
            and action.status == "not_started":
        rag = "amber"
    else:
        rag = "green"
    return ActionView(action, overdue, rag)


def _visible(principal: Principal) -> ColumnElement[bool]:
    if policy.is_case_reader(principal):
        return true()
    return Action.owner_agency == (principal.agency or "")


def _filtered(query: Select[Action], filters: ActionFilter,
              today: dt.date) -> Select[Action]:
    if filters.agency:
        query = query.where(Action.owner_agency == filters.agency)
    if filters.case_reference:
        query = query.where(Action.case_reference == filters.case_reference)
    if filters.status:
        query = query.where(Action.status == filters.status)
    if filters.overdue is True:
        query = query.where(Action.status.not_in(CLOSED), Action.target_date < today)
    if filters.overdue is False:
        query = query.where((Action.status.in_(CLOSED)) | (Action.target_date >= today))
    if filters.due_before:
        query = query.where(Action.target_date < filters.due_before)
    return query


def list_actions(ctx: ServiceContext, principal: Principal, filters: ActionFilter, limit: int,
                 offset: int) -> tuple[list[ActionView], int]:
    policy.require(principal, "read_actions")
    today = ctx.clock.now().date()
    with ctx.uow(read_only=True) as uow:
        query = _filtered(select(Action).where(_visible(principal)), filters, today)
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.scalars(query.order_by(Action.target_date, Action.id)
                                   .limit(limit).offset(offset))
        return [view(row, today) for row in rows], total


def _row(uow: UnitOfWork, principal: Principal, action_id: int) -> Action:
    action = uow.session.get(Action, action_id)
    if action is None:
        message, detail = policy.missing_action(action_id)
        raise NotFound(message, **detail)
    if not policy.is_case_reader(principal) and action.owner_agency != principal.agency:
        raise policy.Concealed(f"the action belongs to {action.owner_agency}",
                               policy.missing_action(action_id))
    return action


def _record(uow: UnitOfWork, action: Action, kind: str, at: dt.datetime, actor: str,
            detail: dict[str, object]) -> None:
    instance_id = uow.session.scalar(select(ReviewCase.referral_instance_id).where(
        ReviewCase.reference == action.case_reference))
    if instance_id:
        timeline.record(uow, instance_id, kind, at, actor, detail={
            "action_id": action.id, "owner_agency": action.owner_agency, **detail})


def get(ctx: ServiceContext, principal: Principal, action_id: int) -> ActionView:
    policy.require(principal, "read_actions")
    with ctx.uow(read_only=True) as uow:
        return view(_row(uow, principal, action_id), ctx.clock.now().date())


def update(ctx: ServiceContext, principal: Principal, action_id: int, status: str | None,
           progress: str | None, evidence: str | None,
           cancel_reason: str | None) -> ActionView:
    """The owner agency's lead reports progress; completing needs evidence, cancelling a reason."""
    policy.require(principal, "update_action")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        action = _row(uow, principal, action_id)
        if action.owner_agency != principal.agency:
            raise Forbidden(f"only a lead of {action.owner_agency} can update this action")
        if action.signed_off_at is not None:
            raise Conflict("the action is signed off and can no longer change",
                           action_id=action_id)
        changed: dict[str, object] = {}
        for name, value in (("progress", progress), ("evidence", evidence),
                            ("cancel_reason", cancel_reason)):
            if value is not None and getattr(action, name) != value:
                setattr(action, name, value)
                changed[name] = value
        if status is not None and status != action.status:
            if status == "completed" and not action.evidence:
                raise Invalid("give the evidence of completion", field="evidence")
            if status == "cancelled" and not action.cancel_reason:
                raise Invalid("give the reason for cancelling", field="cancel_reason")
            action.status = status
            action.completed_on = now.date() if status == "completed" else None
            changed["status"] = status
        if not changed:
            raise Invalid("nothing to change: give a status, progress or evidence")
        action.updated_at = now
        _record(uow, action, "action_updated", now, principal.name, changed)
        uow.commit()
        return view(action, now.date())


def sign_off(ctx: ServiceContext, principal: Principal, action_id: int) -> ActionView:
    """The sub-group confirms a completed (or cancelled) action."""
    policy.require(principal, "sign_off_action")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        action = _row(uow, principal, action_id)
        if action.status not in CLOSED:
            raise Conflict(f"only a completed or cancelled action can be signed off; this one "
                           f"is {action.status.replace('_', ' ')}", action_id=action_id)
        if action.signed_off_at is not None:
            raise Conflict(f"already signed off by {action.signed_off_by}", action_id=action_id)
        action.signed_off_by = principal.name
        action.signed_off_at = now
        action.updated_at = now
        _record(uow, action, "action_signed_off", now, principal.name, {"status": action.status})
        uow.commit()
        return view(action, now.date())
