"""The Board's agency register: the ids every agency field takes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.services import agencies

router = APIRouter(prefix="/api/v1", tags=["agencies"], dependencies=[CHECKED_INPUT])


class AgencyPublic(BaseModel):
    id: str
    name: str
    kind: str


@router.get("/agencies", response_model=list[AgencyPublic])
async def list_agencies(ctx: ContextDep, principal: PrincipalDep,
                        audit: AuditDep) -> list[AgencyPublic]:
    """The partner agencies (`processes/agencies.json`), for any signed-in caller."""
    del principal  # any role may read the register; the dependency authenticates the caller
    found = await serving.answer(audit, lambda: agencies.register(ctx).agencies)
    return [AgencyPublic(id=a.id, name=a.name, kind=a.kind) for a in found]
