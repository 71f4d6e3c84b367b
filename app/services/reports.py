"""The Board's annual report and its Performance Management Framework (PMF) export.

What counts for a year:

* reviews, their clocks, their findings' themes and what they recorded (involvement, lessons,
  case studies, no recommendations): cases referred in the year (by `ReviewCase.created_at`,
  UTC); a clock counts only the cases it applies to (`ClockRule.applies`);
* actions (annual report): the actions of those cases, each judged as it stands today, so the
  report answers "which actions from that year's reviews are overdue, and whose are they";
* actions (PMF): actions whose target date falls in the quarter, whatever the case's year;
* publications: published in the year (`published_on`); learning events: held in the year,
  those held inside a review's route (with its case reference) counted apart as well.

"Today" is the context's clock, so the figures are as at the day the report is made. The shapes
are in `report_types` (they are the API's response models), the outcome's records in
`report_records`; the prose and the page are `app.rendering`'s.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, select

from app.auth import policy
from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.db.models import Action, Finding, LearningEvent, Publication, ReviewCase
from app.engine.clock_rules import ClockRule
from app.services import deadlines, register, report_records
from app.services.context import ServiceContext
from app.services.errors import Invalid
from app.services.report_types import (
    ACTION_MEASURES,
    CLOCK_STATES,
    NONE_KEY,
    QUARTERS,
    ActionCounts,
    Actions,
    AnnualReport,
    ClockTimeliness,
    LearningEvents,
    Measure,
    OverdueAction,
    PmfRow,
    PublicationItem,
    Publications,
    ReviewCounts,
    ThemeCount,
    Themes,
)
from app.services.vocabulary import CASE_STATUSES, GRADES, ROUTES

__all__ = ["ACTION_MEASURES", "CLOCK_STATES", "FIRST_YEAR", "LAST_YEAR", "QUARTERS",
           "AnnualReport", "Measure", "PmfRow", "annual", "measures", "pmf"]

DONE_STATUSES = frozenset({"completed", "signed_off"})
CANCELLED = "cancelled"
FIRST_YEAR, LAST_YEAR = 2000, 2100


# ---- entry points -------------------------------------------------------------------------

def check_reader(principal: Principal) -> None:
    """The annual report covers every agency's cases: case readers only, not agency leads."""
    policy.require(principal, "read_cases")
    if not policy.is_case_reader(principal):
        raise Forbidden("the annual report covers the cases of every agency, so it is for board "
                        "managers, chairs, panel members, reviewers, auditors and admins; an "
                        "agency lead sees their own agency's cases and actions instead")


def annual(ctx: ServiceContext, principal: Principal, year: int) -> AnnualReport:
    check_reader(principal)
    _check_year(year)
    today = ctx.clock.now().date()
    with ctx.uow(read_only=True) as uow:
        session = uow.session
        cases = list(session.scalars(_cases_of(year).order_by(ReviewCase.created_at,
                                                              ReviewCase.id)))
        references = _references_of(year)
        findings = list(session.scalars(select(Finding).where(
            Finding.case_reference.in_(references)).order_by(Finding.id)))
        actions = list(session.scalars(select(Action).where(
            Action.case_reference.in_(references)).order_by(Action.id)))
        publications = list(session.scalars(_in_year(select(Publication),
                                                     Publication.published_on, year)
                                            .order_by(Publication.published_on,
                                                      Publication.id)))
        events = list(session.scalars(_in_year(select(LearningEvent), LearningEvent.held_on,
                                               year).order_by(LearningEvent.held_on,
                                                              LearningEvent.id)))
    return _report(ctx, year, today, cases, findings, actions, publications, events)


