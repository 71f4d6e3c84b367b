"""The case page: summary, tasks, deadlines, diagram and timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.auth import policy
from app.auth.errors import Forbidden
from app.rendering.diagram import draw
from app.services import cases, deadlines, diagrams
from app.services.context import ServiceContext
from app.services.errors import NotFound
from app.web.session import PageUser, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


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
