"""What the year's reviews recorded on their outcome (`ReviewCase.outcome`, written by the
routes' `record_outcome`): whom they did not involve and why, the agency reviews' lessons, the
audits' case studies, and the reviews that ended with no recommendations. Values that are not
of the expected shape are skipped rather than failing the report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from app.db.models import ReviewCase
from app.services.report_types import (
    CaseStudies,
    CaseStudy,
    Involvement,
    InvolvementGap,
    Lesson,
    Lessons,
    NoRecommendation,
    NoRecommendations,
)


def _text(value: Any) -> str | None:
    """Trimmed text, or None for anything that holds no words."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def _outcome(case: ReviewCase) -> dict[str, Any]:
    return case.outcome if isinstance(case.outcome, dict) else {}


def _not_involved(outcome: dict[str, Any], who: str) -> tuple[bool, str | None]:
    reason = _text(outcome.get(f"{who}_not_involved_reason"))
    return reason is not None or outcome.get(f"{who}_involved") is False, reason


def involvement(cases: Sequence[ReviewCase]) -> Involvement:
    """The reviews that did not involve the family or staff (a reason recorded, or the
    involvement recorded as false), with the reasons, per review."""
    gaps = []
    family_gaps = staff_gaps = 0
    for case in cases:
        outcome = _outcome(case)
        no_family, family = _not_involved(outcome, "family")
        no_staff, staff = _not_involved(outcome, "staff")
        family_gaps += no_family
        staff_gaps += no_staff
        if no_family or no_staff:
            ways = outcome.get("staff_involvement")
            gaps.append(InvolvementGap(
                case_reference=case.reference, family_not_involved_reason=family,
                staff_not_involved_reason=staff,
                staff_involvement=[str(w) for w in ways] if isinstance(ways, list) else []))
    return Involvement(family_not_involved=family_gaps, staff_not_involved=staff_gaps,
                       reviews=gaps)


def lessons(cases: Sequence[ReviewCase]) -> Lessons:
    """The lessons of the agency reviews, each with its agency, in case order."""
    items = []
    for case in cases:
        found = _outcome(case).get("lessons")
        for entry in found if isinstance(found, list) else []:
            if isinstance(entry, dict):
                text, agency = _text(entry.get("lesson")), _text(entry.get("agency"))
            else:
                text, agency = _text(entry), None
            if text:
                items.append(Lesson(case_reference=case.reference, agency=agency or "",
                                    lesson=text))
    by_agency = Counter(item.agency or "unknown" for item in items)
    return Lessons(total=len(items), by_agency=dict(sorted(by_agency.items())), items=items)


def case_studies(cases: Sequence[ReviewCase]) -> CaseStudies:
    """The audits' case studies to cascade: the text (`summary`, or the audit route's
    `case_study`), a title if one was given, and where it is to be shared."""
    items = []
    for case in cases:
        study = _outcome(case).get("case_study")
        if isinstance(study, dict):
            title = _text(study.get("title"))
            summary = _text(study.get("summary")) or _text(study.get("case_study"))
            audiences = study.get("audiences")
            if title or summary:
                items.append(CaseStudy(case_reference=case.reference, title=title or "",
                                       summary=summary or "",
                                       audiences=[str(a) for a in audiences]
                                       if isinstance(audiences, list) else []))
    return CaseStudies(total=len(items), items=items)


def no_recommendations(cases: Sequence[ReviewCase]) -> NoRecommendations:
    """The reviews that ended with no recommendations or actions, with the panel's reason."""
    items = []
    for case in cases:
        reason = _text(_outcome(case).get("no_recommendations_reason"))
        if reason:
            items.append(NoRecommendation(case_reference=case.reference, route=case.route,
                                          reason=reason))
    return NoRecommendations(total=len(items), items=items)
