"""Each clock of a case with its due date and state: met, pending, overdue or not started."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.auth.principal import Principal
from app.engine.clock_rules import ClockRule
from app.services import cases
from app.services.context import ServiceContext


@dataclass(frozen=True)
class Deadline:
    id: str
    label: str
    statutory: bool
    kind: str
    due: str | None
    state: str
    met_on: str | None
    late: bool


def evaluate(rule: ClockRule, key_dates: dict[str, str], ctx: ServiceContext,
              today: dt.date) -> Deadline:
    due = rule.due(key_dates, ctx.calendar)
    met_on = key_dates.get(rule.met_by) if rule.met_by else None
    if rule.kind == "minimum":
        met_on = due if due is not None and today >= dt.date.fromisoformat(due) else None
    if met_on:
        state = "met"
    elif due is None:
        state = "not_started"
    elif today > dt.date.fromisoformat(due):
        state = "overdue"
    else:
        state = "pending"
    late = bool(met_on and due and str(met_on)[:10] > due)
    return Deadline(rule.id, rule.label, rule.statutory, rule.kind, due, state,
                    str(met_on)[:10] if met_on else None, late)


def for_case(ctx: ServiceContext, principal: Principal, reference: str) -> list[Deadline]:
    case = cases.get(ctx, principal, reference).case
    today = ctx.clock.now().date()
    return [evaluate(rule, case.key_dates, ctx, today) for rule in ctx.clock_rules.clocks]
