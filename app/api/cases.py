"""Referrals and cases: the case register, escalations and urgent concerns."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api import idempotent, serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.idempotent import IdempotencyKeyHeader
from app.api.params import IsoDate
from app.api.schemas import (
    ERROR_RESPONSES,
    MAX_INT,
    EventPublic,
    Page,
    ReasonText,
    ReferencePath,
    TaskSummary,
)
from app.auth import policy
from app.auth.principal import Principal
from app.services import cases, deadlines
from app.services.errors import Invalid

router = APIRouter(tags=["cases"], dependencies=[CHECKED_INPUT])

Grade = Literal["catastrophic", "severe", "significant", "moderate", "low", "best_practice"]
CaseStatus = Literal["screening", "awaiting_endorsement", "awaiting_national_panel", "in_review",
                     "monitoring", "closed", "declined", "erased"]
Route = Literal["extended", "concise", "single_agency", "audit"]


class ReferralFacts(BaseModel):
    """The incident facts the grading matrix reads; a missing fact means false or none, except
    `interagency_concern`, which means not yet known (never "no concerns")."""

    model_config = ConfigDict(extra="forbid")

    abuse_or_neglect: bool = False
    child_died: bool = False
    seriously_harmed: bool = False
    died_in_custody: bool = False
    suspected_suicide: bool = False
    hospital_admission_over_24h: bool = False
    transported_to_hospital: bool = False
    permanent_disability: bool = False
    sexual_abuse_or_cse: bool = False
    parent_domestic_homicide: bool = False
    significant_self_harm: bool = False
    parents_charged_neglect: bool = False
    missing_education: bool = False
    known_to_services: bool = False
    minor_injury: bool = False
    good_practice: bool = False
    interagency_concern: Literal["not_known", "none", "curiosity", "concern"] = Field(
        "not_known", description=(
            "Concern about how the agencies worked together. With abuse or neglect and serious "
            "harm, 'not_known' (the default: a missing answer is not 'no concerns') and "
            "'concern' grade catastrophic (r5(2)(b)(ii): an SCR unless it is clear there are no "
            "concerns); only 'none' lowers it; 'curiosity' is severe."))
    compliance_failure: Literal["none", "minor", "internal", "professional", "statutory"] = "none"


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    child_pseudonym: str = Field(min_length=1, max_length=100, examples=["Child A"])
    agencies: list[str] = Field(min_length=1, max_length=30,
                                examples=[["police", "health", "childrens_social_care"]],
                                json_schema_extra={"uniqueItems": True, "items": {
                                    "type": "string", "minLength": 1, "maxLength": 100,
                                    "pattern": r"\S"}})
    incident_date: IsoDate
    summary: str = Field(min_length=1, max_length=10000)
    facts: ReferralFacts = Field(default_factory=ReferralFacts)

    @field_validator("agencies")
    @classmethod
    def _agencies_unique(cls, value: list[str]) -> list[str]:
        cleaned = [agency.strip() for agency in value]
        if any(not agency or len(agency) > 100 for agency in cleaned):
            raise ValueError("each agency needs a name of 1 to 100 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("an agency is listed twice")
        return cleaned


class CasePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reference: str
    child_pseudonym: str
    agencies: list[str]
    incident_date: dt.date
    summary: str
    facts: dict[str, Any]
    status: str
    grade: str | None
    route: str | None
    review_type: str | None
    statutory: bool | None
    key_dates: dict[str, Any]
    outcome: dict[str, Any]
    referral_instance_id: str | None
    notify: list[str] = Field(default_factory=list, description=(
        "Who must be told of the case: the grading matrix's Reputation column (publication, "
        "media_coverage, political_questions, annual_report, single_agency_governance)"))
    scr_held: bool | None = Field(None, description=(
        "For a statutory case: true once a Serious Case Review is decided, false when the chair "
        "decided not to hold one (see scr_not_held_reason); null otherwise"))
    scr_not_held_reason: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None

    @field_validator("notify", mode="before")
    @classmethod
    def _no_audiences(cls, value: Any) -> Any:
        return [] if value is None else value


class CaseDetail(CasePublic):
    current_tasks: list[TaskSummary]


class CaseEventPublic(EventPublic):
    instance_id: str
    process_key: str


class DeadlinePublic(BaseModel):
    id: str
    label: str
    statutory: bool
    kind: str = Field(description="deadline, or minimum (a period that must pass, such as "
                                   "how long a report stays published)")
    due: dt.date | None
    state: Literal["met", "pending", "overdue", "not_started", "not_applicable"] = Field(
        description="not_applicable: the clock belongs to other cases (an SCR clock on a case "
                    "with no Serious Case Review, for example)")
    met_on: dt.date | None
    late: bool


class EscalationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: Grade
    reason: ReasonText = Field(min_length=1, max_length=5000)


class ConcernCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: ReasonText = Field(min_length=1, max_length=10000)


def _public(case: Any, principal: Principal) -> CasePublic:
    return CasePublic.model_validate(case).model_copy(
        update=policy.case_withheld(principal, case))


def _detail(view: cases.CaseView, principal: Principal) -> CaseDetail:
    return CaseDetail(**_public(view.case, principal).model_dump(),
                      current_tasks=[TaskSummary.model_validate(t) for t in view.tasks])


@router.post("/api/v1/referrals", status_code=status.HTTP_201_CREATED, response_model=CaseDetail,
             responses=ERROR_RESPONSES)
async def create_referral(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                          body: ReferralCreate, idempotency_key: IdempotencyKeyHeader = None,
                          ) -> CaseDetail | Response:
    """Open a case (reference `LIR-YYYY-NNNN`), grade it and start screening."""
    if body.incident_date > ctx.clock.now().date():
        raise Invalid("incident_date is in the future", field="incident_date")
    referral = cases.Referral(child_pseudonym=body.child_pseudonym, agencies=body.agencies,
                              incident_date=body.incident_date, summary=body.summary,
                              facts=body.facts.model_dump())
    return await serving.command(audit, lambda command: idempotent.serve(
        ctx, principal, "refer", idempotency_key, body, status.HTTP_201_CREATED, command,
        lambda command: cases.refer(ctx, principal, referral, command),
        lambda view: _detail(view, principal)))


@router.get("/api/v1/cases", response_model=Page[CasePublic])
async def list_cases(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                     status: CaseStatus | None = None, grade: Grade | None = None,
                     route: Route | None = None, limit: int = Query(50, ge=1, le=500),
                     offset: int = Query(0, ge=0, le=MAX_INT)) -> Page[CasePublic]:
    rows, total = await serving.answer(audit, lambda: cases.list_cases(
        ctx, principal, status, grade, route, limit, offset))
    return Page[CasePublic](items=[_public(r, principal) for r in rows], total=total,
                            limit=limit, offset=offset)


@router.get("/api/v1/cases/{reference}", response_model=CaseDetail, responses=ERROR_RESPONSES)
async def get_case(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                   reference: str = ReferencePath) -> CaseDetail:
    """Grade, route, status, key dates and the tasks open now."""
    return _detail(await serving.answer(audit, lambda: cases.get(ctx, principal, reference)),
                   principal)


@router.get("/api/v1/cases/{reference}/timeline", response_model=list[CaseEventPublic],
            responses=ERROR_RESPONSES)
async def get_case_timeline(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                            reference: str = ReferencePath) -> list[CaseEventPublic]:
    """The case's processes together (referral, routes, concerns), in time order."""
    events = await serving.answer(audit, lambda: cases.timeline(ctx, principal, reference))
    return [CaseEventPublic(**EventPublic.model_validate(event).model_dump(),
                            instance_id=event.instance_id, process_key=process_key)
            for event, process_key in events]


