"""The inbox: one list of everything the signed-in person can act on, with filters as counts.

A task is in a person's inbox when it is ready and either claimed by them, or not yet claimed
and theirs to do: a task of one of their roles, or an agency lead's task of their agency (or of
no agency). Nothing sits behind a tab: the tasks they claimed come first, then the rest by due
date. The counts (claimed by me, overdue, due within a week, each route) are of the whole
inbox, so they tell how much work there is whatever the filters show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import HumanTask, ReviewCase
from app.services import search
from app.services.context import ServiceContext

WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class InboxFilter:
    mine: bool = False
    """Only the tasks the person claimed."""
    overdue: bool = False
    due_this_week: bool = False
    routes: tuple[str, ...] = ()
    """Only tasks of these routes (the process a task is drawn in: `HumanTask.element_process`,
    or its instance's process)."""
    text: str = ""
    """Search text (`app.services.search.task_condition`): task title, case reference, child,
    agency."""
    descending: bool = False
    """Latest due first (claimed tasks still first)."""

    @property
    def active(self) -> bool:
        return bool(self.mine or self.overdue or self.due_this_week or self.routes
                    or search.cleaned(self.text))


@dataclass(frozen=True)
class InboxRow:
    task: HumanTask
    case: ReviewCase | None
    overdue: bool
    mine: bool


@dataclass(frozen=True)
class Inbox:
    rows: list[InboxRow]
    total: int
    """Everything in the inbox, whatever the filters."""
    shown: int
    """How many tasks the filters select (`rows` holds up to the limit of them)."""
    counts: dict[str, int]
    """`mine`, `overdue` and `week` over the whole inbox."""
    routes: list[tuple[str, int]] = field(default_factory=list)
    """Each route with tasks in the inbox, and how many."""


def route_of() -> ColumnElement[str]:
    return func.coalesce(HumanTask.element_process, HumanTask.process_key)


def _theirs(principal: Principal) -> ColumnElement[bool]:
    """Not claimed by anyone, and of a role (and agency) the principal holds."""
    lanes = sorted(principal.roles - {policy.AGENCY_LANE})
    holds: list[ColumnElement[bool]] = [HumanTask.lane.in_(lanes)] if lanes else []
    if policy.AGENCY_LANE in principal.roles and principal.agency:
        holds.append(and_(HumanTask.lane == policy.AGENCY_LANE,
                          or_(HumanTask.agency == principal.agency,
                              HumanTask.agency.is_(None))))
    return and_(HumanTask.assignee.is_(None), or_(*holds)) if holds else false()


def in_inbox(principal: Principal) -> ColumnElement[bool]:
    """A SQL condition: the task is in the principal's inbox."""
    return and_(HumanTask.state == "ready", policy.visible_tasks(principal),
                or_(HumanTask.assignee == principal.name, _theirs(principal)))


def _count(session: Session, query: Select[HumanTask]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def load(ctx: ServiceContext, principal: Principal, filters: InboxFilter,
         limit: int = 200) -> Inbox:
    policy.require(principal, "read_tasks")
    now = ctx.clock.now()
    mine = HumanTask.assignee == principal.name
    overdue = HumanTask.due_at < now
    week = HumanTask.due_at < now + WEEK
    everything = select(HumanTask).where(in_inbox(principal))
    with ctx.uow(read_only=True) as uow:
        session = uow.session
        counts = {name: _count(session, everything.where(condition))
                  for name, condition in (("mine", mine), ("overdue", overdue), ("week", week))}
        total = _count(session, everything)
        routes = [(str(key), int(number)) for key, number in session.execute(
            select(route_of(), func.count()).where(in_inbox(principal))
            .group_by(route_of()).order_by(route_of()))]
        query = everything
        for wanted, condition in ((filters.mine, mine), (filters.overdue, overdue),
                                  (filters.due_this_week, week)):
            if wanted:
                query = query.where(condition)
        if filters.routes:
            query = query.where(route_of().in_(filters.routes))
        if search.cleaned(filters.text):
            query = query.where(search.task_condition(ctx, principal, filters.text))
        shown = _count(session, query)
        due = HumanTask.due_at.desc() if filters.descending else HumanTask.due_at.asc()
        tasks = list(session.scalars(query.order_by(
            case((mine, 0), else_=1), due.nulls_last(), HumanTask.created_at,
            HumanTask.business_key, HumanTask.title, HumanTask.id)
            .limit(limit)))
        references = {t.business_key for t in tasks if t.business_key}
        cases = {c.reference: c for c in session.scalars(
            select(ReviewCase).where(ReviewCase.reference.in_(references),
                                     policy.visible_cases(principal)))} if references else {}
    rows = [InboxRow(task, cases.get(task.business_key or ""),
                     task.due_at is not None and task.due_at < now,
                     task.assignee == principal.name) for task in tasks]
    return Inbox(rows, total, shown, counts, routes)
