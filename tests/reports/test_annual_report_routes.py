"""The annual report's side of issue 16, point 9, on cases driven through the routes by the API:
learning events held inside a route, the reasons the family was not involved, agency reviews'
lessons, an audit's case study and a review that ended with no recommendations reach the report;
a concise review's SCR clocks do not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.routes.driver import CaseDriver

ANNUAL = "/api/v1/reports/annual"


def test_what_the_routes_recorded_reaches_the_annual_report(client: TestClient) -> None:
    concise = CaseDriver(client)
    concise.deploy()
    concise.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    concise.screen("concise")
    concise.endorse()
    concise.full_review_to_end(extended=False, family=False)
    concise.submit("decide_publication", {"publish": False,
                                          "not_published_reason": "The family would be known."})

    audit = CaseDriver(client)
    audit.refer(good_practice=True)
    audit.screen("audit")
    audit.endorse()
    audit.submit("set_audit_questions", {
        "audit_type": "best_practice_case_study",
        "questions": ["What made the joint visit work?"], "auditor": "Practice manager"})
    audit.submit("complete_audit", {
        "answers": [{"question": "What made the joint visit work?", "answer": "Planning"}],
        "findings": [{"finding": "Joint planning", "themes": ["assessment"]}], "actions": [],
        "no_recommendations_reason": "Good practice to share; nothing to change."})
    audit.submit("write_case_study", {"case_study": "A joint visit planned the day before.",
                                      "audiences": ["newsletter"]})
    audit.submit("agree_learning", {"learning_agreed": True, "learning_summary": "Plan jointly"})

    response = client.get(ANNUAL, params={"year": 2026})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["reviews"]["total"] == 2
    assert report["learning_events"]["within_reviews"] == 1  # the concise review's own
    assert report["learning_events"]["by_kind"] == {"learning_event": 1}
    assert report["involvement"]["family_not_involved"] == 1
    [gap] = report["involvement"]["reviews"]
    assert (gap["case_reference"], gap["family_not_involved_reason"]) == (
        concise.reference, "The family declined to take part.")
    assert gap["staff_involvement"] == ["direct_discussion"]
    assert report["lessons"]["by_agency"] == {"health": 1, "police": 1}
    assert {item["case_reference"] for item in report["lessons"]["items"]} == {concise.reference}
    [study] = report["case_studies"]["items"]
    assert (study["case_reference"], study["summary"], study["audiences"]) == (
        audit.reference, "A joint visit planned the day before.", ["newsletter"])
    [none] = report["no_recommendations"]["items"]
    assert (none["case_reference"], none["route"], none["reason"]) == (
        audit.reference, "audit", "Good practice to share; nothing to change.")
    # the lessons the register keeps beside the findings are not practice themes
    assert {t["theme"] for t in report["themes"]["counts"]} == {
        "escalation", "information_sharing", "assessment"}
    # neither case is on the SCR path: their SCR clocks are not counted at all
    for clock_id in ("scr_complete", "report_to_national_panel", "national_panel_notice"):
        clock = report["timeliness"][clock_id]
        assert sum(clock[s] for s in ("met_on_time", "met_late", "overdue", "pending",
                                      "not_started")) == 0, clock_id
    assert report["timeliness"]["decision"]["met_on_time"] == 2

    page = client.get(ANNUAL, params={"year": 2026, "format": "html"}).text
    for text in ("The family declined to take part.", "A joint visit planned the day before.",
                 "Good practice to share; nothing to change.", "(1 within reviews)"):
        assert text in page, text
