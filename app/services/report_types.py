"""The shapes of the annual report (plain data: `reports` fills them, `api` and `web` render)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

NONE_KEY = "none"
"""The key that counts cases without a grade or a route yet."""
CLOCK_STATES = ("met_on_time", "met_late", "overdue", "pending", "not_started")
"""The states a clock is counted in; a clock that does not apply to a case is not counted."""
ACTION_MEASURES = ("total", "completed_on_time", "completed_late", "overdue", "open",
                   "cancelled")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")


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
    applies_to: str = "all"
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
    within_reviews: int = 0


@dataclass
class InvolvementGap:
    """A review that did not involve the family or front-line staff, with the reasons."""

    case_reference: str
    family_not_involved_reason: str | None
    staff_not_involved_reason: str | None
    staff_involvement: list[str]


@dataclass
class Involvement:
    family_not_involved: int
    staff_not_involved: int
    reviews: list[InvolvementGap]


@dataclass
class Lesson:
    case_reference: str
    agency: str
    lesson: str


@dataclass
class Lessons:
    total: int
    by_agency: dict[str, int]
    items: list[Lesson]


@dataclass
class CaseStudy:
    case_reference: str
    title: str
    summary: str
    audiences: list[str]


@dataclass
class CaseStudies:
    total: int
    items: list[CaseStudy]


@dataclass
class NoRecommendation:
    case_reference: str
    route: str | None
    reason: str


@dataclass
class NoRecommendations:
    total: int
    items: list[NoRecommendation]


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
    involvement: Involvement
    lessons: Lessons
    case_studies: CaseStudies
    no_recommendations: NoRecommendations
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
