"""The inbox: tasks for me, for my roles and for my agency, with filters and counts per tab."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, select

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import HumanTask, ReviewCase
from app.services.context import ServiceContext

TABS = ("mine", "roles", "agency")


@dataclass(frozen=True)
class InboxFilter:
    tab: str = "roles"
    process_key: str | None = None
    reference: str | None = None
    overdue: bool = False
    due_this_week: bool = False
    descending: bool = False


@dataclass(frozen=True)
class InboxRow:
    task: HumanTask
    case: ReviewCase | None
    overdue: bool


@dataclass(frozen=True)
class Inbox:
    rows: list[InboxRow]
    counts: dict[str, int]
    process_keys: list[str]


def _tab(principal: Principal, tab: str) -> ColumnElement[bool]:
    if tab == "mine":
        return HumanTask.assignee == principal.name
    if tab == "agency":
        return and_(HumanTask.lane == policy.AGENCY_LANE, HumanTask.agency == principal.agency)
    own_lanes = sorted(principal.roles - {policy.AGENCY_LANE})
    return and_(HumanTask.lane.in_(own_lanes), HumanTask.assignee.is_(None)) if own_lanes \
        else HumanTask.lane.in_([])


def _base(principal: Principal) -> Select[HumanTask]:
    return select(HumanTask).where(HumanTask.state == "ready", policy.visible_tasks(principal))


def load(ctx: ServiceContext, principal: Principal, filters: InboxFilter,
         limit: int = 200) -> Inbox:
    policy.require(principal, "read_tasks")
    now = ctx.clock.now()
    with ctx.uow(read_only=True) as uow:
        counts = {tab: uow.session.scalar(
            select(func.count()).select_from(_base(principal).where(_tab(principal, tab))
                                             .subquery())) or 0 for tab in TABS}
        query = _base(principal).where(_tab(principal, filters.tab))
        if filters.process_key:
            query = query.where(HumanTask.process_key == filters.process_key)
        if filters.reference:
            query = query.where(HumanTask.business_key == filters.reference.strip())
        if filters.overdue:
            query = query.where(HumanTask.due_at < now)
        if filters.due_this_week:
            query = query.where(HumanTask.due_at < now + dt.timedelta(days=7))
        due = HumanTask.due_at.desc() if filters.descending else HumanTask.due_at.asc()
        tasks = list(uow.session.scalars(query.order_by(due.nulls_last(), HumanTask.created_at)
                                         .limit(limit)))
        references = {t.business_key for t in tasks if t.business_key}
        cases = {c.reference: c for c in uow.session.scalars(
            select(ReviewCase).where(ReviewCase.reference.in_(references),
                                     policy.visible_cases(principal)))} if references else {}
        keys = sorted(set(uow.session.scalars(select(HumanTask.process_key).where(
            HumanTask.state == "ready", policy.visible_tasks(principal)).distinct())))
    rows = [InboxRow(task, cases.get(task.business_key or ""),
                     task.due_at is not None and task.due_at < now) for task in tasks]
    return Inbox(rows, counts, keys)
