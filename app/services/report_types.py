"""The shapes of the annual report: `reports` fills them and the API returns them as they are
(their field descriptions are the API's documentation); `app.rendering` renders them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

NONE_KEY = "none"
"""The key that counts cases without a grade or a route yet."""
CLOCK_STATES = ("met_on_time", "met_late", "overdue", "pending", "not_started")
"""The states a clock is counted in; a clock that does not apply to a case is not counted."""
ACTION_MEASURES = ("total", "completed_on_time", "completed_late", "overdue", "open",
                   "cancelled")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")


class ReviewCounts(BaseModel):
    total: int = Field(description="Cases referred in the year (by their referral date).")
    by_grade: dict[str, int] = Field(description="Every grade, and `none` for ungraded cases.")
    by_route: dict[str, int] = Field(description="Every route, and `none` for cases without one.")
    by_status: dict[str, int] = Field(description="Every case status, as it is today.")


class ClockTimeliness(BaseModel):
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


class ThemeCount(BaseModel):
    theme: str
    findings: int = Field(description="Findings naming the theme.")
    cases: int = Field(description="Different cases with a finding naming the theme.")


class Themes(BaseModel):
    findings: int = Field(description="Findings of the year's cases.")
    counts: list[ThemeCount] = Field(description="Most findings first.")
    recurring: list[ThemeCount] = Field(
        description="Themes found in two or more different cases, most cases first.")


class ActionCounts(BaseModel):
    total: int
    completed_on_time: int = Field(description="Completed on or before the target date.")
    completed_late: int = Field(description="Completed after the target date.")
    overdue: int = Field(description="Neither completed nor cancelled; the target date has "
                                     "passed.")
    open: int = Field(description="Neither completed nor cancelled; not yet due.")
    cancelled: int


class OverdueAction(BaseModel):
    id: int
    case_reference: str
    owner_agency: str
    action: str
    lead: str
    status: str
    target_date: dt.date
    days_overdue: int


class Actions(BaseModel):
    totals: ActionCounts
    by_agency: dict[str, ActionCounts] = Field(description="By owner agency, A to Z.")
    overdue: list[OverdueAction] = Field(description="Most days overdue first.")


class PublicationItem(BaseModel):
    case_reference: str
    kind: str
    title: str
    published_on: dt.date
    available_until: dt.date | None
    location: str


class Publications(BaseModel):
    total: int = Field(description="Published in the year.")
    by_kind: dict[str, int]
    items: list[PublicationItem]


class LearningEvents(BaseModel):
    total: int = Field(description="Held in the year.")
    by_kind: dict[str, int]
    attendance_total: int
    attendance_by_agency: dict[str, int]
    within_reviews: int = Field(description="Held inside a review's route (with its case).")


# A review that did not involve the family or front-line staff, with the reasons (a comment,
# not a docstring: a docstring would become the schema's description).
class InvolvementGap(BaseModel):
    case_reference: str
    family_not_involved_reason: str | None = Field(
        description="Why the family was not involved (null: the family was involved).")
    staff_not_involved_reason: str | None = Field(
        description="Why front-line staff were not involved (null: they were).")
    staff_involvement: list[str] = Field(description="How staff were involved, if at all.")


class Involvement(BaseModel):
    family_not_involved: int = Field(description="The year's reviews without the family.")
    staff_not_involved: int = Field(description="The year's reviews without front-line staff.")
    reviews: list[InvolvementGap] = Field(description="Each such review, with the reasons.")


class Lesson(BaseModel):
    case_reference: str
    agency: str
    lesson: str


class Lessons(BaseModel):
    total: int = Field(description="Lessons of the agency reviews of the year's cases.")
    by_agency: dict[str, int]
    items: list[Lesson]


class CaseStudy(BaseModel):
    case_reference: str
    title: str = Field(description="Empty when the audit gave none.")
    summary: str = Field(description="The case study.")
    audiences: list[str] = Field(description="Where it is shared: newsletter, training, ...")


class CaseStudies(BaseModel):
    total: int = Field(description="Case studies from the year's audits.")
    items: list[CaseStudy]


class NoRecommendation(BaseModel):
    case_reference: str
    route: str | None
    reason: str = Field(description="The panel's reason for making no recommendations.")


class NoRecommendations(BaseModel):
    total: int = Field(description="The year's reviews that ended with no recommendations.")
    items: list[NoRecommendation]


# The figures of the annual report; the API's AnnualReportPublic adds the progress summary
# (prose, written by app.rendering.report_prose) and documents the whole.
class AnnualReport(BaseModel):
    year: int
    as_of: dt.date
    reviews: ReviewCounts
    timeliness: dict[str, ClockTimeliness] = Field(
        description="By clock id, in the order of the clock rules.")
    themes: Themes
    actions: Actions
    publications: Publications
    learning_events: LearningEvents
    involvement: Involvement
    lessons: Lessons
    case_studies: CaseStudies
    no_recommendations: NoRecommendations


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