def pmf(ctx: ServiceContext, principal: Principal, year: int) -> list[PmfRow]:
    """The annual report's measures per quarter (and for the whole year), one row each."""
    check_reader(principal)
    _check_year(year)
    today = ctx.clock.now().date()
    with ctx.uow(read_only=True) as uow:
        session = uow.session
        cases = list(session.scalars(_cases_of(year).order_by(ReviewCase.created_at,
                                                              ReviewCase.id)))
        findings = list(session.scalars(select(Finding).where(
            Finding.case_reference.in_(_references_of(year))).order_by(Finding.id)))
        actions = list(session.scalars(_in_year(select(Action), Action.target_date, year)
                                       .order_by(Action.id)))
        publications = list(session.scalars(_in_year(select(Publication),
                                                     Publication.published_on, year)
                                            .order_by(Publication.id)))
        events = list(session.scalars(_in_year(select(LearningEvent), LearningEvent.held_on,
                                               year).order_by(LearningEvent.id)))
    case_quarter = {case.reference: quarter_of(case.created_at.date()) for case in cases}
    whole = measures(_report(ctx, year, today, cases, findings, actions, publications, events))
    per_quarter: list[dict[tuple[str, str], int]] = []
    for quarter in range(1, 5):
        part = _report(
            ctx, year, today,
            [c for c in cases if case_quarter[c.reference] == quarter],
            [f for f in findings if case_quarter.get(f.case_reference) == quarter],
            [a for a in actions if quarter_of(a.target_date) == quarter],
            [p for p in publications if quarter_of(p.published_on) == quarter],
            [e for e in events if quarter_of(e.held_on) == quarter])
        per_quarter.append({(m.section, m.measure): m.value for m in measures(part)})
    rows = []
    for item in whole:
        key = (item.section, item.measure)
        rows.append(PmfRow(f"{item.section}.{item.measure}",
                           [values.get(key, 0) for values in per_quarter], item.value))
    return rows


# ---- selection ----------------------------------------------------------------------------

def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid(f"year must be between {FIRST_YEAR} and {LAST_YEAR}", field="year")


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC))


def _cases_of(year: int) -> Select[ReviewCase]:
    start, end = _year_bounds(year)
    return select(ReviewCase).where(ReviewCase.created_at >= start, ReviewCase.created_at < end)


def _references_of(year: int) -> Select[str]:
    start, end = _year_bounds(year)
    return select(ReviewCase.reference).where(ReviewCase.created_at >= start,
                                              ReviewCase.created_at < end)


def _in_year(query: Select[Any], column: Any, year: int) -> Select[Any]:
    return query.where(column >= dt.date(year, 1, 1), column < dt.date(year + 1, 1, 1))


