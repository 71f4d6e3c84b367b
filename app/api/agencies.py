"""The Board's agency register: the ids every agency field takes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.deps import ContextDep, PrincipalDep
from app.api.routing import ServiceRoute
from app.services import agencies

router = APIRouter(prefix="/api/v1", tags=["agencies"], route_class=ServiceRoute)


class AgencyPublic(BaseModel):
    id: str
    name: str
    kind: str


@router.get("/agencies", response_model=list[AgencyPublic])
def list_agencies(ctx: ContextDep, principal: PrincipalDep) -> list[AgencyPublic]:
    """The partner agencies (`processes/agencies.json`), for any signed-in caller."""
    del principal  # any role may read the register; the dependency authenticates the caller
    return [AgencyPublic(id=a.id, name=a.name, kind=a.kind)
            for a in agencies.register(ctx).agencies]
