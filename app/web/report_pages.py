"""The annual report and the performance management framework, for people signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from app.rendering import reports as rendered
from app.rendering.report_prose import progress_summary
from app.services import agencies, reports
from app.services.context import ServiceContext
from app.web.session import PageUser, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]



def _year(ctx: ServiceContext, year: int | None) -> int:
    today = ctx.clock.now().year
    if year is None or not reports.FIRST_YEAR <= year <= reports.LAST_YEAR:
        return today
    return year


def _years(ctx: ServiceContext, year: int) -> list[int]:
    """The years offered: the last ten to this one, and the one shown."""
    today = ctx.clock.now().year
    return sorted({*range(today - 9, today + 1), year}, reverse=True)


@router.get("/reports", response_class=HTMLResponse)
def report_index(request: Request, user: UserDep) -> Response:
    ctx = _ctx(request)
    reports.check_reader(user.principal)
    return TEMPLATES.TemplateResponse(request, "report_index.html", {
        "user": user, "year": ctx.clock.now().year})


@router.get("/reports/annual", response_class=HTMLResponse)
def annual_page(request: Request, user: UserDep, year: int | None = None) -> Response:
    ctx = _ctx(request)
    shown = _year(ctx, year)
    report = reports.annual(ctx, user.principal, shown)
    return TEMPLATES.TemplateResponse(request, "report_annual.html", {
        "user": user, "report": report, "progress_summary": progress_summary(report),
        "charts": rendered.charts(report), "applies_words": rendered.APPLIES_WORDS,
        "years": _years(ctx, shown)})


_SECTIONS = {"reviews": "Reviews", "timeliness": "Timeliness", "themes": "Themes",
             "actions": "Actions", "publications": "Publications",
             "learning_events": "Learning events", "involvement": "Involvement",
             "lessons": "Lessons", "case_studies": "Case studies",
             "no_recommendations": "No recommendations"}


def measure_words(ctx: ServiceContext, measure: str, clocks: dict[str, str]) -> str:
    """`actions.by_agency.police.overdue` -> `Actions, by agency: Police, overdue`."""
    section, _dot, rest = measure.partition(".")
    parts = rest.split(".") if rest else []
    shown: list[str] = []
    for index, part in enumerate(parts):
        before = parts[index - 1] if index else ""
        if before in ("by_agency", "attendance_by_agency"):
            shown.append(agencies.name_of(ctx, part))
        elif section == "timeliness" and index == 0:
            shown.append(clocks.get(part, part.replace("_", " ")))
        else:
            shown.append(part.replace("_", " "))
    head = _SECTIONS.get(section, section.replace("_", " ").capitalize())
    return f"{head}: {', '.join(shown)}" if shown else head


@router.get("/reports/pmf", response_class=HTMLResponse)
def pmf_page(request: Request, user: UserDep, year: int | None = None) -> Response:
    ctx = _ctx(request)
    shown = _year(ctx, year)
    rows = reports.pmf(ctx, user.principal, shown)
    clocks = {rule.id: rule.label for rule in ctx.clock_rules.case_clocks}
    return TEMPLATES.TemplateResponse(request, "report_pmf.html", {
        "user": user, "year": shown, "rows": rows, "quarters": reports.QUARTERS,
        "labels": {row.measure: measure_words(ctx, row.measure, clocks) for row in rows},
        "as_of": ctx.clock.now(), "years": _years(ctx, shown)})
