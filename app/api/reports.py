"""The annual report (JSON, CSV or a printable HTML page with charts) and the PMF export."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape
from pydantic import BaseModel, Field

from app.api.deps import ContextDep, PrincipalDep
from app.api.routing import ServiceRoute
from app.api.schemas import ErrorPublic
from app.services import reports
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], route_class=ServiceRoute)

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


# ---- the JSON shape -----------------------------------------------------------------------

class ReviewCountsPublic(BaseModel):
    total: int = Field(description="Cases referred in the year (by their referral date).")
    by_grade: dict[str, int] = Field(description="Every grade, and `none` for ungraded cases.")
    by_route: dict[str, int] = Field(description="Every route, and `none` for cases without one.")
    by_status: dict[str, int] = Field(description="Every case status, as it is today.")


class ClockTimelinessPublic(BaseModel):
    label: str
    statutory: bool
    kind: str = Field(description="deadline, or minimum (a period that must pass)")
    applies_to: str = Field(description="The cases the clock belongs to: all, statutory, "
                                        "scr_held or scr_not_held. The counts are over those "
                                        "cases only; a clock that does not apply to a case is "
                                        "not counted.")
    met_on_time: int = Field(description="Cases whose clock was met on or before its due date.")
    met_late: int = Field(description="Cases whose clock was met after its due date.")
    overdue: int = Field(description="Cases whose clock is not met and its due date has passed.")
    pending: int = Field(description="Cases whose clock is running and not yet due.")
    not_started: int = Field(description="Cases whose clock has not started yet.")


class ThemeCountPublic(BaseModel):
    theme: str
    findings: int = Field(description="Findings naming the theme.")
    cases: int = Field(description="Different cases with a finding naming the theme.")


class ThemesPublic(BaseModel):
    findings: int = Field(description="Findings of the year's cases.")
    counts: list[ThemeCountPublic] = Field(description="Most findings first.")
    recurring: list[ThemeCountPublic] = Field(
        description="Themes found in two or more different cases, most cases first.")


class ActionCountsPublic(BaseModel):
    total: int
    completed_on_time: int = Field(description="Completed on or before the target date.")
    completed_late: int = Field(description="Completed after the target date.")
    overdue: int = Field(description="Neither completed nor cancelled; the target date has "
                                     "passed.")
    open: int = Field(description="Neither completed nor cancelled; not yet due.")
    cancelled: int


class OverdueActionPublic(BaseModel):
    id: int
    case_reference: str
    owner_agency: str
    action: str
    lead: str
    status: str
    target_date: dt.date
    days_overdue: int


class ActionsPublic(BaseModel):
    totals: ActionCountsPublic
    by_agency: dict[str, ActionCountsPublic] = Field(description="By owner agency, A to Z.")
    overdue: list[OverdueActionPublic] = Field(description="Most days overdue first.")


class PublicationPublic(BaseModel):
    case_reference: str
    kind: str
    title: str
    published_on: dt.date
    available_until: dt.date | None
    location: str


class PublicationsPublic(BaseModel):
    total: int = Field(description="Published in the year.")
    by_kind: dict[str, int]
    items: list[PublicationPublic]


class LearningEventsPublic(BaseModel):
    total: int = Field(description="Held in the year.")
    by_kind: dict[str, int]
    attendance_total: int
    attendance_by_agency: dict[str, int]
    within_reviews: int = Field(description="Held inside a review's route (with its case).")


class InvolvementGapPublic(BaseModel):
    case_reference: str
    family_not_involved_reason: str | None = Field(
        description="Why the family was not involved (null: the family was involved).")
    staff_not_involved_reason: str | None = Field(
        description="Why front-line staff were not involved (null: they were).")
    staff_involvement: list[str] = Field(description="How staff were involved, if at all.")


class InvolvementPublic(BaseModel):
    family_not_involved: int = Field(description="The year's reviews without the family.")
    staff_not_involved: int = Field(description="The year's reviews without front-line staff.")
    reviews: list[InvolvementGapPublic] = Field(description="Each such review, with the reasons.")


class LessonPublic(BaseModel):
    case_reference: str
    agency: str
    lesson: str


class LessonsPublic(BaseModel):
    total: int = Field(description="Lessons of the agency reviews of the year's cases.")
    by_agency: dict[str, int]
    items: list[LessonPublic]


class CaseStudyPublic(BaseModel):
    case_reference: str
    title: str = Field(description="Empty when the audit gave none.")
    summary: str = Field(description="The case study.")
    audiences: list[str] = Field(description="Where it is shared: newsletter, training, ...")


class CaseStudiesPublic(BaseModel):
    total: int = Field(description="Case studies from the year's audits.")
    items: list[CaseStudyPublic]


class NoRecommendationPublic(BaseModel):
    case_reference: str
    route: str | None
    reason: str = Field(description="The panel's reason for making no recommendations.")


class NoRecommendationsPublic(BaseModel):
    total: int = Field(description="The year's reviews that ended with no recommendations.")
    items: list[NoRecommendationPublic]


class AnnualReportPublic(BaseModel):
    """The Board's annual report. Reviews, clocks, themes and actions are those of the cases
    referred in the year; publications and learning events those dated in the year. States
    (overdue, open, pending) are as at `as_of`, the day the report was made."""

    year: int
    as_of: dt.date
    reviews: ReviewCountsPublic
    timeliness: dict[str, ClockTimelinessPublic] = Field(
        description="By clock id, in the order of the clock rules.")
    themes: ThemesPublic
    actions: ActionsPublic
    publications: PublicationsPublic
    learning_events: LearningEventsPublic
    involvement: InvolvementPublic
    lessons: LessonsPublic
    case_studies: CaseStudiesPublic
    no_recommendations: NoRecommendationsPublic
    progress_summary: str = Field(description="The key figures in plain English.")


# ---- routes -------------------------------------------------------------------------------

APPLIES_WORDS = {"all": "every case", "statutory": "statutory cases",
                 "scr_held": "cases with a Serious Case Review",
                 "scr_not_held": "statutory cases with no SCR"}
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
def annual_report(request: Request, response: Response, ctx: ContextDep,
                  principal: PrincipalDep, year: int | None = YEAR_QUERY,
                  fmt: Format | None = Query(
                      None, alias="format", description="json, csv or html; without it, the "
                      "Accept header decides (JSON by default)")) -> Any:
    """The annual report: reviews by grade, route and status; timeliness against each clock
    (over the cases it applies to); themes and recurring themes; action plans by agency, with
    the overdue actions; publications; learning events (those inside reviews too); the reviews
    that did not involve the family or staff, with the reasons; the agency reviews' lessons;
    the audits' case studies; the reviews with no recommendations; and the Board's progress
    summary."""
    chosen = fmt or negotiate(request.headers.get("accept"))
    report = reports.annual(ctx, principal, year or ctx.clock.now().year)
    headers = {} if fmt else {"Vary": "Accept"}
    if chosen == "csv":
        return csv_response(_annual_csv(report), f"annual-report-{report.year}.csv", headers)
    if chosen == "html":
        return TEMPLATES.TemplateResponse(request, "annual_report.html", {
            "report": report, "charts": charts(report), "applies_words": APPLIES_WORDS},
            headers=headers)
    response.headers.update(headers)
    return AnnualReportPublic.model_validate(dataclasses.asdict(report))


@router.get("/pmf", response_class=Response, responses={
    200: {"description": "One row per measure: measure, Q1, Q2, Q3, Q4, year",
          "content": {"text/csv": TEXT}}, **DENIED})
def pmf_export(ctx: ContextDep, principal: PrincipalDep,
               year: int | None = YEAR_QUERY) -> Response:
    """The Performance Management Framework export: the annual report's measures per quarter.
    Quarters go by referral date for reviews, clocks and themes, by target date for actions
    (any case's), by publication date and by the date a learning event was held."""
    year = year or ctx.clock.now().year
    rows = reports.pmf(ctx, principal, year)
    return csv_response([["measure", *reports.QUARTERS, "year"],
                         *([r.measure, *r.quarters, r.year] for r in rows)],
                        f"pmf-{year}.csv", {})


# ---- CSV ----------------------------------------------------------------------------------

def _cell(value: object) -> object:
    """Text a spreadsheet would run as a formula is quoted as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _annual_csv(report: reports.AnnualReport) -> list[list[object]]:
    return [["section", "measure", "value"],
            *([m.section, m.measure, m.value] for m in reports.measures(report))]


def csv_response(rows: Sequence[Sequence[object]], filename: str,
                 headers: dict[str, str]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        **headers, "Content-Disposition": f'attachment; filename="{filename}"'})


# ---- charts: inline SVG, drawn here, no script ------------------------------------------------

MAX_LABEL_W, BAR_W, ROW_H = 260, 300, 26
COLOURS = {  # Okabe-Ito: told apart with colour-blindness; every segment is also labelled
    "met_on_time": "#009E73", "completed_on_time": "#009E73",
    "met_late": "#E69F00", "completed_late": "#E69F00",
    "overdue": "#D55E00", "pending": "#56B4E9", "open": "#56B4E9",
    "not_started": "#DDDDDD", "cancelled": "#999999", "bar": "#0072B2",
}
STATE_WORDS = {"met_on_time": "met on time", "met_late": "met late", "overdue": "overdue",
               "pending": "pending", "not_started": "not started",
               "completed_on_time": "completed on time", "completed_late": "completed late",
               "open": "open", "cancelled": "cancelled"}


def _label(text: str) -> str:
    text = text.replace("_", " ")
    return text if len(text) <= 40 else text[:39] + "…"


def _label_width(labels: Sequence[str]) -> int:
    """Room for the longest label (about 7 units a character at the charts' 12px)."""
    return min(MAX_LABEL_W, max((16 + 7 * len(_label(label)) for label in labels), default=80))


def _svg(chart_id: str, title: str, desc: str, width: int, height: int,
         body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" id="{chart_id}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>")


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, int]],
              unit: str = "") -> Markup:
    """One horizontal bar per label, scaled to the largest value, each with its value."""
    top = max((value for _label_, value in bars), default=0) or 1
    label_w = _label_width([label for label, _value in bars])
    body = []
    for index, (label, value) in enumerate(bars):
        y = 10 + index * ROW_H
        width = round(BAR_W * value / top, 1)
        body.append(
            f'<g class="bar"><text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(_label(label))}</text>"
            f'<rect x="{label_w}" y="{y + 2}" width="{width}" height="{ROW_H - 8}" '
            f'fill="{COLOURS["bar"]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text class="value" x="{label_w + width + 6}" y="{y + 15}">{value}</text></g>')
    listed = "; ".join(f"{label.replace('_', ' ')}: {value}" for label, value in bars)
    desc = f"{title}{' (' + unit + ')' if unit else ''}. {listed or 'None'}."
    return _svg(chart_id, title, desc, label_w + BAR_W + 40, 20 + max(len(bars), 1) * ROW_H,
                body)


