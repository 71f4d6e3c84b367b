"""Erase the data of cases whose retention period after closure has passed.

What stays is what the annual report needs and nothing that identifies a child: the reference,
grade, route, agencies and key dates. Each erasure is written to the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select

from app.auth import audit
from app.auth.principal import Principal
from app.db.models import (
    Briefing,
    Event,
    HumanTask,
    IdempotencyKey,
    MessageSubscription,
    ProcessInstance,
    ReviewCase,
)
from app.services.context import ServiceContext
from app.services.vocabulary import CLOSED_STATUSES

ERASED = "[erased]"
RETENTION_ACTOR = Principal("retention", frozenset({"admin"}), None, "system")


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")

    years: int = Field(ge=0)


class RetentionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    comment: str | None = Field(None, alias="$comment")
    after_closure: dict[str, Period]

    def period_for(self, case: ReviewCase) -> Period | None:
        key = "declined" if case.status == "declined" else (case.route or "")
        return self.after_closure.get(key)


def load_rules(path: Path) -> RetentionRules:
    return RetentionRules.model_validate(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Expired:
    reference: str
    route: str | None
    closed_at: dt.datetime
    erase_after: dt.date


def _add_years(moment: dt.datetime, years: int) -> dt.date:
    day = moment.date()
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def expired(ctx: ServiceContext, rules: RetentionRules) -> list[Expired]:
    today = ctx.clock.now().date()
    found: list[Expired] = []
    with ctx.uow(read_only=True) as uow:
        closed = uow.session.scalars(select(ReviewCase).where(
            ReviewCase.status.in_(sorted(CLOSED_STATUSES)), ReviewCase.closed_at.is_not(None))
            .order_by(ReviewCase.closed_at))
        for case in closed:
            period = rules.period_for(case)
            if period is None or case.closed_at is None:
                continue
            erase_after = _add_years(case.closed_at, period.years)
            if erase_after <= today:
                found.append(Expired(case.reference, case.route, case.closed_at, erase_after))
    return found


def erase(ctx: ServiceContext, item: Expired) -> None:
    """Erase one case's personal data and its process history, and audit it, in one transaction."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        case = uow.session.scalars(select(ReviewCase).where(
            ReviewCase.reference == item.reference).with_for_update()).one()
        instance_ids = list(uow.session.scalars(select(ProcessInstance.id).where(
            ProcessInstance.business_key == item.reference)))
        if instance_ids:
            for table in (Event, HumanTask, MessageSubscription, IdempotencyKey):
                uow.session.execute(delete(table).where(table.instance_id.in_(instance_ids)))
            uow.session.execute(delete(ProcessInstance).where(
                ProcessInstance.id.in_(instance_ids)))
        uow.session.execute(delete(Briefing).where(Briefing.case_reference == item.reference))
        case.child_pseudonym = ERASED
        case.summary = ERASED
        case.facts = {}
        case.outcome = {}
        case.referral_instance_id = None
        case.status = "erased"
        case.key_dates = {**case.key_dates, "erased": now.date().isoformat()}
        case.updated_at = now
        audit.record(uow.session, now, RETENTION_ACTOR, "retention_erase", "CLI",
                     "reviewflow retention run", 200, "case", item.reference, {
                         "route": item.route, "closed_at": item.closed_at.isoformat(),
                         "erase_after": item.erase_after.isoformat(),
                         "instances_erased": len(instance_ids)})
        uow.commit()
