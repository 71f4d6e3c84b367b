"""The annual report and the PMF export, checked figure by figure against a seeded year (2025,
as at 2 March 2026; see tests/reports/__init__.py for what each seeded row should count as)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.reports import negotiate
from app.services.context import ServiceContext
from tests.conftest import ClientFactory
from tests.reports import YEAR, seed_year

ANNUAL = "/api/v1/reports/annual"
PMF = "/api/v1/reports/pmf"

# clock: (met on time, met late, overdue, pending, not started) over those of the 7 cases of
# 2025 it applies to: the SCR clocks count A (an SCR) or F (no SCR, by the chair's decision) only
TIMELINESS = {
    "notification": (5, 2, 0, 0, 0),
    "decision": (3, 1, 3, 0, 0),
    "national_panel_advice": (0, 0, 0, 0, 3),  # statutory (A, F) or not known (G)
    "national_panel_notice": (0, 1, 0, 0, 0),
    "scr_complete": (0, 1, 0, 0, 0),
    "agency_reviews": (1, 0, 1, 0, 5),
    "report": (1, 0, 0, 1, 5),
    "report_to_national_panel": (0, 0, 0, 1, 0),
    "publication": (1, 0, 0, 1, 5),
    "kept_published": (0, 0, 0, 1, 6),
}
APPLIES_TO = {"national_panel_advice": "statutory", "national_panel_notice": "scr_not_held",
              "scr_complete": "scr_held", "report_to_national_panel": "scr_held"}
STATES = ("met_on_time", "met_late", "overdue", "pending", "not_started")
ACTION_KEYS = ("total", "completed_on_time", "completed_late", "overdue", "open", "cancelled")
# agency: (total, on time, late, overdue, open, cancelled)
ACTIONS_BY_AGENCY = {
    "education": (2, 1, 0, 0, 1, 0),
    "health": (4, 0, 1, 1, 1, 1),
    "police": (4, 1, 0, 2, 1, 0),
}
SUMMARY = (
    "In 2025 the Board received 7 referrals (2 catastrophic, 1 severe, 1 significant, "
    "1 moderate and 1 low). 5 cases went to a review route (1 extended, 2 concise, 1 single "
    "agency and 1 audit). As at 2 March 2026, 3 of them are closed or declined, 1 in monitoring "
    "of the action plan and 3 still in screening or review. Against the statutory clocks, "
    "8 deadlines were met on time, 5 late, and 3 are overdue. The year's reviews set 10 "
    "actions: 3 completed (2 on time, 1 late), 3 open, 1 cancelled; 3 are overdue, most in "
    "police (2). The most frequent themes were information sharing (3 findings), neglect "
    "(2 findings) and professional curiosity (2 findings); 3 themes came back in two or more "
    "reviews: information sharing, professional curiosity and voice of the child. 1 review "
    "did not involve the family, 1 review did not involve front-line staff and 1 review ended "
    "with no recommendations, each with its reasons recorded. The Board published 3 documents "
    "and held 4 learning events (2 within reviews), attended by 21 practitioners.")


def _theme(theme: str, findings: int, cases: int) -> dict[str, Any]:
    return {"theme": theme, "findings": findings, "cases": cases}


def _publication(reference: str, kind: str, published_on: str) -> dict[str, Any]:
    return {"case_reference": reference, "kind": kind, "title": f"{kind} of {reference}",
            "published_on": published_on, "available_until": None,
            "location": "https://board.example/reviews"}


@pytest.fixture
def seeded(ctx: ServiceContext, client: TestClient) -> TestClient:
    seed_year(ctx)
    return client


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_annual_report_figures(seeded: TestClient) -> None:
    response = seeded.get(ANNUAL, params={"year": YEAR})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert report["year"] == 2025 and report["as_of"] == "2026-03-02"
    assert report["reviews"] == {
        "total": 7,
        "by_grade": {"catastrophic": 2, "severe": 1, "significant": 1, "moderate": 1, "low": 1,
                     "best_practice": 0, "none": 1},
        "by_route": {"extended": 1, "concise": 2, "single_agency": 1, "audit": 1, "none": 2},
        "by_status": {"screening": 2, "awaiting_endorsement": 0, "awaiting_national_panel": 0,
                      "in_review": 1, "monitoring": 1, "closed": 2, "declined": 1, "erased": 0},
    }
    assert list(report["timeliness"]) == list(TIMELINESS)
    for clock_id, counts in TIMELINESS.items():
        clock = report["timeliness"][clock_id]
        assert tuple(clock[state] for state in STATES) == counts, clock_id
        assert clock["applies_to"] == APPLIES_TO.get(clock_id, "all"), clock_id
    assert "urgent_concern" not in report["timeliness"]  # a task's clock, not a case's
    assert report["timeliness"]["decision"]["label"] == "Decision whether to hold a review"
    assert report["timeliness"]["decision"]["statutory"] is True
    assert report["timeliness"]["report"]["statutory"] is False
    assert report["timeliness"]["kept_published"]["kind"] == "minimum"

    assert report["themes"] == {
        "findings": 7,
        "counts": [_theme("information sharing", 3, 2), _theme("neglect", 2, 1),
                   _theme("professional curiosity", 2, 2), _theme("voice of the child", 2, 2)],
        "recurring": [_theme("information sharing", 3, 2),
                      _theme("professional curiosity", 2, 2),
                      _theme("voice of the child", 2, 2)],
    }

    actions = report["actions"]
    assert actions["totals"] == dict(zip(ACTION_KEYS, (10, 2, 1, 3, 3, 1), strict=True))
    assert actions["by_agency"] == {agency: dict(zip(ACTION_KEYS, counts, strict=True))
                                    for agency, counts in ACTIONS_BY_AGENCY.items()}
    # "which actions from last year's reviews are overdue, by agency"
    assert [(a["case_reference"], a["owner_agency"], a["action"], a["target_date"],
             a["days_overdue"], a["status"], a["lead"]) for a in actions["overdue"]] == [
        ("LIR-2025-0001", "police", "Action 2", "2025-09-30", 153, "in_progress", "police lead"),
        ("LIR-2025-0003", "police", "Action 3", "2026-01-31", 30, "open", "police lead"),
        ("LIR-2025-0002", "health", "Action 6", "2026-03-01", 1, "in_progress", "health lead"),
    ]

    assert report["publications"] == {
        "total": 3, "by_kind": {"briefing": 2, "overview_report": 1},
        "items": [_publication("LIR-2025-0001", "briefing", "2025-03-10"),
                  _publication("LIR-2025-0003", "briefing", "2025-07-20"),
                  _publication("LIR-2025-0002", "overview_report", "2025-11-01")],
    }
    assert report["learning_events"] == {
        "total": 4, "by_kind": {"briefing_session": 1, "forum": 1, "learning_event": 2},
        "attendance_total": 21,
        "attendance_by_agency": {"childrens_social_care": 6, "education": 2, "health": 7,
                                 "police": 6},
        "within_reviews": 2,
    }
    assert report["involvement"] == {
        "family_not_involved": 1, "staff_not_involved": 1,
        "reviews": [
            {"case_reference": "LIR-2025-0002",
             "family_not_involved_reason": "The family moved away and could not be traced.",
             "staff_not_involved_reason": None, "staff_involvement": ["direct_discussion"]},
            {"case_reference": "LIR-2025-0004", "family_not_involved_reason": None,
             "staff_not_involved_reason": "The practitioners have left the agency.",
             "staff_involvement": []}]}
    assert report["lessons"] == {
        "total": 4, "by_agency": {"health": 2, "police": 1, "unknown": 1},
        "items": [
            {"case_reference": "LIR-2025-0002", "agency": "health",
             "lesson": "Escalate missed health appointments"},
            {"case_reference": "LIR-2025-0003", "agency": "",
             "lesson": "Ask who else lives in the home"},
            {"case_reference": "LIR-2025-0004", "agency": "police",
             "lesson": "Record the voice of the child"},
            {"case_reference": "LIR-2025-0004", "agency": "health",
             "lesson": "Share concerns with the school"}]}
    assert report["case_studies"] == {"total": 1, "items": [{
        "case_reference": "LIR-2025-0005", "title": "",
        "summary": "Early help that worked: the school and the health visitor shared their "
                   "concerns early.", "audiences": ["newsletter", "board_event"]}]}
    assert report["no_recommendations"] == {"total": 1, "items": [{
        "case_reference": "LIR-2025-0004", "route": "single_agency",
        "reason": "The agency had already changed its procedure."}]}
    assert report["progress_summary"] == SUMMARY


def test_neighbouring_years_count_only_their_own(seeded: TestClient) -> None:
    before = seeded.get(ANNUAL, params={"year": 2024}).json()
    assert before["reviews"]["total"] == 1 and before["reviews"]["by_grade"]["severe"] == 1
    assert before["actions"]["totals"]["overdue"] == 1
    assert before["themes"]["recurring"] == []
    assert [p["published_on"] for p in before["publications"]["items"]] == ["2024-12-20"]
    assert before["learning_events"]["attendance_by_agency"] == {"police": 9}
    # no year: this year's (the clock says 2 March 2026)
    now = seeded.get(ANNUAL).json()
    assert now["year"] == 2026 and now["reviews"]["total"] == 1
    assert [a["case_reference"] for a in now["actions"]["overdue"]] == ["LIR-2026-0001"]
    assert now["publications"]["total"] == 1 and now["learning_events"]["total"] == 1


def test_an_empty_year_has_every_key_and_zeros(seeded: TestClient) -> None:
    for fmt in ("json", "csv", "html"):
        assert seeded.get(ANNUAL, params={"year": 2000, "format": fmt}).status_code == 200
    report = seeded.get(ANNUAL, params={"year": 2000}).json()
    assert report["reviews"]["total"] == 0
    assert set(report["reviews"]["by_grade"].values()) == {0}
    assert len(report["reviews"]["by_grade"]) == 7 and len(report["reviews"]["by_status"]) == 8
    assert all(sum(c[s] for s in STATES) == 0 for c in report["timeliness"].values())
    assert report["actions"] == {"totals": dict.fromkeys(ACTION_KEYS, 0), "by_agency": {},
                                 "overdue": []}
    assert report["progress_summary"].startswith("In 2000 the Board received 0 referrals.")


def test_annual_report_as_csv(seeded: TestClient) -> None:
    response = seeded.get(ANNUAL, params={"year": YEAR, "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == \
        'attachment; filename="annual-report-2025.csv"'
    rows = _csv(response.text)
    assert rows[0] == ["section", "measure", "value"]
    values = {(section, measure): int(value) for section, measure, value in rows[1:]}
    assert len(values) == len(rows) - 1, "one row per measure"
    assert {section for section, _m in values} == {
        "reviews", "timeliness", "themes", "actions", "publications", "learning_events",
        "involvement", "lessons", "case_studies", "no_recommendations"}
    expected = {
        ("reviews", "total"): 7, ("reviews", "by_grade.none"): 1,
        ("reviews", "by_route.concise"): 2, ("reviews", "by_status.erased"): 0,
        ("timeliness", "decision.overdue"): 3, ("timeliness", "notification.met_late"): 2,
        ("themes", "findings"): 7, ("themes", "recurring"): 3,
        ("themes", "by_theme.information sharing.findings"): 3,
        ("themes", "by_theme.neglect.cases"): 1,
        ("actions", "total"): 10, ("actions", "overdue"): 3,
        ("actions", "by_agency.police.overdue"): 2, ("actions", "by_agency.health.cancelled"): 1,
        ("publications", "total"): 3, ("publications", "by_kind.briefing"): 2,
        ("learning_events", "attendance_total"): 21,
        ("learning_events", "attendance_by_agency.health"): 7,
        ("learning_events", "within_reviews"): 2,
        ("timeliness", "scr_complete.not_started"): 0,
        ("timeliness", "report_to_national_panel.met_on_time"): 0,
        ("involvement", "family_not_involved"): 1, ("involvement", "staff_not_involved"): 1,
        ("lessons", "total"): 4, ("lessons", "by_agency.health"): 2,
        ("case_studies", "total"): 1, ("no_recommendations", "total"): 1,
    }
    assert {key: values[key] for key in expected} == expected
    # every row is a figure of the JSON, and every JSON count is a row
    report = seeded.get(ANNUAL, params={"year": YEAR}).json()
    for clock_id, counts in TIMELINESS.items():
        for state, count in zip(STATES, counts, strict=True):
            assert values["timeliness", f"{clock_id}.{state}"] == count
    for agency, counts in ACTIONS_BY_AGENCY.items():
        for key, count in zip(ACTION_KEYS, counts, strict=True):
            assert values["actions", f"by_agency.{agency}.{key}"] == count
    for name in ("by_grade", "by_route", "by_status"):
        for key, count in report["reviews"][name].items():
            assert values["reviews", f"{name}.{key}"] == count
    assert len(values) == (1 + 7 + 5 + 8 + 10 * 5 + 2 + 4 * 2 + 6 + 3 * 6 + 1 + 2 + 1 + 3 + 1 + 1
                           + 4 + 2 + 1 + 3 + 1 + 1)


def test_pmf_export_by_quarter(seeded: TestClient) -> None:
    response = seeded.get(PMF, params={"year": YEAR})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="pmf-2025.csv"'
    rows = _csv(response.text)
    assert rows[0] == ["measure", "Q1", "Q2", "Q3", "Q4", "year"]
    table = {row[0]: [int(v) for v in row[1:]] for row in rows[1:]}
    assert len(table) == len(rows) - 1
    expected = {
        # reviews and their clocks and themes: by referral date
        "reviews.total": [2, 1, 1, 3, 7],
        "reviews.by_grade.severe": [1, 0, 0, 0, 1],
        "reviews.by_grade.catastrophic": [1, 0, 0, 1, 2],
        "reviews.by_grade.none": [0, 0, 0, 1, 1],  # referred at 23:30 on 31 December
        "reviews.by_route.none": [0, 0, 0, 2, 2],
        "reviews.by_status.closed": [1, 0, 1, 0, 2],
        "timeliness.notification.met_late": [1, 0, 1, 0, 2],
        "timeliness.decision.overdue": [0, 1, 0, 2, 3],
        "timeliness.decision.met_on_time": [2, 0, 0, 1, 3],
        "themes.findings": [3, 1, 2, 1, 7],
        "themes.by_theme.information sharing.findings": [3, 0, 0, 0, 3],
        "themes.by_theme.voice of the child.cases": [1, 0, 0, 1, 2],
        "themes.recurring": [1, 0, 0, 0, 3],
        # actions: by target date, whatever the case's year (2024's case's action counts)
        "actions.total": [0, 3, 1, 2, 6],
        "actions.completed_on_time": [0, 1, 0, 1, 2],
        "actions.completed_late": [0, 0, 0, 1, 1],
        "actions.overdue": [0, 1, 1, 0, 2],
        "actions.open": [0, 0, 0, 0, 0],
        "actions.cancelled": [0, 1, 0, 0, 1],
        "actions.by_agency.police.overdue": [0, 1, 1, 0, 2],
        "actions.by_agency.health.completed_late": [0, 0, 0, 1, 1],
        # publications by publication date, learning events by the day they were held
        "publications.total": [1, 0, 1, 1, 3],
        "publications.by_kind.briefing": [1, 0, 1, 0, 2],
        "learning_events.total": [1, 1, 1, 1, 4],
        "learning_events.attendance_total": [8, 6, 1, 6, 21],
        "learning_events.attendance_by_agency.police": [5, 0, 1, 0, 6],
        "learning_events.within_reviews": [1, 0, 0, 1, 2],
        # what the reviews recorded: by referral date, as the reviews
        "timeliness.national_panel_notice.met_late": [0, 0, 0, 1, 1],
        "timeliness.scr_complete.not_started": [0, 0, 0, 0, 0],
        "involvement.family_not_involved": [1, 0, 0, 0, 1],
        "involvement.staff_not_involved": [0, 0, 1, 0, 1],
        "lessons.total": [1, 1, 2, 0, 4],
        "lessons.by_agency.health": [1, 0, 1, 0, 2],
        "case_studies.total": [0, 0, 0, 1, 1],
        "no_recommendations.total": [0, 0, 1, 0, 1],
    }
    assert {key: table[key] for key in expected} == expected
    for measure, values in table.items():
        if measure != "themes.recurring":  # every other measure adds up over the quarters
            assert sum(values[:4]) == values[4], measure
    # the same measures as the annual report (whose actions are its cases', not by target date)
    annual = _csv(seeded.get(ANNUAL, params={"year": YEAR, "format": "csv"}).text)[1:]
    assert {m for m in table if not m.startswith("actions.")} == \
        {f"{s}.{m}" for s, m, _v in annual if s != "actions"}
    for section, measure, value in annual:
        if section != "actions":
            assert table[f"{section}.{measure}"][4] == int(value), measure


def test_html_report_has_its_charts(seeded: TestClient) -> None:
    response = seeded.get(ANNUAL, params={"year": YEAR, "format": "html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "base.html" not in page and "<script" not in page
    assert "/ui/static/annual_report.css" in page  # its print rules live there
    charts = re.findall(r'<svg class="chart" id="([a-z-]+)" role="img" '
                        r'aria-labelledby="([a-z-]+-title) ([a-z-]+-desc)"', page)
    assert [c[0] for c in charts] == ["chart-grade", "chart-route", "chart-status",
                                      "chart-timeliness", "chart-themes", "chart-actions",
                                      "chart-events", "chart-attendance"]
    for chart_id, title, desc in charts:
        assert f'<title id="{title}">' in page and f'<desc id="{desc}">' in page, chart_id
    assert "Referrals in 2025 by grade (cases). catastrophic: 2; severe: 1;" in page
    assert 'id="figure-overdue-actions">3<' in page
    assert SUMMARY.replace("'", "&#39;") in page
    for text in ("The family moved away and could not be traced.",
                 "The practitioners have left the agency.", "Record the voice of the child",
                 "Early help that worked", "for newsletter, board event",
                 "The agency had already changed its procedure.",
                 "(2 within reviews)", "cases with a Serious Case Review"):
        assert text in page, text
    assert "Not in 2025." not in page
    for reference in ("LIR-2025-0001", "LIR-2025-0003", "LIR-2025-0002"):
        assert reference in page
    # the Accept header chooses when no format is given
    by_accept = seeded.get(ANNUAL, params={"year": YEAR}, headers={"Accept": "text/html"})
    assert by_accept.headers["content-type"].startswith("text/html")
    assert by_accept.headers["vary"] == "Accept"
    as_csv = seeded.get(ANNUAL, params={"year": YEAR}, headers={"Accept": "text/csv"})
    assert as_csv.text.startswith("section,measure,value")


def test_negotiate() -> None:
    assert negotiate(None) == "json"
    assert negotiate("*/*") == "json"
    assert negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") == "html"
    assert negotiate("text/csv;q=0.5, application/json;q=0.9") == "json"
    assert negotiate("text/csv; q=1, text/html; q=0.2") == "csv"
    assert negotiate("text/html;q=0, text/csv;q=bogus") == "json"


def test_who_may_read_the_report(ctx: ServiceContext, make_client: ClientFactory) -> None:
    for role in ("board_manager", "chair", "panel_member", "reviewer", "auditor", "admin"):
        reader = make_client(role)
        assert reader.get(ANNUAL, params={"year": YEAR}).status_code == 200, role
        assert reader.get(PMF, params={"year": YEAR}).status_code == 200, role
    lead = make_client("agency_lead", agency="police")
    designer = make_client("designer")
    for denied, reason in ((lead, "agency lead"), (designer, "read cases")):
        for url in (ANNUAL, PMF):
            response = denied.get(url, params={"year": YEAR})
            assert response.status_code == 403
            body = response.json()
            assert body["code"] == "forbidden" and reason in body["detail"], body
    with TestClient(make_client("admin").app) as anonymous:
        assert anonymous.get(ANNUAL).status_code == 401


@pytest.mark.parametrize(("url", "params"), [
    (ANNUAL, {"year": "1999"}), (ANNUAL, {"year": "2101"}), (ANNUAL, {"year": "last"}),
    (PMF, {"year": "1999"}), (ANNUAL, {"year": "2025", "format": "xml"}),
])
def test_invalid_year_or_format(client: TestClient, url: str, params: dict[str, str]) -> None:
    response = client.get(url, params=params)
    assert response.status_code == 422
    body = response.json()
    field = "format" if "format" in params else "year"
    assert body["code"] == "invalid" and [e["field"] for e in body["errors"]] == [field]
    assert field in body["detail"]
