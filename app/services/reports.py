"""The Board's annual report and its Performance Management Framework (PMF) export.

What counts for a year:

* reviews, their clocks and their findings' themes: cases referred in the year (by
  `ReviewCase.created_at`, UTC);
* actions (annual report): the actions of those cases, each judged as it stands today, so the
  report answers "which actions from that year's reviews are overdue, and whose are they";
* actions (PMF): actions whose target date falls in the quarter, whatever the case's year;
* publications: published in the year (`published_on`); learning events: held in the year.

"Today" is the context's clock, so the figures are as at the day the report is made.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select

from app.auth import policy
from app.auth.errors import Forbidden
from app.auth.principal import Principal
from app.db.models import Action, Finding, LearningEvent, Publication, ReviewCase
from app.engine.clock_rules import ClockRule
from app.services import deadlines
from app.services.context import ServiceContext
from app.services.errors import Invalid
from app.services.vocabulary import CASE_STATUSES, GRADES, ROUTES

NONE_KEY = "none"
"""The key that counts cases without a grade or a route yet."""
CLOCK_STATES = ("met_on_time", "met_late", "overdue", "pending", "not_started")
ACTION_MEASURES = ("total", "completed_on_time", "completed_late", "overdue", "open",
                   "cancelled")
DONE_STATUSES = frozenset({"completed", "signed_off"})
CANCELLED = "cancelled"
FIRST_YEAR, LAST_YEAR = 2000, 2100
QUARTERS = ("Q1", "Q2", "Q3", "Q4")


# ---- the shapes ---------------------------------------------------------------------------

@dataclass
class ReviewCounts:
    total: int
    by_grade: dict[str, int]
    by_route: dict[str, int]
    by_status: dict[str, int]


@dataclass
class ClockTimeliness:
    label: str
    statutory: bool
    kind: str
    met_on_time: int = 0
    met_late: int = 0
    overdue: int = 0
    pending: int = 0
    not_started: int = 0


@dataclass
class ThemeCount:
    theme: str
    findings: int
    cases: int


@dataclass
class Themes:
    findings: int
    counts: list[ThemeCount]
    recurring: list[ThemeCount]


@dataclass
class ActionCounts:
    total: int = 0
    completed_on_time: int = 0
    completed_late: int = 0
    overdue: int = 0
    open: int = 0
    cancelled: int = 0


@dataclass
class OverdueAction:
    id: int
    case_reference: str
    owner_agency: str
    action: str
    lead: str
    status: str
    target_date: dt.date
    days_overdue: int


@dataclass
class Actions:
    totals: ActionCounts
    by_agency: dict[str, ActionCounts]
    overdue: list[OverdueAction]


@dataclass
class PublicationItem:
    case_reference: str
    kind: str
    title: str
    published_on: dt.date
    available_until: dt.date | None
    location: str


@dataclass
class Publications:
    total: int
    by_kind: dict[str, int]
    items: list[PublicationItem]


@dataclass
class LearningEvents:
    total: int
    by_kind: dict[str, int]
    attendance_total: int
    attendance_by_agency: dict[str, int]


@dataclass
class AnnualReport:
    year: int
    as_of: dt.date
    reviews: ReviewCounts
    timeliness: dict[str, ClockTimeliness]
    themes: Themes
    actions: Actions
    publications: Publications
    learning_events: LearningEvents
    progress_summary: str = ""


@dataclass(frozen=True)
class Measure:
    section: str
    measure: str
    value: int


@dataclass
class PmfRow:
    measure: str
    quarters: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    year: int = 0


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
    with ctx.uow() as uow:
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
    report = _report(ctx, year, today, cases, findings, actions, publications, events)
    report.progress_summary = progress_summary(report)
    return report


def pmf(ctx: ServiceContext, principal: Principal, year: int) -> list[PmfRow]:
    """The annual report's measures per quarter (and for the whole year), one row each."""
    check_reader(principal)
    _check_year(year)
    today = ctx.clock.now().date()
    with ctx.uow() as uow:
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


