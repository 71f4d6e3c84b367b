"""The annual report (JSON, CSV or a printable HTML page with charts) and the PMF export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.schemas import ErrorPublic
from app.rendering import reports as rendered
from app.rendering.report_prose import progress_summary
from app.services import reports
from app.services.report_types import AnnualReport

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[CHECKED_INPUT])

Format = Literal["json", "csv", "html"]
YEAR_QUERY = Query(None, ge=reports.FIRST_YEAR, le=reports.LAST_YEAR,
                   description="The calendar year (default: this year). Reviews count for the "
                               "year they were referred in.")
TEXT = {"schema": {"type": "string"}}
DENIED: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorPublic, "description": "Not a case reader (agency leads, designers)"},
    422: {"model": ErrorPublic, "description": "Invalid input, such as a year outside "
                                               "2000..2100"},
}


# ---- the JSON shape: the service's result and, from app.rendering, its prose ----------------

class AnnualReportPublic(AnnualReport):
    """The Board's annual report. Reviews, clocks, themes and actions are those of the cases
    referred in the year; publications and learning events those dated in the year. States
    (overdue, open, pending) are as at `as_of`, the day the report was made."""

    progress_summary: str = Field(description="The key figures in plain English.")


# ---- routes -------------------------------------------------------------------------------

MEDIA: dict[str, Format] = {"application/json": "json", "text/csv": "csv", "text/html": "html"}


def negotiate(accept: str | None) -> Format:
    """The format the Accept header prefers (highest q, then first listed); JSON otherwise."""
    best: Format = "json"
    best_q = -1.0
    for part in (accept or "").split(","):
        media, *params = (item.strip() for item in part.split(";"))
        kind = MEDIA.get(media.lower())
        if kind is None:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q and q > 0:
            best, best_q = kind, q
    return best


@router.get("/annual", response_model=AnnualReportPublic, responses={
    200: {"description": "The report: JSON, CSV (section, measure, value) or a printable page",
          "content": {"text/csv": TEXT, "text/html": TEXT}}, **DENIED})
async def annual_report(request: Request, response: Response, ctx: ContextDep,
                        principal: PrincipalDep, audit: AuditDep,
                        year: int | None = YEAR_QUERY,
                        fmt: Format | None = Query(
                            None, alias="format", description="json, csv or html; without it, "
                            "the Accept header decides (JSON by default)")) -> Any:
    """The annual report: reviews by grade, route and status; timeliness against each clock
    (over the cases it applies to); themes and recurring themes; action plans by agency, with
    the overdue actions; publications; learning events (those inside reviews too); the reviews
    that did not involve the family or staff, with the reasons; the agency reviews' lessons;
    the audits' case studies; the reviews with no recommendations; and the Board's progress
    summary."""
    chosen = fmt or negotiate(request.headers.get("accept"))
    headers = {} if fmt else {"Vary": "Accept"}

    def report() -> Any:
        found = reports.annual(ctx, principal, year or ctx.clock.now().year)
        if chosen == "csv":
            return csv_response(_annual_csv(found), f"annual-report-{found.year}.csv", headers)
        if chosen == "html":
            return HTMLResponse(rendered.annual_page(found), headers=headers)
        response.headers.update(headers)
        return AnnualReportPublic(**dict(found), progress_summary=progress_summary(found))

    return await serving.answer(audit, report)


@router.get("/pmf", response_class=Response, responses={
    200: {"description": "One row per measure: measure, Q1, Q2, Q3, Q4, year",
          "content": {"text/csv": TEXT}}, **DENIED})
async def pmf_export(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                     year: int | None = YEAR_QUERY) -> Response:
    """The Performance Management Framework export: the annual report's measures per quarter.
    Quarters go by referral date for reviews, clocks and themes, by target date for actions
    (any case's), by publication date and by the date a learning event was held."""
    year_of = year or ctx.clock.now().year
    rows = await serving.answer(audit, lambda: reports.pmf(ctx, principal, year_of))
    return csv_response([["measure", *reports.QUARTERS, "year"],
                         *([r.measure, *r.quarters, r.year] for r in rows)],
                        f"pmf-{year_of}.csv", {})


# ---- CSV ----------------------------------------------------------------------------------

def _annual_csv(report: AnnualReport) -> list[list[object]]:
    return [["section", "measure", "value"],
            *([m.section, m.measure, m.value] for m in reports.measures(report))]


def csv_response(rows: Sequence[Sequence[object]], filename: str,
                 headers: dict[str, str]) -> Response:
    return Response(rendered.csv_text(rows), media_type="text/csv; charset=utf-8", headers={
        **headers, "Content-Disposition": f'attachment; filename="{filename}"'})