def stacked_chart(chart_id: str, title: str, rows: Sequence[tuple[str, dict[str, int]]],
                  series: Sequence[str]) -> Markup:
    """One bar per row, split into the series (with a legend), scaled to the largest total."""
    top = max((sum(values.get(s, 0) for s in series) for _l, values in rows), default=0) or 1
    label_w = _label_width([label for label, _values in rows])
    body, x = [], 0
    for name in series:  # the legend
        words = STATE_WORDS.get(name, name)
        body.append(f'<g class="legend"><rect x="{x}" y="4" width="12" height="12" '
                    f'fill="{COLOURS.get(name, "#0072B2")}" stroke="#333" stroke-width="0.5"/>'
                    f'<text x="{x + 16}" y="14">{escape(words)}</text></g>')
        x += 24 + 7 * len(words)
    described = []
    for index, (label, values) in enumerate(rows):
        y = 28 + index * ROW_H
        body.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
                    f"{escape(_label(label))}</text>")
        offset = float(label_w)
        for name in series:
            value = values.get(name, 0)
            if not value:
                continue
            width = round(BAR_W * value / top, 1)
            body.append(f'<rect class="segment {name}" x="{offset}" y="{y + 2}" width="{width}" '
                        f'height="{ROW_H - 8}" fill="{COLOURS.get(name, "#0072B2")}" '
                        f'stroke="#fff" stroke-width="0.5"><title>{escape(label)}: '
                        f"{value} {STATE_WORDS.get(name, name)}</title></rect>")
            offset += width
        total = sum(values.get(s, 0) for s in series)
        body.append(f'<text class="value" x="{offset + 6}" y="{y + 15}">{total}</text>')
        parts = ", ".join(f"{values.get(s, 0)} {STATE_WORDS.get(s, s)}" for s in series
                          if values.get(s, 0))
        described.append(f"{label.replace('_', ' ')}: {parts or 'none'}")
    desc = f"{title}. {'; '.join(described) or 'None'}."
    return _svg(chart_id, title, desc, max(label_w + BAR_W + 40, x), 38 + max(len(rows), 1) * ROW_H,
                body)


