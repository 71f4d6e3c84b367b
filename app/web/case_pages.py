"""The case page: summary, tasks, deadlines, diagram, actions, briefing and timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.auth import policy
from app.auth.principal import Principal
from app.rendering import diagram_case
from app.services import actions, briefings, cases, deadlines
from app.services.context import ServiceContext
from app.services.errors import NotFound
from app.services.vocabulary import GRADES
from app.web.session import PageUser, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]

DEADLINE_COLOURS = {"met": "green", "pending": "blue", "overdue": "red",
                    "not_started": "grey", "not_applicable": "grey"}
ACTION_COLOURS = {"not_started": "grey", "in_progress": "blue", "completed": "green",
                  "cancelled": "orange"}


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


def may(principal: Principal, action: str) -> bool:
    """Whether the principal's roles allow `action` (the service still decides for the case)."""
    return principal.has(*policy.ACTIONS[action])


def _notice(code: str | None, reference: str, view: cases.CaseView, grade: str | None,
            task: str | None) -> str | None:
    """The sentence a redirect's notice code stands for (unknown codes show nothing)."""
    if code == "escalated":
        grade_words = f" to {grade.replace('_', ' ')}" if grade in GRADES else ""
        return (f"The escalation of case {reference}{grade_words} was proposed; it now waits "
                f"for a decision.")
    if code == "concern":
        return f"An urgent concern was raised on case {reference}."
    if code == "assigned":
        found = next((t for t in view.tasks if t.id == task), None)
        if found is not None and found.assignee:
            return f"The task “{found.title}” was assigned to {found.assignee}."
        return "The task was assigned."
    if code == "submitted":
        return "Your answers were submitted."
    if code == "referred":
        return f"Case {reference} was referred."
    if code == "already referred":
        return f"This referral was sent already: it is case {reference}."
    return None


def _diagrams(ctx: ServiceContext, principal: Principal, reference: str) -> list[Any]:
    """The case's diagrams (`diagram_panel.html` draws them); empty for who may not see them."""
    return list(diagram_case.case_diagrams(ctx, principal, reference))


def _briefing(ctx: ServiceContext, principal: Principal,
              reference: str) -> briefings.BriefingView | None:
    try:
        return briefings.get(ctx, principal, reference)
    except NotFound:
        return None


@router.get("/cases/{reference}", response_class=HTMLResponse)
def case_page(request: Request, user: UserDep, reference: str, notice: str | None = None,
              grade: str | None = None, task: str | None = None) -> Response:
    ctx = _ctx(request)
    principal = user.principal
    view = cases.get(ctx, principal, reference)
    case_diagrams = _diagrams(ctx, principal, reference)
    case_actions = actions.list_actions(ctx, principal, actions.ActionFilter(
        case_reference=reference), 200, 0)[0] if may(principal, "read_actions") else []
    return TEMPLATES.TemplateResponse(request, "case.html", {
        "user": user, "case": view.case, "tasks": view.tasks,
        "notice": _notice(notice, reference, view, grade, task),
        "outcome": policy.outcome_for(principal, view.case.outcome),
        "deadlines": deadlines.for_case(ctx, principal, reference),
        "deadline_colours": DEADLINE_COLOURS, "action_colours": ACTION_COLOURS,
        "timeline": cases.timeline(ctx, principal, reference),
        "case_diagrams": case_diagrams, "actions": case_actions,
        "briefing": _briefing(ctx, principal, reference),
        "may_escalate": may(principal, "escalate"),
        "may_raise_concern": may(principal, "raise_concern"),
        "may_assign": may(principal, "assign"),
        "may_write_briefings": may(principal, "write_briefings")})
