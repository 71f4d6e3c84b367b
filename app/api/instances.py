"""Process instances: start, read, list, terminate, retry, timeline."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api import idempotent, serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.idempotent import IdempotencyKeyHeader
from app.api.schemas import (
    ERROR_RESPONSES,
    MAX_INT,
    EventPublic,
    InstanceDetail,
    InstancePublic,
    Page,
    ReasonText,
    instance_detail,
)
from app.rendering import diagram
from app.services import diagrams, instances, migrations

router = APIRouter(prefix="/api/v1/instances", tags=["instances"], dependencies=[CHECKED_INPUT])

IdPath = Path(min_length=1, max_length=36, description="The instance id")


class InstanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    process_key: str = Field(min_length=1, max_length=255)
    business_key: str | None = Field(None, min_length=1, max_length=255)
    data: dict[str, Any] = Field(default_factory=dict)


class TerminateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ReasonText | None = Field(None, max_length=2000)


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(default_factory=dict,
                                 description="Corrections merged into the failed task's data")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InstanceDetail,
             responses=ERROR_RESPONSES)
async def start_instance(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                         body: InstanceCreate, idempotency_key: IdempotencyKeyHeader = None,
                         ) -> InstanceDetail | Response:
    """Start the latest version of a process and run it to its first wait state."""
    return await serving.command(audit, lambda command: idempotent.serve(
        ctx, principal, "start_instance", idempotency_key, body, status.HTTP_201_CREATED,
        command, lambda command: instances.start(
            ctx, principal, body.process_key, body.business_key, body.data, command),
        instance_detail))


@router.get("", response_model=Page[InstancePublic])
async def list_instances(
    ctx: ContextDep,
    principal: PrincipalDep,
    audit: AuditDep,
    status: Literal["running", "waiting", "completed", "terminated", "error"] | None = None,
    process_key: str | None = Query(None, max_length=255),
    business_key: str | None = Query(None, max_length=255),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_INT),
) -> Page[InstancePublic]:
    rows, total = await serving.answer(audit, lambda: instances.list_instances(
        ctx, principal, status, process_key, business_key, limit, offset))
    return Page[InstancePublic](items=[InstancePublic.model_validate(r) for r in rows],
                                total=total, limit=limit, offset=offset)


@router.get("/{instance_id}", response_model=InstanceDetail, responses=ERROR_RESPONSES)
async def get_instance(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                       instance_id: str = IdPath) -> InstanceDetail:
    return instance_detail(await serving.answer(
        audit, lambda: instances.get(ctx, principal, instance_id)))


@router.post("/{instance_id}/terminate", response_model=InstanceDetail,
             responses=ERROR_RESPONSES)
async def terminate_instance(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                             instance_id: str = IdPath,
                             body: Annotated[TerminateRequest | None, Body()] = None,
                             ) -> InstanceDetail:
    """Stop an instance for good; its open tasks are cancelled."""
    reason = body.reason if body else None
    return await serving.command(audit, lambda command: instance_detail(
        instances.terminate(ctx, principal, instance_id, reason, command)))


@router.post("/{instance_id}/retry", response_model=InstanceDetail, responses=ERROR_RESPONSES)
async def retry_instance(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                         instance_id: str = IdPath,
                         body: Annotated[RetryRequest | None, Body()] = None) -> InstanceDetail:
    """Run the failed step of an instance in `error` again, once its cause is fixed."""
    return await serving.command(audit, lambda command: instance_detail(instances.retry(
        ctx, principal, instance_id, body.data if body else None, command)))


class MigrateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_version: int | None = Field(None, ge=1, le=MAX_INT,
                                   description="the latest version when not given")
    dry_run: bool = Field(False, description="only say whether it can move and what blocks it")


class MigrationResultPublic(BaseModel):
    instance_id: str
    from_version: int
    to_version: int
    blockers: list[str]
    migrated: bool


@router.post("/{instance_id}/migrate", response_model=MigrationResultPublic,
             responses=ERROR_RESPONSES)
async def migrate_instance(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                           body: MigrateRequest,
                           instance_id: str = IdPath) -> MigrationResultPublic:
    """Move the instance to a newer version if every element it reached still exists (409 with
    the blocking elements if not)."""
    return await serving.answer(audit, lambda: MigrationResultPublic(**vars(migrations.migrate(
        ctx, principal, instance_id, body.to_version, body.dry_run))))


@router.get("/{instance_id}/diagram.svg", responses={
    **ERROR_RESPONSES, 200: {"content": {"image/svg+xml": {}}, "description": "The diagram"}})
async def instance_diagram(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                           instance_id: str = IdPath) -> Response:
    """The process as SVG with completed, active and waiting elements highlighted."""
    drawn = await serving.answer(audit, lambda: diagram.draw(
        diagrams.instance_diagram(ctx, principal, instance_id)))
    return Response(drawn, media_type="image/svg+xml")


@router.get("/{instance_id}/timeline", response_model=list[EventPublic],
            responses=ERROR_RESPONSES)
async def get_timeline(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                       instance_id: str = IdPath,
                       after_id: int = Query(0, ge=0, le=MAX_INT,
                                             description="Only events after this id"),
                       limit: int = Query(1000, ge=1, le=5000)) -> list[EventPublic]:
    """Everything that happened to the instance, oldest first."""
    events = await serving.answer(audit, lambda: instances.events(
        ctx, principal, instance_id, after_id, limit))
    return [EventPublic.model_validate(event) for event in events]
