"""The registers of learning: findings, recommendations, SMART actions and publications.

Rows are made from what a route records when it ends (`record_outcome`), and the action
monitoring process reads and updates them through operators.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.db.models import Action, Finding, ProcessInstance, Publication, Recommendation
from app.db.uow import UnitOfWork
from app.services import timeline

OPEN = ("not_started", "in_progress")
REMIND_DAYS = 14


def _date(value: Any, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{field} is not a date: {value!r}") from None


def _action(uow: UnitOfWork, reference: str, item: dict[str, Any],
            recommendation_id: int | None, at: dt.datetime) -> None:
    uow.session.add(Action(
        case_reference=reference, recommendation_id=recommendation_id,
        action=str(item["action"]), owner_agency=str(item["owner_agency"]),
        lead=str(item.get("lead", "")), target_date=_date(item["target_date"], "target_date"),
        measure_of_success=str(item.get("measure_of_success", "")), status="not_started",
        created_at=at, updated_at=at))


def record(uow: UnitOfWork, reference: str, outcome: dict[str, Any],
           at: dt.datetime) -> dict[str, int]:
    """Findings, recommendations (with their actions) and actions outside recommendations."""
    findings = [f for f in outcome.get("findings") or [] if isinstance(f, dict)]
    for item in findings:
        uow.session.add(Finding(case_reference=reference, text=str(item.get("finding", "")),
                                themes=list(item.get("themes") or []), created_at=at))
    recommendations = [r for r in outcome.get("recommendations") or [] if isinstance(r, dict)]
    actions = 0
    for item in recommendations:
        row = Recommendation(case_reference=reference, text=str(item.get("recommendation", "")),
                             created_at=at)
        uow.session.add(row)
        uow.session.flush()
        for action in item.get("actions") or []:
            _action(uow, reference, action, row.id, at)
            actions += 1
    if not recommendations:  # routes without recommendations list their actions directly
        for action in outcome.get("actions") or []:
            _action(uow, reference, action, None, at)
            actions += 1
    lessons = _lessons(uow, reference, outcome, at)
    return {"findings": len(findings), "recommendations": len(recommendations),
            "actions": actions, "lessons": lessons}


LESSON_THEME = "agency_lesson"
CASE_STUDY_THEME = "best_practice_case_study"
REGISTER_MARKERS = frozenset({LESSON_THEME, CASE_STUDY_THEME})
"""Themes that mark a findings-register row as an agency lesson or a case study."""


def _lessons(uow: UnitOfWork, reference: str, outcome: dict[str, Any], at: dt.datetime) -> int:
    """Agency reviews' lessons and an audit's case study go to the findings register too, each
    marked by a theme of its own so that the practice themes' counts are not changed by them."""
    count = 0
    for item in outcome.get("lessons") or []:
        if isinstance(item, dict) and item.get("lesson"):
            uow.session.add(Finding(case_reference=reference,
                                    text=f"{item.get('agency', '')}: {item['lesson']}",
                                    themes=[LESSON_THEME], created_at=at))
            count += 1
    study = outcome.get("case_study")
    if isinstance(study, dict) and study.get("case_study"):
        uow.session.add(Finding(case_reference=reference, text=str(study["case_study"]),
                                themes=[CASE_STUDY_THEME], created_at=at))
        count += 1
    return count


def publish(uow: UnitOfWork, reference: str, params: dict[str, Any], actor: str,
            at: dt.datetime, months: int = 12) -> Publication:
    """Put a publication on the register. It stays available `months` calendar months (at
    least 12) after `published_on`, to the same day (31 January gives 31 January; 29 February
    gives 28 February); a later `available_until` in `params` keeps it longer, an earlier one
    is refused (ValueError naming the field)."""
    published_on = _date(params.get("published_on"), "published_on")
    year, month0 = divmod(published_on.year * 12 + published_on.month - 1 + max(months, 12), 12)
    day = published_on.day
    while True:  # the same day of the month, or the month's last day
        try:
            available_until = dt.date(year, month0 + 1, day)
            break
        except ValueError:
            day -= 1
    if params.get("available_until"):
        asked = _date(params["available_until"], "available_until")
        if asked < available_until:
            raise ValueError(f"available_until must be on or after {available_until.isoformat()}:"
                             " a publication stays on the register for 12 calendar months "
                             "after it is published")
        available_until = asked
    row = Publication(case_reference=reference, kind=str(params.get("kind") or "report"),
                      title=str(params.get("title") or f"Review {reference}"),
                      published_on=published_on, available_until=available_until,
                      location=str(params.get("location") or ""),
                      readership=params.get("readership"), recorded_by=actor, created_at=at)
    uow.session.add(row)
    return row


def _actions(uow: UnitOfWork, reference: str) -> list[Action]:
    return list(uow.session.scalars(select(Action).where(Action.case_reference == reference)
                                    .order_by(Action.id)))


def plan_status(uow: UnitOfWork, params: dict[str, Any], *,
                now: dt.datetime) -> dict[str, Any]:
    """Where a case's action plan stands, for the monitoring process's gateways."""
    reference = str(params.get("reference"))
    today = now.date()
    actions = _actions(uow, reference)
    live = [a for a in actions if a.status in OPEN]
    overdue = [a for a in live if a.target_date < today]
    due_soon = [a for a in live if today <= a.target_date <= today + dt.timedelta(REMIND_DAYS)]
    return {
        "total": len(actions),
        "open": len(live),
        "overdue": [a.id for a in overdue],
        "newly_overdue": [a.id for a in overdue if a.escalated_at is None],
        "due_soon": [a.id for a in due_soon if a.reminded_at is None],
        "awaiting_sign_off": [a.id for a in actions if a.status == "completed"
                              and a.signed_off_at is None],
        "all_signed_off": all(a.signed_off_at is not None or a.status == "cancelled"
                              for a in actions),
    }


def _marked(uow: UnitOfWork, instance: ProcessInstance, params: dict[str, Any],
            at: dt.datetime, actor: str | None, field: str, event: str) -> None:
    wanted = {int(i) for i in params.get("action_ids") or []}
    for action in _actions(uow, str(params.get("reference"))):
        if action.id in wanted and getattr(action, field) is None:
            setattr(action, field, at)
            timeline.record(uow, instance.id, event, at, actor, detail={
                "action_id": action.id, "owner_agency": action.owner_agency,
                "target_date": action.target_date.isoformat(), "action": action.action})


def remind_owners(uow: UnitOfWork, instance: ProcessInstance, params: dict[str, Any],
                  at: dt.datetime, actor: str | None) -> None:
    _marked(uow, instance, params, at, actor, "reminded_at", "action_reminder_sent")


def escalate_overdue(uow: UnitOfWork, instance: ProcessInstance, params: dict[str, Any],
                     at: dt.datetime, actor: str | None) -> None:
    _marked(uow, instance, params, at, actor, "escalated_at", "action_escalated")
