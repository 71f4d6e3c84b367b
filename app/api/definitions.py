"""Deployed process definitions and their versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict

from app.api.deps import ContextDep, PrincipalDep
from app.api.schemas import ERROR_RESPONSES
from app.auth import policy
from app.engine.simulation import Scenario
from app.services import deployments, simulations

router = APIRouter(prefix="/api/v1/definitions", tags=["definitions"])

KeyPath = Path(min_length=1, max_length=255, description="The BPMN process id")


class VersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    process_key: str
    version: int
    name: str
    content_hash: str
    source_file: str
    deployment_id: int
    deployed_at: dt.datetime
    deployed_by: str


class DefinitionPublic(VersionPublic):
    versions: int


class DefinitionDetail(BaseModel):
    process_key: str
    versions: list[VersionPublic]


@router.get("", response_model=list[DefinitionPublic])
def list_definitions(ctx: ContextDep, principal: PrincipalDep) -> list[DefinitionPublic]:
    """The latest version of each deployed process."""
    policy.require(principal, "read_definitions")
    with ctx.uow() as uow:
        return [DefinitionPublic.model_validate({**VersionPublic.model_validate(row).model_dump(),
                                                 "versions": count})
                for row, count in deployments.list_latest(uow)]


@router.get("/{key}", response_model=DefinitionDetail, responses=ERROR_RESPONSES)
def get_definition(ctx: ContextDep, principal: PrincipalDep,
                   key: str = KeyPath) -> DefinitionDetail:
    """Every version of one process, oldest first."""
    policy.require(principal, "read_definitions")
    with ctx.uow() as uow:
        versions = deployments.list_versions(uow, key)
        return DefinitionDetail(process_key=key,
                                versions=[VersionPublic.model_validate(v) for v in versions])


class SimulationPublic(BaseModel):
    process: str
    passed: bool
    status: str
    path: list[str]
    decisions: list[dict[str, Any]]
    gateways: list[dict[str, Any]]
    operators: list[dict[str, Any]]
    timers: list[str]
    ready: list[str]
    data: dict[str, Any]
    failures: list[str]
    ended_at: str


@router.post("/{key}/simulate", response_model=SimulationPublic, responses=ERROR_RESPONSES)
def simulate_definition(ctx: ContextDep, principal: PrincipalDep, scenario: Scenario,
                        key: str = KeyPath) -> SimulationPublic:
    """Run the latest version in memory with scripted answers; nothing is stored."""
    report = simulations.simulate_deployed(ctx, principal, key, scenario)
    return SimulationPublic(passed=report.passed, **vars(report))


@router.get("/{key}/versions/{version}/xml", responses={
    **ERROR_RESPONSES, 200: {"content": {"application/xml": {}}, "description": "The file"}})
def get_version_xml(ctx: ContextDep, principal: PrincipalDep, version: int = Path(ge=1),
                    key: str = KeyPath) -> Response:
    """The BPMN file this version was deployed from, byte for byte."""
    policy.require(principal, "read_definitions")
    with ctx.uow() as uow:
        row = deployments.get_version(uow, key, version)
        content = deployments.version_source(uow, row)
    return Response(content, media_type="application/xml", headers={
        "Content-Disposition": f'inline; filename="{row.source_file}"'})
