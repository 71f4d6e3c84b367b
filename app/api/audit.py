"""GET /api/v1/audit: who read or changed what (the entries are written by `audit_trail`)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.params import IsoDateTime
from app.api.schemas import MAX_INT, Page
from app.auth import audit, policy
from app.auth.principal import Principal
from app.services.context import ServiceContext

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], dependencies=[CHECKED_INPUT])


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor: str | None
    roles: list[str]
    agency: str | None
    action: str
    method: str
    path: str
    target_type: str | None
    target_id: str | None
    status: int
    outcome: str
    detail: dict[str, object]


@router.get("", response_model=Page[AuditEntryPublic])
async def list_audit(ctx: ContextDep, principal: PrincipalDep, request_audit: AuditDep,
                     actor: str | None = None,
                     action: str | None = None, target_type: str | None = None,
                     target_id: str | None = None, outcome: str | None = None,
                     since: IsoDateTime | None = None, until: IsoDateTime | None = None,
                     limit: int = Query(100, ge=1, le=1000),
                     offset: int = Query(0, ge=0, le=MAX_INT)) -> Page[AuditEntryPublic]:
    """Who read or changed what, oldest first (auditors and admins only)."""
    return await serving.answer(request_audit, lambda: _entries(
        ctx, principal, actor, action, target_type, target_id, outcome, since, until, limit,
        offset))


def _entries(ctx: ServiceContext, principal: Principal, actor: str | None, action: str | None,
             target_type: str | None, target_id: str | None, outcome: str | None,
             since: dt.datetime | None, until: dt.datetime | None, limit: int,
             offset: int) -> Page[AuditEntryPublic]:
    policy.require(principal, "read_audit")
    with ctx.uow() as uow:
        rows, total = audit.query(uow.session, actor, action, target_type, target_id, outcome,
                                  since, until, limit, offset)
        return Page[AuditEntryPublic](items=[AuditEntryPublic.model_validate(r) for r in rows],
                                      total=total, limit=limit, offset=offset)
