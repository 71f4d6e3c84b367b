"""The case page (summary, tasks, deadlines, diagram, timeline) and a definition's versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.auth import policy
from app.auth.errors import Forbidden
from app.rendering.diagram import draw
from app.services import cases, deadlines, diagrams, migrations
from app.services.context import ServiceContext
from app.services.errors import NotFound
from app.web.session import PageUser, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, user: UserDep, status: str = "") -> Response:
    rows, total = cases.list_cases(_ctx(request), user.principal, status or None, None, None,
                                   200, 0)
    return TEMPLATES.TemplateResponse(request, "cases.html", {
        "user": user, "cases": rows, "total": total, "status": status})


@router.get("/cases/{reference}", response_class=HTMLResponse)
def case_page(request: Request, user: UserDep, reference: str,
              notice: str | None = None) -> Response:
    ctx = _ctx(request)
    view = cases.get(ctx, user.principal, reference)
    diagram = None
    if view.case.referral_instance_id and policy.is_case_reader(user.principal):
        try:
            diagram = Markup(draw(diagrams.instance_diagram(ctx, user.principal,
                                                            view.case.referral_instance_id)))
        except (Forbidden, NotFound):
            diagram = None
    return TEMPLATES.TemplateResponse(request, "case.html", {
        "user": user, "case": view.case, "tasks": view.tasks, "notice": notice,
        "outcome": policy.outcome_for(user.principal, view.case.outcome),
        "deadlines": deadlines.for_case(ctx, user.principal, reference),
        "timeline": cases.timeline(ctx, user.principal, reference), "diagram": diagram})


@router.get("/definitions/{key}", response_class=HTMLResponse)
def definition_page(request: Request, user: UserDep, key: str) -> Response:
    ctx = _ctx(request)
    history = migrations.history(ctx, user.principal, key)
    latest = history[-1].version.version if history else None
    pictures = {item.version.version: Markup(draw(diagrams.definition_diagram(
        ctx, user.principal, key, item.version.version,
        with_heat=item.version.version == latest))) for item in history}
    return TEMPLATES.TemplateResponse(request, "definition.html", {
        "user": user, "key": key, "history": list(reversed(history)), "pictures": pictures})
