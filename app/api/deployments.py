"""POST /api/v1/deployments: upload BPMN, DMN and form files together."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from app.api.deps import ContextDep, PrincipalDep
from app.api.schemas import ERROR_RESPONSES
from app.auth import policy
from app.engine.definitions import SourceFile
from app.services import deployments
from app.services.errors import Invalid

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])


class DeployedProcessPublic(BaseModel):
    key: str
    version: int
    name: str
    created: bool


class DeploymentPublic(BaseModel):
    deployment_id: int | None
    processes: list[DeployedProcessPublic]


async def _read(files: list[UploadFile], limit: int) -> list[SourceFile]:
    sources: list[SourceFile] = []
    for upload in files:
        name = upload.filename or ""
        if not name:
            raise Invalid("every uploaded file needs a file name", field="files")
        content = await upload.read(limit + 1)
        if len(content) > limit:
            raise Invalid(f"{name} is larger than the limit of {limit} bytes",
                          problems=[{"file": name, "element_id": None, "line": None,
                                     "reason": f"file is larger than {limit} bytes"}])
        sources.append(SourceFile(name, content))
    return sources


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DeploymentPublic,
             responses=ERROR_RESPONSES)
async def create_deployment(ctx: ContextDep, principal: PrincipalDep,
                            files: Annotated[list[UploadFile], File(
                                description=".bpmn, .dmn and .json form files, parsed together")],
                            ) -> DeploymentPublic:
    """Deploy files; a process gets a new version only when its content changed."""
    policy.require(principal, "deploy")
    sources = await _read(files, ctx.settings.max_upload_bytes)
    result = await run_in_threadpool(deployments.deploy, ctx, principal, sources)
    return DeploymentPublic(deployment_id=result.deployment_id, processes=[
        DeployedProcessPublic(key=p.key, version=p.version, name=p.name, created=p.created)
        for p in result.processes])
