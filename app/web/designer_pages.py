"""The designer's pages: process definitions, their versions and diagrams; upload, check and
deploy BPMN, DMN and form files."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.auth import policy
from app.engine.definitions import SourceFile
from app.engine.validation import FileReport
from app.rendering.diagram import draw
from app.services import deployments, diagrams, migrations, validation
from app.services.context import ServiceContext
from app.services.errors import Invalid, NotFound
from app.web.session import PageUser, check_csrf, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]

UPLOAD = "/ui/definitions/upload"


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ProblemRow:
    """One problem as the page says it: where it is, and what is wrong."""

    file: str
    line: int | None
    element: str | None
    reason: str

    @property
    def text(self) -> str:
        where = [self.file or "The files"]
        if self.line:
            where.append(f"line {self.line}")
        if self.element:
            where.append(f"element {self.element}")
        reason = self.reason[:1].upper() + self.reason[1:]
        return f"{', '.join(where)}: {reason}"


def _problem_rows(problems: list[dict[str, Any]]) -> list[ProblemRow]:
    return [ProblemRow(str(p.get("file") or ""), p.get("line"), p.get("element_id"),
                       str(p.get("reason") or "")) for p in problems]


def _latest(ctx: ServiceContext, user: PageUser) -> list[Any]:
    policy.require(user.principal, "read_definitions")
    with ctx.uow(read_only=True) as uow:
        return [{"key": row.process_key, "name": row.name, "version": row.version,
                 "versions": count, "deployed_at": row.deployed_at,
                 "deployed_by": row.deployed_by, "source_file": row.source_file,
                 "deployment_id": row.deployment_id}
                for row, count in deployments.list_latest(uow)]


def _may_deploy(user: PageUser) -> bool:
    return user.principal.has(*policy.ACTIONS["deploy"])


@router.get("/definitions", response_class=HTMLResponse)
def definitions_page(request: Request, user: UserDep, deployment: int | None = None,
                     unchanged: bool = False) -> Response:
    rows = _latest(_ctx(request), user)
    notice = None
    if deployment is not None:
        made = [row for row in rows if row["deployment_id"] == deployment]
        if made:
            notice = "Deployed " + "; ".join(
                f"{row['name']} version {row['version']}" for row in made) + "."
    elif unchanged:
        notice = ("Nothing new was deployed: every process in the files is the same as its "
                  "latest version.")
    return TEMPLATES.TemplateResponse(request, "designer_definitions.html", {
        "user": user, "rows": rows, "notice": notice, "may_deploy": _may_deploy(user)})


def _upload_page(request: Request, user: PageUser, *, problems: list[ProblemRow] | None = None,
                 checked: list[FileReport] | None = None,
                 files: list[SourceFile] | None = None, error: str | None = None,
                 status: int = 200) -> Response:
    summary = ([{"href": "#files", "text": error}] if error else []) + [
        {"href": "#files", "text": problem.text} for problem in problems or []]
    kept = [{"name": f.name, "content": base64.b64encode(f.content).decode("ascii")}
            for f in files or []]
    return TEMPLATES.TemplateResponse(request, "designer_upload.html", {
        "user": user, "errors": summary, "summary": summary, "problems": problems or [],
        "file_error": error or ("Fix the problems in the files, then choose them again"
                                if problems else None),
        "checked": checked, "kept": kept}, status_code=status)


@router.get("/definitions/upload", response_class=HTMLResponse)
def upload_page(request: Request, user: UserDep) -> Response:
    policy.require(user.principal, "deploy")
    return _upload_page(request, user)


async def _sources(form: Any, limit: int) -> tuple[list[SourceFile], str | None]:
    """The chosen files, or kept ones (base64) from a check that passed; a problem in words."""
    sources: list[SourceFile] = []
    for upload in form.getlist("files"):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        content = await upload.read(limit + 1)
        if len(content) > limit:
            return [], f"{upload.filename} is larger than {limit // (1024 * 1024)} MB: " \
                       "choose a smaller file"
        sources.append(SourceFile(upload.filename, content))
    if not sources:
        names, contents = form.getlist("kept_name"), form.getlist("kept_content")
        try:
            sources = [SourceFile(str(name), base64.b64decode(str(content), validate=True))
                       for name, content in zip(names, contents, strict=True)]
        except (ValueError, binascii.Error):
            return [], "Choose the files again"
    if not sources:
        return [], "Select at least one .bpmn, .dmn or .json file"
    return sources, None


@router.post("/definitions/upload", response_class=HTMLResponse)
async def upload(request: Request, user: UserDep) -> Response:
    form = await request.form()
    check_csrf(user.csrf_token, form.get("csrf_token"))
    ctx = _ctx(request)
    policy.require(user.principal, "deploy")
    sources, problem = await _sources(form, ctx.settings.max_upload_bytes)
    if problem:
        return await run_in_threadpool(lambda: _upload_page(request, user, error=problem,
                                                            status=422))
    if str(form.get("_action") or "check") == "check":
        checked = await run_in_threadpool(validation.validate, sources)
        if checked.problems:
            rows = _problem_rows([p.as_dict() for p in checked.problems])
            return await run_in_threadpool(lambda: _upload_page(request, user, problems=rows,
                                                                status=422))
        return await run_in_threadpool(lambda: _upload_page(request, user,
                                                            checked=checked.reports,
                                                            files=sources))
    try:
        result = await run_in_threadpool(deployments.deploy, ctx, user.principal, sources)
    except Invalid as invalid:
        rows = _problem_rows(invalid.detail.get("problems") or [
            {"file": "", "reason": invalid.message}])
        return await run_in_threadpool(lambda: _upload_page(request, user, problems=rows,
                                                            status=422))
    target = (f"/ui/definitions?deployment={result.deployment_id}"
              if result.deployment_id is not None else "/ui/definitions?unchanged=true")
    return RedirectResponse(target, status_code=303)


@router.get("/definitions/{key}", response_class=HTMLResponse)
def definition_page(request: Request, user: UserDep, key: str) -> Response:
    ctx = _ctx(request)
    history = migrations.history(ctx, user.principal, key)
    latest = history[-1].version.version if history else None
    pictures: dict[int, Markup | None] = {}
    for item in history:
        try:
            pictures[item.version.version] = Markup(draw(diagrams.definition_diagram(
                ctx, user.principal, key, item.version.version,
                with_heat=item.version.version == latest)))
        except NotFound:  # a file without a diagram's layout (BPMN DI) still runs
            pictures[item.version.version] = None
    return TEMPLATES.TemplateResponse(request, "definition.html", {
        "user": user, "key": key, "history": list(reversed(history)), "pictures": pictures,
        "name": history[-1].version.name if history else key})
