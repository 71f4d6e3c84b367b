"""Each clock of a case with its due date and state: met, pending, overdue, not started, or
not applicable (the clock belongs to other cases: `ClockRule.applies`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.auth.principal import Principal
from app.db.models import ReviewCase
from app.engine.clock_rules import ClockRule
from app.services import cases
from app.services.context import ServiceContext

NOT_APPLICABLE = "not_applicable"


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
             today: dt.date, applies: bool | None = True) -> Deadline:
    """The clock's state on `today`; `applies` is `rule.applies(...)` for the case."""
    if applies is False:
        return Deadline(rule.id, rule.label, rule.statutory, rule.kind, None, NOT_APPLICABLE,
                        None, False)
    found = rule.due(key_dates, ctx.calendar)
    due = found[:10] if found else None
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


def for_review_case(ctx: ServiceContext, case: ReviewCase, rule: ClockRule,
                    today: dt.date) -> Deadline:
    return evaluate(rule, case.key_dates or {}, ctx, today,
                    rule.applies(case.statutory, case.scr_held))


def for_case(ctx: ServiceContext, principal: Principal, reference: str) -> list[Deadline]:
    case = cases.get(ctx, principal, reference).case
    today = ctx.clock.now().date()
    return [for_review_case(ctx, case, rule, today) for rule in ctx.clock_rules.case_clocks]
