"""The case list: every case the signed-in person may read, and finding one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.services import cases, search
from app.services.context import ServiceContext
from app.web.session import PageUser, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]
MATCHED_WORDS = {"reference": "case reference", "child": "child", "agency": "agency",
                 "task": "task"}


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


@router.get("/cases", response_class=HTMLResponse)
def cases_page(request: Request, user: UserDep, status: str = "", q: str = "") -> Response:
    """All the cases the person may read, newest first; with `q`, those it finds (a case
    reference or part of one, a child's pseudonym, an agency's name, a task's title)."""
    text = search.cleaned(q)
    if text:
        hits, total = search.cases(_ctx(request), user.principal, text, status=status or None)
        rows = [(hit.case, [MATCHED_WORDS[m] for m in hit.matched]) for hit in hits]
    else:
        found, total = cases.list_cases(_ctx(request), user.principal, status or None, None,
                                        None, 200, 0)
        rows = [(case, []) for case in found]
    return TEMPLATES.TemplateResponse(request, "cases.html", {
        "user": user, "rows": rows, "total": total, "status": status, "q": text})
