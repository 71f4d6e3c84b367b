"""The Board's fixed vocabularies: grades, routes and case statuses."""

from __future__ import annotations

GRADES = ("catastrophic", "severe", "significant", "moderate", "low", "best_practice")
"""Highest first. `best_practice` is a different kind of case, not a lower concern; it ranks
last so that any concern escalates above it."""

ROUTES = ("extended", "concise", "single_agency", "audit")

ROUTE_FOR_GRADE = {
    "catastrophic": "extended",
    "severe": "concise",
    "significant": "concise",
    "moderate": "single_agency",
    "low": "audit",
    "best_practice": "audit",
}

CASE_STATUSES = ("screening", "awaiting_endorsement", "awaiting_national_panel", "in_review",
                 "monitoring", "closed", "declined", "erased")
"""`erased`: the retention period passed and the case's personal data was erased."""
CLOSED_STATUSES = frozenset({"closed", "declined"})


def grade_rank(grade: str) -> int:
    """Smaller is more serious."""
    return GRADES.index(grade)
