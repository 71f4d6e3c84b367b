"""The designer's pages: process definitions, their versions and diagrams."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.rendering.diagram import draw
from app.services import diagrams, migrations
from app.services.context import ServiceContext
from app.web.session import PageUser, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


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