@router.get("/api/v1/cases/{reference}/deadlines", response_model=list[DeadlinePublic],
            responses=ERROR_RESPONSES)
async def get_case_deadlines(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                             reference: str = ReferencePath) -> list[DeadlinePublic]:
    """Every statutory clock and commissioning deadline: due date, state, and when it was met."""
    found = await serving.answer(audit, lambda: deadlines.for_case(ctx, principal, reference))
    return [DeadlinePublic(**vars(deadline)) for deadline in found]


@router.post("/api/v1/cases/{reference}/escalations", response_model=CaseDetail,
             responses=ERROR_RESPONSES)
async def escalate_case(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                        body: EscalationCreate, reference: str = ReferencePath) -> CaseDetail:
    """Raise the grade mid-route: the route is interrupted and the new grade's route starts."""
    return await serving.answer(audit, lambda: _detail(
        cases.escalate(ctx, principal, reference, body.grade, body.reason), principal))


@router.post("/api/v1/cases/{reference}/concerns", status_code=status.HTTP_201_CREATED,
             response_model=CaseDetail, responses=ERROR_RESPONSES)
async def raise_concern(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                        body: ConcernCreate, reference: str = ReferencePath) -> CaseDetail:
    """An urgent protection concern: a task for the board manager; the review goes on."""
    return await serving.command(audit, lambda command: _detail(
        cases.raise_concern(ctx, principal, reference, body.description, command), principal))
