"""The case list: every case the signed-in person may read, and finding one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.services import cases
from app.services.context import ServiceContext
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
