"""The publication register and the learning events that cascade what reviews found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, extract, func, or_, select

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import LearningEvent, Publication, ReviewCase
from app.db.uow import UnitOfWork
from app.services import register
from app.services.context import ServiceContext
from app.services.errors import Invalid

PUBLICATION_KINDS = ("report", "summary", "seven_minute_briefing", "board_response",
                     "management_letter")
EVENT_KINDS = ("learning_event", "forum", "briefing", "training")


@dataclass(frozen=True)
class NewPublication:
    case_reference: str
    kind: str
    title: str
    published_on: dt.date
    location: str
    readership: str | None
    months: int = 12
    available_until: dt.date | None = None


def _visible_references(principal: Principal) -> Select[str]:
    return select(ReviewCase.reference).where(policy.visible_cases(principal))


def list_publications(ctx: ServiceContext, principal: Principal, case: str | None,
                      kind: str | None, year: int | None, limit: int,
                      offset: int) -> tuple[list[Publication], int]:
    policy.require(principal, "read_learning")
    # An agency lead sees what was published about the cases involving their agency only.
    query = select(Publication).where(
        Publication.case_reference.in_(_visible_references(principal)))
    if case:
        query = query.where(Publication.case_reference == case)
    if kind:
        query = query.where(Publication.kind == kind)
    if year:
        query = query.where(extract("year", Publication.published_on) == year)
    with ctx.uow(read_only=True) as uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(uow.session.scalars(query.order_by(Publication.published_on.desc(),
                                                       Publication.id.desc())
                                        .limit(limit).offset(offset)))
        return rows, total


def add_publication(ctx: ServiceContext, principal: Principal,
                    item: NewPublication) -> Publication:
    policy.require(principal, "record_publication")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if uow.session.scalar(select(ReviewCase.id).where(
                ReviewCase.reference == item.case_reference)) is None:
            raise Invalid(f"no case has the reference '{item.case_reference}'",
                          field="case_reference")
        try:
            row = register.publish(uow, item.case_reference, {
                "kind": item.kind, "title": item.title,
                "published_on": item.published_on.isoformat(), "location": item.location,
                "readership": item.readership,
                "available_until": item.available_until.isoformat() if item.available_until
                else None}, principal.name, now, months=item.months)
        except ValueError as error:  # a shorter stay on the register than 12 months
            raise Invalid(str(error), field="available_until") from None
        uow.commit()
        return row


def list_events(ctx: ServiceContext, principal: Principal, year: int | None, kind: str | None,
                case: str | None, limit: int, offset: int) -> tuple[list[LearningEvent], int]:
    policy.require(principal, "read_learning")
    query = select(LearningEvent).where(or_(
        LearningEvent.case_reference.is_(None),
        LearningEvent.case_reference.in_(_visible_references(principal))))
    if year:
        query = query.where(extract("year", LearningEvent.held_on) == year)
    if kind:
        query = query.where(LearningEvent.kind == kind)
    if case:
        query = query.where(LearningEvent.case_reference == case)
    with ctx.uow(read_only=True) as uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(uow.session.scalars(query.order_by(LearningEvent.held_on.desc(),
                                                       LearningEvent.id.desc())
                                        .limit(limit).offset(offset)))
        return rows, total


def event_from_route(uow: UnitOfWork, reference: str, params: dict[str, Any],
                     at: dt.datetime, actor: str | None) -> LearningEvent:
    """A learning event a review route held, for the same register `add_event` writes: the
    route's form gives attendance as [{"agency", "attendees"}], the register keeps a mapping."""
    try:
        held_on = dt.date.fromisoformat(str(params.get("held_on"))[:10])
    except ValueError:
        raise ValueError(f"held_on is not a date: {params.get('held_on')!r}") from None
    attendance: dict[str, int] = {}
    for item in params.get("attendance") or []:
        if not isinstance(item, dict) or not item.get("agency"):
            raise ValueError("attendance must be a list of {agency, attendees}")
        agency = str(item["agency"])
        attendance[agency] = attendance.get(agency, 0) + int(item.get("attendees") or 0)
    row = LearningEvent(held_on=held_on, kind="learning_event",
                        purpose=str(params.get("purpose") or "Practitioners' learning event"),
                        attendance=attendance, outputs=str(params.get("key_learning") or ""),
                        case_reference=reference, recorded_by=actor or "system", created_at=at)
    uow.session.add(row)
    return row


def add_event(ctx: ServiceContext, principal: Principal, held_on: dt.date, kind: str,
              purpose: str, attendance: dict[str, int], outputs: str,
              case_reference: str | None) -> LearningEvent:
    policy.require(principal, "record_learning")
    with ctx.uow() as uow:
        if case_reference and uow.session.scalar(select(ReviewCase.id).where(
                ReviewCase.reference == case_reference)) is None:
            raise Invalid(f"no case has the reference '{case_reference}'",
                          field="case_reference")
        row = LearningEvent(held_on=held_on, kind=kind, purpose=purpose,
                            attendance=attendance, outputs=outputs,
                            case_reference=case_reference, recorded_by=principal.name,
                            created_at=ctx.clock.now())
        uow.session.add(row)
        uow.commit()
        return row

