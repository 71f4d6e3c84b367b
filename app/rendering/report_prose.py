"""The annual report's progress summary: its key figures in a short paragraph of plain English."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from app.services.report_types import NONE_KEY, Actions, AnnualReport, Themes


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
    sentences.append(_record_sentence(report))
    events = report.learning_events
    sentences.append(
        f"The Board published {_n(report.publications.total, 'document')} and held "
        f"{_n(events.total, 'learning event')}"
        + (f" ({events.within_reviews} within reviews)" if events.within_reviews else "")
        + (f", attended by {_n(events.attendance_total, 'practitioner')}"
           if events.total else "") + ".")
    return " ".join(s for s in sentences if s)


def _record_sentence(report: AnnualReport) -> str:
    """Whom the reviews did not involve, and how many ended without recommendations."""
    parts = []
    involvement = report.involvement
    if involvement.family_not_involved:
        parts.append(f"{_n(involvement.family_not_involved, 'review')} did not involve the "
                     "family")
    if involvement.staff_not_involved:
        parts.append(f"{_n(involvement.staff_not_involved, 'review')} did not involve "
                     "front-line staff")
    if report.no_recommendations.total:
        count = report.no_recommendations.total
        parts.append(f"{_n(count, 'review')} ended with no recommendations")
    if not parts:
        return ""
    return f"{_listing(parts)}, each with its reasons recorded."


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