def _cases_of(year: int) -> Select[tuple[ReviewCase]]:
    start, end = _year_bounds(year)
    return select(ReviewCase).where(ReviewCase.created_at >= start, ReviewCase.created_at < end)


def _references_of(year: int) -> Select[tuple[str]]:
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
        learning_events=learning_counts(events))


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


def clock_state(rule: ClockRule, key_dates: dict[str, str], ctx: ServiceContext,
                today: dt.date) -> str:
    """met_on_time, met_late, overdue, pending or not_started: the case page's rule
    (`deadlines._deadline`), with met split by lateness. A key date that is not a date leaves
    the clock not started rather than failing the report."""
    try:
        deadline = deadlines.evaluate(rule, key_dates or {}, ctx, today)
    except (ValueError, TypeError):
        return "not_started"
    if deadline.state == "met":
        return "met_late" if deadline.late else "met_on_time"
    return deadline.state


def timeliness(ctx: ServiceContext, cases: Sequence[ReviewCase],
               today: dt.date) -> dict[str, ClockTimeliness]:
    result = {}
    for rule in ctx.clock_rules.clocks:
        counts = ClockTimeliness(rule.label, rule.statutory, rule.kind)
        for case in cases:
            state = clock_state(rule, case.key_dates, ctx, today)
            setattr(counts, state, getattr(counts, state) + 1)
        result[rule.id] = counts
    return result


def _themes_of(finding: Finding) -> set[str]:
    values = finding.themes if isinstance(finding.themes, list) else []
    return {" ".join(str(theme).split()) for theme in values if str(theme).strip()}


