"""The inbox: everything waiting for the signed-in person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.services import inbox
from app.services.context import ServiceContext
from app.web.session import PageUser, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]
TAB_LABELS = {"mine": "Claimed by me", "roles": "For my roles", "agency": "For my agency"}


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, user: UserDep, tab: str = "roles", route: str = "",
               case: str = "", overdue: bool = False, week: bool = False,
               sort: str = "due") -> Response:
    tab = tab if tab in inbox.TABS else "roles"
    filters = inbox.InboxFilter(tab=tab, process_key=route or None, reference=case or None,
                                overdue=overdue, due_this_week=week, descending=sort == "-due")
    found = inbox.load(_ctx(request), user.principal, filters)
    tabs = [(name, label) for name, label in TAB_LABELS.items()
            if name != "agency" or user.principal.agency]
    return TEMPLATES.TemplateResponse(request, "inbox.html", {
        "user": user, "inbox": found, "filters": filters, "tabs": tabs,
        "query": {"route": route, "case": case, "overdue": overdue, "week": week,
                  "sort": sort}})