def charts(report: reports.AnnualReport) -> dict[str, Markup]:
    reviews, year = report.reviews, report.year
    return {
        "grade": bar_chart("chart-grade", f"Referrals in {year} by grade",
                           list(reviews.by_grade.items()), "cases"),
        "route": bar_chart("chart-route", f"Referrals in {year} by route",
                           list(reviews.by_route.items()), "cases"),
        "status": bar_chart("chart-status", f"Referrals in {year} by status today",
                            list(reviews.by_status.items()), "cases"),
        "timeliness": stacked_chart(
            "chart-timeliness", f"Timeliness against each clock, cases referred in {year}",
            [(clock.label, vars(clock)) for clock in report.timeliness.values()],
            reports.CLOCK_STATES[:4]),
        "themes": bar_chart("chart-themes", f"Findings by theme, cases referred in {year}",
                            [(t.theme, t.findings) for t in report.themes.counts[:15]],
                            "findings"),
        "actions": stacked_chart(
            "chart-actions", f"Actions by agency, cases referred in {year}",
            [(agency, vars(counts)) for agency, counts in report.actions.by_agency.items()],
            reports.ACTION_MEASURES[1:]),
        "events": bar_chart("chart-events", f"Learning events in {year} by kind",
                            list(report.learning_events.by_kind.items()), "events"),
        "attendance": bar_chart(
            "chart-attendance", f"Learning event attendance in {year} by agency",
            list(report.learning_events.attendance_by_agency.items()), "attendees"),
    }