def themes(findings: Sequence[Finding]) -> Themes:
    """Findings per theme (a finding naming a theme twice counts once) and the cases each
    theme was found in; a theme found in two or more cases recurs."""
    per_theme: Counter[str] = Counter()
    cases_of: dict[str, set[str]] = defaultdict(set)
    for finding in findings:
        for theme in _themes_of(finding):
            per_theme[theme] += 1
            cases_of[theme].add(finding.case_reference)
    counts = [ThemeCount(theme, n, len(cases_of[theme]))
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
    totals = ActionCounts()
    by_agency: dict[str, ActionCounts] = {}
    overdue = []
    for action in actions:
        state = action_state(action, today)
        agency = by_agency.setdefault(action.owner_agency, ActionCounts())
        for counts in (totals, agency):
            counts.total += 1
            setattr(counts, state, getattr(counts, state) + 1)
        if state == "overdue":
            overdue.append(OverdueAction(
                action.id, action.case_reference, action.owner_agency, action.action,
                action.lead, action.status, action.target_date,
                (today - action.target_date).days))
    overdue.sort(key=lambda a: (-a.days_overdue, a.owner_agency, a.case_reference, a.id))
    return Actions(totals, dict(sorted(by_agency.items())), overdue)


def publication_counts(publications: Sequence[Publication]) -> Publications:
    items = [PublicationItem(p.case_reference, p.kind, p.title, p.published_on,
                             p.available_until, p.location)
             for p in sorted(publications, key=lambda p: (p.published_on, p.id))]
    return Publications(len(items), dict(sorted(Counter(p.kind for p in items).items())), items)


def learning_counts(events: Sequence[LearningEvent]) -> LearningEvents:
    attendance: Counter[str] = Counter()
    for event in events:
        for agency, count in (event.attendance or {}).items():
            if isinstance(count, int) and not isinstance(count, bool) and count > 0:
                attendance[str(agency)] += count
    return LearningEvents(
        total=len(events), by_kind=dict(sorted(Counter(e.kind for e in events).items())),
        attendance_total=sum(attendance.values()),
        attendance_by_agency=dict(sorted(attendance.items())))


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
    add("learning_events", "attendance_total", events.attendance_total)
    for agency, value in events.attendance_by_agency.items():
        add("learning_events", f"attendance_by_agency.{agency}", value)
    return out


# ---- the Board's progress summary ---------------------------------------------------------

def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _words(value: str) -> str:
    return value.replace("_", " ")


def _listing(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def progress_summary(report: AnnualReport) -> str:
    """The key figures in a short paragraph of plain English."""
    year, reviews = report.year, report.reviews
    sentences = []
    graded = [f"{n} {_words(g)}" for g, n in reviews.by_grade.items() if n and g != NONE_KEY]
    text = f"In {year} the Board received {_n(reviews.total, 'referral')}"
    sentences.append(text + (f" ({_listing(graded)})" if graded else "") + ".")
    routed = [f"{n} {_words(r)}" for r, n in reviews.by_route.items() if n and r != NONE_KEY]
    if routed:
        total_routed = sum(n for r, n in reviews.by_route.items() if r != NONE_KEY)
        sentences.append(f"{_n(total_routed, 'case')} went to a review route "
                         f"({_listing(routed)}).")
    status = reviews.by_status
    finished = status.get("closed", 0) + status.get("declined", 0)
    if reviews.total:
        sentences.append(
            f"As at {_long_date(report.as_of)}, {finished} of them "
            f"{'is' if finished == 1 else 'are'} closed or declined, "
            f"{status.get('monitoring', 0)} in monitoring of the action plan and "
            f"{reviews.total - finished - status.get('monitoring', 0) - status.get('erased', 0)}"
            f" still in screening or review.")
    statutory = [c for c in report.timeliness.values() if c.statutory]
    on_time = sum(c.met_on_time for c in statutory)
    late = sum(c.met_late for c in statutory)
    overdue_clocks = sum(c.overdue for c in statutory)
    if on_time + late + overdue_clocks:
        sentences.append(f"Against the statutory clocks, {_n(on_time, 'deadline')} "
                         f"{'was' if on_time == 1 else 'were'} met on time, {late} late, and "
                         f"{overdue_clocks} {'is' if overdue_clocks == 1 else 'are'} overdue.")
    sentences.append(_actions_sentence(report.actions))
    sentences.append(_themes_sentence(report.themes))
    events = report.learning_events
    sentences.append(
        f"The Board published {_n(report.publications.total, 'document')} and held "
        f"{_n(events.total, 'learning event')}"
        + (f", attended by {_n(events.attendance_total, 'practitioner')}"
           if events.total else "") + ".")
    return " ".join(s for s in sentences if s)


def _actions_sentence(actions: Actions) -> str:
    totals = actions.totals
    if not totals.total:
        return "The year's reviews have no actions yet."
    done = totals.completed_on_time + totals.completed_late
    text = (f"The year's reviews set {_n(totals.total, 'action')}: {done} completed "
            f"({totals.completed_on_time} on time, {totals.completed_late} late), "
            f"{totals.open} open")
    if totals.cancelled:
        text += f", {totals.cancelled} cancelled"
    if not totals.overdue:
        return text + ", and none is overdue."
    most = max(c.overdue for c in actions.by_agency.values())
    leaders = [agency for agency, c in actions.by_agency.items() if c.overdue == most]
    each = " each" if len(leaders) > 1 else ""
    return (text + f"; {totals.overdue} {'is' if totals.overdue == 1 else 'are'} overdue, "
            f"most in {_listing([_words(a) for a in leaders])} ({most}{each}).")


def _themes_sentence(found: Themes) -> str:
    if not found.counts:
        return "No themes have been recorded from the year's findings yet."
    top = [f"{c.theme} ({_n(c.findings, 'finding')})" for c in found.counts[:3]]
    text = (f"The most frequent theme{'s were' if len(top) > 1 else ' was'} "
            f"{_listing(top)}")
    if found.recurring:
        names = _listing([c.theme for c in found.recurring])
        count = len(found.recurring)
        return text + (f"; {_n(count, 'theme')} came back in two or more reviews: {names}.")
    return text + "; no theme came back in more than one review."
