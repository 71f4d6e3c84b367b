"""Actions, publications and learning events: the registers of learning and improvement."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.params import IsoDate
from app.api.schemas import ERROR_RESPONSES, MAX_INT, Page, ReasonText
from app.services import actions, agencies, learning
from app.services.errors import Invalid

router = APIRouter(prefix="/api/v1", tags=["learning"], dependencies=[CHECKED_INPUT])

ActionStatus = Literal["not_started", "in_progress", "completed", "cancelled"]
PublicationKind = Literal["report", "summary", "seven_minute_briefing", "board_response",
                          "management_letter"]
EventKind = Literal["learning_event", "forum", "briefing", "training"]
ActionId = Path(ge=1, le=MAX_INT)


class ActionPublic(BaseModel):
    id: int
    case_reference: str
    recommendation_id: int | None
    action: str
    owner_agency: str
    lead: str
    target_date: dt.date
    measure_of_success: str
    status: str
    progress: str | None
    evidence: str | None
    cancel_reason: str | None
    completed_on: dt.date | None
    signed_off_by: str | None
    signed_off_at: dt.datetime | None
    overdue: bool
    rag: Literal["red", "amber", "green"]


class ActionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ActionStatus | None = None
    progress: str | None = Field(None, max_length=10000)
    evidence: str | None = Field(None, max_length=10000,
                                 description="required to mark the action completed")
    cancel_reason: ReasonText | None = Field(None, max_length=5000,
                                      description="required to cancel the action")


def _action(found: actions.ActionView) -> ActionPublic:
    row = found.action
    return ActionPublic(
        id=row.id, case_reference=row.case_reference, recommendation_id=row.recommendation_id,
        action=row.action, owner_agency=row.owner_agency, lead=row.lead,
        target_date=row.target_date, measure_of_success=row.measure_of_success,
        status=row.status, progress=row.progress, evidence=row.evidence,
        cancel_reason=row.cancel_reason, completed_on=row.completed_on,
        signed_off_by=row.signed_off_by, signed_off_at=row.signed_off_at,
        overdue=found.overdue, rag=found.rag)


@router.get("/actions", response_model=Page[ActionPublic])
async def list_actions(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                       agency: str | None = Query(None, max_length=100),
                       case: str | None = Query(None, max_length=20),
                       status: ActionStatus | None = None, overdue: bool | None = None,
                       due_before: IsoDate | None = None, limit: int = Query(100, ge=1, le=500),
                       offset: int = Query(0, ge=0, le=MAX_INT)) -> Page[ActionPublic]:
    """SMART actions from every review; agency leads see their agency's."""
    filters = actions.ActionFilter(agency=agency, case_reference=case, status=status,
                                   overdue=overdue, due_before=due_before)
    rows, total = await serving.answer(
        audit, lambda: actions.list_actions(ctx, principal, filters, limit, offset))
    return Page[ActionPublic](items=[_action(r) for r in rows], total=total, limit=limit,
                              offset=offset)


@router.get("/actions/{action_id}", response_model=ActionPublic, responses=ERROR_RESPONSES)
async def get_action(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                     action_id: int = ActionId) -> ActionPublic:
    return _action(await serving.answer(audit, lambda: actions.get(ctx, principal, action_id)))


@router.patch("/actions/{action_id}", response_model=ActionPublic, responses=ERROR_RESPONSES)
async def update_action(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                        body: ActionUpdate, action_id: int = ActionId) -> ActionPublic:
    """The owner agency's lead reports progress and evidence; recorded on the case timeline."""
    return await serving.answer(audit, lambda: _action(actions.update(
        ctx, principal, action_id, body.status, body.progress, body.evidence,
        body.cancel_reason)))


@router.post("/actions/{action_id}/sign-off", response_model=ActionPublic,
             responses=ERROR_RESPONSES)
async def sign_off_action(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                          action_id: int = ActionId) -> ActionPublic:
    """A panel member confirms a completed (or cancelled) action."""
    return await serving.answer(audit, lambda: _action(
        actions.sign_off(ctx, principal, action_id)))


class PublicationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_reference: str
    kind: str
    title: str
    published_on: dt.date
    available_until: dt.date | None
    location: str
    readership: str | None
    recorded_by: str


class PublicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_reference: str = Field(min_length=1, max_length=20)
    kind: PublicationKind
    title: str = Field(min_length=1, max_length=500)
    published_on: IsoDate
    location: str = Field(min_length=1, max_length=500)
    readership: str | None = Field(None, max_length=100)
    months_available: int = Field(12, ge=12, le=600,
                                  description="at least 12: reports stay published a year")
    available_until: IsoDate | None = Field(
        None, description="default: exactly `months_available` calendar months after "
                          "published_on; an earlier date than 12 months after it is refused")


@router.get("/publications", response_model=Page[PublicationPublic])
async def list_publications(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                            case: str | None = Query(None, max_length=20),
                            kind: PublicationKind | None = None,
                            year: int | None = Query(None, ge=2000, le=2100),
                            limit: int = Query(100, ge=1, le=500),
                            offset: int = Query(0, ge=0, le=MAX_INT)) -> Page[PublicationPublic]:
    """What was published, when, where, for whom and until when."""
    rows, total = await serving.answer(audit, lambda: learning.list_publications(
        ctx, principal, case, kind, year, limit, offset))
    return Page[PublicationPublic](items=[PublicationPublic.model_validate(r) for r in rows],
                                   total=total, limit=limit, offset=offset)


@router.post("/publications", status_code=status.HTTP_201_CREATED,
             response_model=PublicationPublic, responses=ERROR_RESPONSES)
async def add_publication(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                          body: PublicationCreate) -> PublicationPublic:
    new = learning.NewPublication(
        body.case_reference, body.kind, body.title, body.published_on, body.location,
        body.readership, body.months_available, body.available_until)
    return await serving.answer(audit, lambda: PublicationPublic.model_validate(
        learning.add_publication(ctx, principal, new)))


class LearningEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    held_on: dt.date
    kind: str
    purpose: str
    attendance: dict[str, int]
    outputs: str
    case_reference: str | None
    recorded_by: str


class LearningEventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: IsoDate
    kind: EventKind
    purpose: str = Field(min_length=1, max_length=5000)
    attendance: dict[str, int] = Field(description="people attending, by agency")
    outputs: str = Field(min_length=1, max_length=20000)
    case_reference: str | None = Field(None, max_length=20)


@router.get("/learning-events", response_model=Page[LearningEventPublic])
async def list_learning_events(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                               year: int | None = Query(None, ge=2000, le=2100),
                               kind: EventKind | None = None,
                               case: str | None = Query(None, max_length=20),
                               limit: int = Query(100, ge=1, le=500),
                               offset: int = Query(0, ge=0, le=MAX_INT),
                               ) -> Page[LearningEventPublic]:
    rows, total = await serving.answer(audit, lambda: learning.list_events(
        ctx, principal, year, kind, case, limit, offset))
    return Page[LearningEventPublic](items=[LearningEventPublic.model_validate(r) for r in rows],
                                     total=total, limit=limit, offset=offset)


@router.post("/learning-events", status_code=status.HTTP_201_CREATED,
             response_model=LearningEventPublic, responses=ERROR_RESPONSES)
async def add_learning_event(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                             body: LearningEventCreate) -> LearningEventPublic:
    """A learning event, multi-agency forum, briefing or training session."""
    if any(count < 0 for count in body.attendance.values()):
        raise Invalid("attendance cannot be negative", field="attendance")

    def add() -> LearningEventPublic:
        agencies.require_known(ctx, body.attendance, "attendance")  # reads the register
        return LearningEventPublic.model_validate(learning.add_event(
            ctx, principal, body.held_on, body.kind, body.purpose, body.attendance,
            body.outputs, body.case_reference))

    return await serving.answer(audit, add)
