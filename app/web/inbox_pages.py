"""The inbox: everything the signed-in person can act on, in one list, with filters as counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import URL

from app.services import inbox, search
from app.services.context import ServiceContext
from app.web import navigation
from app.web.session import PageUser, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]
ONLY = ("mine", "overdue", "week")


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, user: UserDep,
               only: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies it)
               route: Annotated[list[str], Query()] = [],  # noqa: B006
               q: str = "", case: str = "", sort: str = "due", filters: str = "") -> Response:
    """`only` (mine, overdue, week) and `route` narrow the list; `q` searches it (`case`, a
    case reference, is the same search, for links); `filters=shown` opens the filters on a
    phone, where they are folded away."""
    if navigation.home(user.principal) != "/ui/inbox":  # no tasks: their own first section
        return RedirectResponse(navigation.home(user.principal), status_code=303)
    text = search.cleaned(q or case)
    chosen = [name for name in ONLY if name in only]
    wanted = inbox.InboxFilter(mine="mine" in chosen, overdue="overdue" in chosen,
                               due_this_week="week" in chosen,
                               routes=tuple(key for key in route if key), text=text,
                               descending=sort == "-due")
    found = inbox.load(_ctx(request), user.principal, wanted)
    applied = len(chosen) + len(wanted.routes) + (1 if text else 0)
    return TEMPLATES.TemplateResponse(request, "inbox.html", {
        "user": user, "inbox": found, "filters": wanted, "applied": applied,
        "query": {"only": chosen, "route": list(wanted.routes), "q": text, "sort": sort},
        "show_filters": filters == "shown",
        "show_filters_href": _relative(request.url.include_query_params(filters="shown")),
        "hide_filters_href": _relative(request.url.remove_query_params("filters"))})


def _relative(url: URL) -> str:
    return f"{url.path}?{url.query}" if url.query else url.path
