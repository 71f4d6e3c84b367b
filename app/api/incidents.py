"""Worker incidents: what a worker loop could not do on an instance, for the board manager."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.schemas import ERROR_RESPONSES, MAX_INT, Page
from app.services import incidents

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"], dependencies=[CHECKED_INPUT])


class IncidentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    instance_id: str
    source: str
    error_type: str
    message: str
    attempts: int
    first_at: dt.datetime
    last_at: dt.datetime
    retry_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolved_by: str | None


@router.get("", response_model=Page[IncidentPublic])
async def list_incidents(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                         limit: int = Query(100, ge=1, le=1000),
                         offset: int = Query(0, ge=0, le=MAX_INT)) -> Page[IncidentPublic]:
    """Open incidents, oldest first. `retry_at` is when the worker tries the instance again;
    null means it is parked in `error` until someone retries it (`POST
    /api/v1/instances/{id}/retry`, which resolves the incident when the instance runs)."""
    rows, total = await serving.answer(
        audit, lambda: incidents.list_open(ctx, principal, limit, offset))
    return Page[IncidentPublic](items=[IncidentPublic.model_validate(r) for r in rows],
                                total=total, limit=limit, offset=offset)


@router.post("/{incident_id}/resolve", response_model=IncidentPublic,
             responses=ERROR_RESPONSES)
async def resolve_incident(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                           incident_id: int = Path(ge=1, le=MAX_INT)) -> IncidentPublic:
    """Close an incident by hand, for example once its instance has been terminated."""
    return await serving.answer(audit, lambda: IncidentPublic.model_validate(
        incidents.resolve(ctx, principal, incident_id)))
