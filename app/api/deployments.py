"""POST /api/v1/deployments: upload BPMN, DMN and form files together."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from pydantic import BaseModel

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.schemas import ERROR_RESPONSES
from app.auth import policy
from app.auth.principal import Principal
from app.engine.definitions import SourceFile
from app.services import deployments, validation
from app.services.context import ServiceContext
from app.services.errors import Invalid

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"],
                   dependencies=[CHECKED_INPUT])


class DeployedProcessPublic(BaseModel):
    key: str
    version: int
    name: str
    created: bool


class DeploymentPublic(BaseModel):
    deployment_id: int | None
    processes: list[DeployedProcessPublic]


def _read(files: list[UploadFile], limit: int) -> list[SourceFile]:
    """The uploaded files' content (blocking: an upload may have spilled to disk)."""
    sources: list[SourceFile] = []
    for upload in files:
        name = upload.filename or ""
        if not name:
            raise Invalid("every uploaded file needs a file name", field="files")
        content = upload.file.read(limit + 1)
        if len(content) > limit:
            raise Invalid(f"{name} is larger than the limit of {limit} bytes",
                          problems=[{"file": name, "element_id": None, "line": None,
                                     "reason": f"file is larger than {limit} bytes"}])
        sources.append(SourceFile(name, content))
    return sources


class ProblemPublic(BaseModel):
    file: str
    line: int | None
    element_id: str | None
    reason: str


class FileReportPublic(BaseModel):
    file: str
    processes: list[str]
    deployable: bool
    problems: list[ProblemPublic]


class ValidationPublic(BaseModel):
    valid: bool
    files: list[FileReportPublic]


@router.post("", status_code=status.HTTP_201_CREATED,
             response_model=DeploymentPublic | ValidationPublic,
             responses={**ERROR_RESPONSES, 200: {"model": ValidationPublic,
                                                 "description": "The dry run's report"}})
async def create_deployment(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                            response: Response, files: Annotated[list[UploadFile], File(
                                description=".bpmn, .dmn and .json form files, parsed together")],
                            dry_run: bool = Query(False, description="Only check the files and "
                                                  "report every problem; deploy nothing"),
                            ) -> DeploymentPublic | ValidationPublic:
    """Deploy files; a process gets a new version only when its content changed."""
    policy.require(principal, "deploy")
    if dry_run:
        response.status_code = status.HTTP_200_OK
    return await serving.answer(audit, lambda: _deploy(ctx, principal, files, dry_run), response)


def _deploy(ctx: ServiceContext, principal: Principal, files: list[UploadFile],
            dry_run: bool) -> DeploymentPublic | ValidationPublic:
    sources = _read(files, ctx.settings.max_upload_bytes)
    if dry_run:
        checked = validation.validate(sources)
        return ValidationPublic(valid=not checked.problems, files=[
            FileReportPublic(file=r.file, processes=r.processes, deployable=r.deployable,
                             problems=[ProblemPublic(**p.as_dict()) for p in r.problems])
            for r in checked.reports])
    result = deployments.deploy(ctx, principal, sources)
    return DeploymentPublic(deployment_id=result.deployment_id, processes=[
        DeployedProcessPublic(key=p.key, version=p.version, name=p.name, created=p.created)
        for p in result.processes])
