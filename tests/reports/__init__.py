"""The annual report and the PMF export; `seed_year` writes a year of cases whose figures the
tests know (see the comments beside each row for what it should count as, on 2 March 2026)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.db.models import Action, Finding, LearningEvent, Publication, ReviewCase
from app.services.context import ServiceContext

YEAR = 2025
UTC = dt.UTC


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# reference, referred at (created_at), grade, route, status, key dates
CASES: list[tuple[str, str, str | None, str | None, str, dict[str, str]]] = [
    # A, Q1: notification late (due 13 Jan), decision on time, SCR late, agency reviews on time,
    # report / report to the panel / publication pending
    ("LIR-2025-0001", "2025-01-15T10:00", "catastrophic", "extended", "monitoring", {
        "incident": "2025-01-06", "referred": "2025-01-15", "decided": "2025-02-10",
        "scr_commissioned": "2025-02-10", "review_completed": "2025-09-01",
        "agency_reviews_due": "2025-04-01", "agency_reviews_received": "2025-03-28",
        "report_due": "2026-03-31", "publication_due": "2026-04-01"}),
    # B, Q1: everything on time; kept published pending (until 1 Nov 2026)
    ("LIR-2025-0002", "2025-02-20T09:00", "severe", "concise", "closed", {
        "incident": "2025-02-17", "referred": "2025-02-20", "decided": "2025-03-10",
        "report_due": "2025-09-01", "report_drafted": "2025-08-15",
        "publication_due": "2025-11-01", "national_panel_report_sent": "2025-10-20",
        "published": "2025-11-01"}),
    # C, Q2: notification on time, decision overdue, agency reviews overdue
    ("LIR-2025-0003", "2025-06-05T14:00", "significant", "concise", "in_review", {
        "incident": "2025-06-02", "referred": "2025-06-05", "agency_reviews_due": "2025-09-01"}),
    # D, Q3: notification late (due 8 Aug), decision late (due 11 Sep)
    ("LIR-2025-0004", "2025-08-11T08:00", "moderate", "single_agency", "closed", {
        "incident": "2025-08-01", "referred": "2025-08-11", "decided": "2025-09-20"}),
    # E, Q4: notification on time, decision overdue
    ("LIR-2025-0005", "2025-10-01T12:00", "low", "audit", "screening", {
        "incident": "2025-09-29", "referred": "2025-10-01"}),
    # F, Q4: statutory, and the chair decided not to hold an SCR: notification and decision on
    # time; the notice to the national panel late (due 15 Dec)
    ("LIR-2025-0006", "2025-11-20T12:00", "catastrophic", None, "declined", {
        "incident": "2025-11-17", "referred": "2025-11-20", "decided": "2025-12-01",
        "declined_scr": "2025-12-01", "national_panel_notified": "2025-12-20"}),
    # G, Q4 (the last half hour of the year): ungraded; notification on time (due 31 Dec:
    # Christmas and Boxing Day are not working days); decision overdue (due 31 Jan 2026)
    ("LIR-2025-0007", "2025-12-31T23:30", None, None, "screening", {
        "incident": "2025-12-22", "referred": "2025-12-31"}),
    # not in 2025
    ("LIR-2024-0009", "2024-12-31T23:59", "severe", "concise", "monitoring", {
        "incident": "2024-12-20", "referred": "2024-12-31"}),
    ("LIR-2026-0001", "2026-01-01T00:00", "catastrophic", "extended", "screening", {
        "incident": "2025-12-30", "referred": "2026-01-01"}),
]

# statutory, scr_held: the SCR clocks apply only where an SCR is held (scr_complete, the report
# to the national panel) or where the chair decided not to hold one (the notice to the panel).
# B's report to the national panel and its key date count for nothing: B is no SCR.
SCR: dict[str, tuple[bool | None, bool | None]] = {
    "LIR-2025-0001": (True, True), "LIR-2025-0006": (True, False),
    "LIR-2025-0007": (None, None), "LIR-2026-0001": (True, None),
}

# what the reviews recorded on their outcome (the routes' record_outcome)
OUTCOMES: dict[str, dict[str, Any]] = {
    "LIR-2025-0001": {"staff_involvement": ["direct_discussion", "meetings"]},
    "LIR-2025-0002": {  # Q1
        "family_not_involved_reason": "The family moved away and could not be traced.",
        "staff_involvement": ["direct_discussion"],
        "lessons": [{"agency": "health", "lesson": "Escalate missed health appointments"}]},
    "LIR-2025-0003": {"lessons": ["Ask who else lives in the home"]},  # Q2: no agency named
    "LIR-2025-0004": {  # Q3
        "staff_not_involved_reason": "The practitioners have left the agency.",
        "lessons": [{"agency": "police", "lesson": "Record the voice of the child"},
                    {"agency": "health", "lesson": "  Share   concerns with the school  "},
                    {"agency": "health", "lesson": "   "}],  # no words: not a lesson
        "no_recommendations_reason": "The agency had already changed its procedure."},
    "LIR-2025-0005": {"case_study": {  # Q4, as the audit route records it
        "case_study": "Early help that worked: the school and the health visitor shared "
                      "their concerns early.", "audiences": ["newsletter", "board_event"]}},
    "LIR-2024-0009": {"family_not_involved_reason": "Not in 2025."},
    "LIR-2026-0001": {"no_recommendations_reason": "Not in 2025."},
}

FINDINGS: list[tuple[str, list[str]]] = [
    ("LIR-2025-0001", ["information sharing", "professional curiosity"]),
    ("LIR-2025-0001", ["information sharing"]),
    ("LIR-2025-0002", ["information sharing", "voice of the child"]),
    ("LIR-2025-0003", ["professional curiosity"]),
    ("LIR-2025-0004", ["neglect"]),
    ("LIR-2025-0004", ["neglect", " neglect "]),  # counts once
    ("LIR-2025-0006", ["voice of the child"]),
    ("LIR-2025-0002", ["agency_lesson"]),  # the register's copy of a lesson: not a finding
    ("LIR-2024-0009", ["information sharing"]),  # not in 2025
    ("LIR-2026-0001", ["neglect"]),  # not in 2025
]

# case, agency, status, target date, completed on   -> as at 2 March 2026
ACTIONS: list[tuple[str, str, str, str, str | None]] = [
    ("LIR-2025-0001", "police", "completed", "2025-06-30", "2025-06-15"),  # on time
    ("LIR-2025-0001", "police", "in_progress", "2025-09-30", None),  # overdue 153 days
    ("LIR-2025-0003", "police", "open", "2026-01-31", None),  # overdue 30 days
    ("LIR-2025-0004", "police", "open", "2026-06-30", None),  # open
    ("LIR-2025-0002", "health", "completed", "2025-10-31", "2025-11-15"),  # late
    ("LIR-2025-0002", "health", "in_progress", "2026-03-01", None),  # overdue 1 day
    ("LIR-2025-0003", "health", "open", "2026-03-02", None),  # open: due today
    ("LIR-2025-0001", "health", "cancelled", "2025-05-01", None),  # cancelled
    ("LIR-2025-0004", "education", "completed", "2025-12-01", "2025-12-01"),  # on time
    ("LIR-2025-0006", "education", "open", "2026-12-31", None),  # open
    ("LIR-2024-0009", "police", "open", "2025-05-01", None),  # 2024's case; in the 2025 PMF
    ("LIR-2026-0001", "health", "open", "2026-02-01", None),  # 2026's case
]

# case, kind, published on
PUBLICATIONS: list[tuple[str, str, str]] = [
    ("LIR-2025-0002", "overview_report", "2025-11-01"),
    ("LIR-2025-0001", "briefing", "2025-03-10"),
    ("LIR-2025-0003", "briefing", "2025-07-20"),
    ("LIR-2024-0009", "overview_report", "2024-12-20"),  # not in 2025
    ("LIR-2026-0001", "briefing", "2026-01-05"),  # not in 2025
]

# held on, kind, attendance, the case whose route held it (None: the Board's own)
EVENTS: list[tuple[str, str, dict[str, int], str | None]] = [
    ("2025-02-14", "learning_event", {"police": 5, "health": 3}, "LIR-2025-0001"),
    ("2025-05-20", "forum", {"health": 4, "education": 2}, None),
    ("2025-09-09", "briefing_session", {"police": 1}, None),
    ("2025-11-11", "learning_event", {"childrens_social_care": 6}, "LIR-2025-0002"),
    ("2024-12-10", "forum", {"police": 9}, None),  # not in 2025
    ("2026-01-15", "learning_event", {"health": 9}, "LIR-2026-0001"),  # not in 2025
]


def seed_year(ctx: ServiceContext) -> None:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        session = uow.session
        for reference, referred, grade, route, status, key_dates in CASES:
            _, year, sequence = reference.split("-")
            created = _at(referred)
            statutory, scr_held = SCR.get(reference, (False, None))
            session.add(ReviewCase(
                reference=reference, year=int(year), sequence=int(sequence),
                child_pseudonym=f"Child {sequence}", agencies=["police", "health"],
                incident_date=dt.date.fromisoformat(key_dates.get("incident", referred[:10])),
                summary="A seeded case.", facts={}, status=status, grade=grade, route=route,
                review_type=None, statutory=statutory, scr_held=scr_held,
                scr_not_held_reason="The agencies' work is already known." if scr_held is False
                else None, key_dates=key_dates, outcome=OUTCOMES.get(reference, {}),
                referral_instance_id=None, created_at=created, updated_at=created,
                closed_at=created + dt.timedelta(days=200) if status == "closed" else None))
        for index, (reference, themes) in enumerate(FINDINGS):
            session.add(Finding(case_reference=reference, text=f"Finding {index}",
                                themes=themes, created_at=now))
        for index, (reference, agency, status, target, done) in enumerate(ACTIONS):
            extra: dict[str, Any] = {}
            if done:
                extra = {"completed_on": dt.date.fromisoformat(done),
                         "signed_off_by": "sub-group", "signed_off_at": _at(done + "T12:00")}
            session.add(Action(
                case_reference=reference, recommendation_id=None, action=f"Action {index + 1}",
                owner_agency=agency, lead=f"{agency} lead", measure_of_success="Audited",
                target_date=dt.date.fromisoformat(target), status=status,
                cancel_reason="Superseded" if status == "cancelled" else None,
                created_at=now, updated_at=now, **extra))
        for reference, kind, published in PUBLICATIONS:
            session.add(Publication(
                case_reference=reference, kind=kind, title=f"{kind} of {reference}",
                published_on=dt.date.fromisoformat(published), available_until=None,
                location="https://board.example/reviews", readership="public",
                recorded_by="bea.manager", created_at=now))
        for held, kind, attendance, case in EVENTS:
            session.add(LearningEvent(
                held_on=dt.date.fromisoformat(held), kind=kind, purpose="Share the learning",
                attendance=attendance, outputs="Notes", case_reference=case,
                recorded_by="bea.manager", created_at=now))
        uow.commit()