def quarter_of(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


# ---- the measures -------------------------------------------------------------------------

def _report(ctx: ServiceContext, year: int, today: dt.date, cases: Sequence[ReviewCase],
            findings: Sequence[Finding], actions: Sequence[Action],
            publications: Sequence[Publication], events: Sequence[LearningEvent]) -> AnnualReport:
    return AnnualReport(
        year=year, as_of=today, reviews=review_counts(cases),
        timeliness=timeliness(ctx, cases, today), themes=themes(findings),
        actions=action_counts(actions, today), publications=publication_counts(publications),
        learning_events=learning_counts(events),
        involvement=report_records.involvement(cases), lessons=report_records.lessons(cases),
        case_studies=report_records.case_studies(cases),
        no_recommendations=report_records.no_recommendations(cases))


def _counter(keys: Iterable[str], values: Iterable[str]) -> dict[str, int]:
    """Every known key (zero if absent), then any unexpected value found, in that order."""
    counts = dict.fromkeys(keys, 0)
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def review_counts(cases: Sequence[ReviewCase]) -> ReviewCounts:
    return ReviewCounts(
        total=len(cases),
        by_grade=_counter((*GRADES, NONE_KEY), (c.grade or NONE_KEY for c in cases)),
        by_route=_counter((*ROUTES, NONE_KEY), (c.route or NONE_KEY for c in cases)),
        by_status=_counter(CASE_STATUSES, (c.status for c in cases)))


def clock_state(rule: ClockRule, case: ReviewCase, ctx: ServiceContext,
                today: dt.date) -> str:
    """met_on_time, met_late, overdue, pending, not_started or not_applicable: the case
    page's rule (`deadlines.for_review_case`), with met split by lateness. A key date that is
    not a date leaves the clock not started rather than failing the report."""
    try:
        deadline = deadlines.for_review_case(ctx, case, rule, today)
    except (ValueError, TypeError):
        return "not_started"
    if deadline.state == "met":
        return "met_late" if deadline.late else "met_on_time"
    return deadline.state


def timeliness(ctx: ServiceContext, cases: Sequence[ReviewCase],
               today: dt.date) -> dict[str, ClockTimeliness]:
    """Each case clock's states over the cases it applies to (not_applicable is not counted)."""
    result = {}
    for rule in ctx.clock_rules.case_clocks:
        counts = ClockTimeliness(label=rule.label, statutory=rule.statutory, kind=rule.kind,
                                 applies_to=rule.applies_to, **dict.fromkeys(CLOCK_STATES, 0))
        for case in cases:
            state = clock_state(rule, case, ctx, today)
            if state in CLOCK_STATES:
                setattr(counts, state, getattr(counts, state) + 1)
        result[rule.id] = counts
    return result


REGISTER_MARKERS = frozenset({register.LESSON_THEME, register.CASE_STUDY_THEME})
"""Themes that mark a register row as an agency lesson or a case study (reported on their own
from the case outcome), not a practice theme of a finding."""


def _themes_of(finding: Finding) -> set[str]:
    values = finding.themes if isinstance(finding.themes, list) else []
    return {" ".join(str(theme).split()) for theme in values if str(theme).strip()}


def themes(findings: Sequence[Finding]) -> Themes:
    """Findings per theme (a finding naming a theme twice counts once) and the cases each
    theme was found in; a theme found in two or more cases recurs. The lessons and case
    studies the register keeps beside the findings are not findings here."""
    findings = [f for f in findings if not _themes_of(f) & REGISTER_MARKERS]
    per_theme: Counter[str] = Counter()
    cases_of: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        for theme in _themes_of(finding):
            per_theme[theme] += 1
            cases_of[theme].add(finding.case_reference)
    counts = [ThemeCount(theme=theme, findings=n, cases=len(cases_of[theme]))
              for theme, n in sorted(per_theme.items(), key=lambda item: (-item[1], item[0]))]
    recurring = sorted((c for c in counts if c.cases >= 2),
                       key=lambda c: (-c.cases, -c.findings, c.theme))
    return Themes(findings=len(findings), counts=counts, recurring=recurring)


def action_state(action: Action, today: dt.date) -> str:
    """completed_on_time (completed on or before the target date), completed_late, overdue
    (neither done nor cancelled, and the target date has passed), open or cancelled."""
    if action.status == CANCELLED:
        return "cancelled"
    if action.status in DONE_STATUSES or action.completed_on is not None:
        done_on = action.completed_on or (action.signed_off_at.date()
                                          if action.signed_off_at else None)
        late = done_on is not None and done_on > action.target_date
        return "completed_late" if late else "completed_on_time"
    return "overdue" if action.target_date < today else "open"


def action_counts(actions: Sequence[Action], today: dt.date) -> Actions:
    totals = _no_actions()
    by_agency: dict[str, ActionCounts] = {}
    overdue = []
    for action in actions:
        state = action_state(action, today)
        agency = by_agency.setdefault(action.owner_agency, _no_actions())
        for counts in (totals, agency):
            counts.total += 1
            setattr(counts, state, getattr(counts, state) + 1)
        if state == "overdue":
            overdue.append(OverdueAction(
                id=action.id, case_reference=action.case_reference,
                owner_agency=action.owner_agency, action=action.action, lead=action.lead,
                status=action.status, target_date=action.target_date,
                days_overdue=(today - action.target_date).days))
    overdue.sort(key=lambda a: (-a.days_overdue, a.owner_agency, a.case_reference, a.id))
    return Actions(totals=totals, by_agency=dict(sorted(by_agency.items())), overdue=overdue)


def _no_actions() -> ActionCounts:
    return ActionCounts(**dict.fromkeys(ACTION_MEASURES, 0))


def publication_counts(publications: Sequence[Publication]) -> Publications:
    items = [PublicationItem(case_reference=p.case_reference, kind=p.kind, title=p.title,
                             published_on=p.published_on, available_until=p.available_until,
                             location=p.location)
             for p in sorted(publications, key=lambda p: (p.published_on, p.id))]
    return Publications(total=len(items),
                        by_kind=dict(sorted(Counter(p.kind for p in items).items())),
                        items=items)


def learning_counts(events: Sequence[LearningEvent]) -> LearningEvents:
    attendance: Counter[str] = Counter()
    for event in events:
        for agency, count in (event.attendance or {}).items():
            if isinstance(count, int) and not isinstance(count, bool) and count > 0:
                attendance[str(agency)] += count
    return LearningEvents(
        total=len(events), by_kind=dict(sorted(Counter(e.kind for e in events).items())),
        attendance_total=sum(attendance.values()),
        attendance_by_agency=dict(sorted(attendance.items())),
        within_reviews=sum(1 for event in events if event.case_reference))


# ---- flattening ---------------------------------------------------------------------------

def measures(report: AnnualReport) -> list[Measure]:
    """Every figure of the report as (section, measure, value); the measure names the JSON
    path inside the section (`by_grade.severe`, `by_agency.police.overdue`)."""
    out: list[Measure] = []

    def add(section: str, measure: str, value: int) -> None:
        out.append(Measure(section, measure, value))

    reviews = report.reviews
    add("reviews", "total", reviews.total)
    for name, values in (("by_grade", reviews.by_grade), ("by_route", reviews.by_route),
                         ("by_status", reviews.by_status)):
        for key, value in values.items():
            add("reviews", f"{name}.{key}", value)
    for clock_id, clock in report.timeliness.items():
        for state in CLOCK_STATES:
            add("timeliness", f"{clock_id}.{state}", getattr(clock, state))
    add("themes", "findings", report.themes.findings)
    add("themes", "recurring", len(report.themes.recurring))
    for theme in report.themes.counts:
        add("themes", f"by_theme.{theme.theme}.findings", theme.findings)
        add("themes", f"by_theme.{theme.theme}.cases", theme.cases)
    for measure in ACTION_MEASURES:
        add("actions", measure, getattr(report.actions.totals, measure))
    for agency, counts in report.actions.by_agency.items():
        for measure in ACTION_MEASURES:
            add("actions", f"by_agency.{agency}.{measure}", getattr(counts, measure))
    add("publications", "total", report.publications.total)
    for kind, value in report.publications.by_kind.items():
        add("publications", f"by_kind.{kind}", value)
    events = report.learning_events
    add("learning_events", "total", events.total)
    for kind, value in events.by_kind.items():
        add("learning_events", f"by_kind.{kind}", value)
    add("learning_events", "within_reviews", events.within_reviews)
    add("learning_events", "attendance_total", events.attendance_total)
    for agency, value in events.attendance_by_agency.items():
        add("learning_events", f"attendance_by_agency.{agency}", value)
    add("involvement", "family_not_involved", report.involvement.family_not_involved)
    add("involvement", "staff_not_involved", report.involvement.staff_not_involved)
    add("lessons", "total", report.lessons.total)
    for agency, value in report.lessons.by_agency.items():
        add("lessons", f"by_agency.{agency}", value)
    add("case_studies", "total", report.case_studies.total)
    add("no_recommendations", "total", report.no_recommendations.total)
    return out
