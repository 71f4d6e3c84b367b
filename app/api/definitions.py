"""Deployed process definitions and their versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.schemas import ERROR_RESPONSES, MAX_INT
from app.auth import policy
from app.auth.principal import Principal
from app.engine.simulation import Scenario
from app.rendering import diagram
from app.services import deployments, diagrams, migrations, simulations
from app.services.context import ServiceContext

router = APIRouter(prefix="/api/v1/definitions", tags=["definitions"],
                   dependencies=[CHECKED_INPUT])

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
async def list_definitions(ctx: ContextDep, principal: PrincipalDep,
                           audit: AuditDep) -> list[DefinitionPublic]:
    """The latest version of each deployed process."""
    return await serving.answer(audit, lambda: _latest(ctx, principal))


def _latest(ctx: ServiceContext, principal: Principal) -> list[DefinitionPublic]:
    policy.require(principal, "read_definitions")
    with ctx.uow() as uow:
        return [DefinitionPublic.model_validate({**VersionPublic.model_validate(row).model_dump(),
                                                 "versions": count})
                for row, count in deployments.list_latest(uow)]


@router.get("/{key}", response_model=DefinitionDetail, responses=ERROR_RESPONSES)
async def get_definition(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                         key: str = KeyPath) -> DefinitionDetail:
    """Every version of one process, oldest first."""
    return await serving.answer(audit, lambda: _definition(ctx, principal, key))


def _definition(ctx: ServiceContext, principal: Principal, key: str) -> DefinitionDetail:
    policy.require(principal, "read_definitions")
    with ctx.uow() as uow:
        versions = deployments.list_versions(uow, key)
        return DefinitionDetail(process_key=key,
                                versions=[VersionPublic.model_validate(v) for v in versions])


class ChangesPublic(BaseModel):
    added: list[str]
    removed: list[str]
    changed: dict[str, list[str]] = Field(description="element id -> attributes that changed")


class VersionHistoryPublic(VersionPublic):
    changes_from_previous: ChangesPublic | None


class MigrateAll(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_version: int | None = Field(None, ge=1, le=MAX_INT,
                                     description="only instances on this version")
    to_version: int | None = Field(None, ge=1, le=MAX_INT,
                                   description="the latest version when not given")
    dry_run: bool = True


class MigrationPublic(BaseModel):
    instance_id: str
    from_version: int
    to_version: int
    blockers: list[str]
    migrated: bool


class MigrateAllPublic(BaseModel):
    dry_run: bool
    migrated: int
    blocked: int
    results: list[MigrationPublic]


SVG_RESPONSE: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES, 200: {"content": {"image/svg+xml": {}}, "description": "The diagram"}}


@router.get("/{key}/diagram.svg", responses=SVG_RESPONSE)
async def definition_diagram(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                             key: str = KeyPath,
                             version: int | None = Query(None, ge=1, le=MAX_INT,
                                                         description="latest if not given"),
                             ) -> Response:
    """The process as SVG, each user task badged with how many running instances wait there."""
    return await serving.answer(audit, lambda: Response(
        diagram.draw(diagrams.definition_diagram(ctx, principal, key, version)),
        media_type="image/svg+xml"))


@router.get("/{key}/heat", response_model=dict[str, int], responses=ERROR_RESPONSES)
async def definition_heat(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                          key: str = KeyPath,
                          version: int | None = Query(None, ge=1, le=MAX_INT)) -> dict[str, int]:
    """Running instances waiting at each element (a heat view of where cases wait)."""
    return await serving.answer(audit, lambda: diagrams.heat(ctx, principal, key, version))


@router.get("/{key}/versions", response_model=list[VersionHistoryPublic],
            responses=ERROR_RESPONSES)
async def list_versions(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                        key: str = KeyPath) -> list[VersionHistoryPublic]:
    """Who deployed each version when, and what changed from the version before."""
    history = await serving.answer(audit, lambda: migrations.history(ctx, principal, key))
    return [VersionHistoryPublic(
        **VersionPublic.model_validate(item.version).model_dump(),
        changes_from_previous=ChangesPublic(**vars(item.changes)) if item.changes else None)
        for item in history]


@router.get("/{key}/diff", response_model=ChangesPublic, responses=ERROR_RESPONSES)
async def diff_versions(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                        key: str = KeyPath,
                        from_version: int = Query(ge=1, le=MAX_INT, alias="from"),
                        to_version: int = Query(ge=1, le=MAX_INT, alias="to")) -> ChangesPublic:
    """Elements added, removed and changed between two versions."""
    changes = await serving.answer(
        audit, lambda: migrations.diff(ctx, principal, key, from_version, to_version))
    return ChangesPublic(**vars(changes))


@router.post("/{key}/migrate", response_model=MigrateAllPublic, responses=ERROR_RESPONSES)
async def migrate_instances(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                            body: MigrateAll, key: str = KeyPath) -> MigrateAllPublic:
    """Move every running instance that can move to a newer version (a dry run by default)."""
    return await serving.answer(audit, lambda: _migrate(ctx, principal, key, body))


def _migrate(ctx: ServiceContext, principal: Principal, key: str,
             body: MigrateAll) -> MigrateAllPublic:
    results = migrations.migrate_all(ctx, principal, key, body.from_version, body.to_version,
                                     body.dry_run)
    return MigrateAllPublic(
        dry_run=body.dry_run, migrated=sum(r.migrated for r in results),
        blocked=sum(bool(r.blockers) for r in results),
        results=[MigrationPublic(**vars(r)) for r in results])


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
async def simulate_definition(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                              scenario: Scenario, key: str = KeyPath) -> SimulationPublic:
    """Run the latest version in memory with scripted answers; nothing is stored."""
    report = await serving.answer(
        audit, lambda: simulations.simulate_deployed(ctx, principal, key, scenario))
    return SimulationPublic(passed=report.passed, **vars(report))


@router.get("/{key}/versions/{version}/xml", responses={
    **ERROR_RESPONSES, 200: {"content": {"application/xml": {}}, "description": "The file"}})
async def get_version_xml(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                          version: int = Path(ge=1, le=MAX_INT),
                          key: str = KeyPath) -> Response:
    """The BPMN file this version was deployed from, byte for byte."""
    return await serving.answer(audit, lambda: _version_xml(ctx, principal, key, version))


def _version_xml(ctx: ServiceContext, principal: Principal, key: str, version: int) -> Response:
    policy.require(principal, "read_definitions")
    with ctx.uow() as uow:
        row = deployments.get_version(uow, key, version)
        content = deployments.version_source(uow, row)
    return Response(content, media_type="application/xml", headers={
        "Content-Disposition": f'inline; filename="{row.source_file}"'})
