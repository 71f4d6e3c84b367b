"""Issue 16, point 6's limit for a Serious Case Review: published within six months of the
decision to hold it (after an escalation, of the escalation), unless the chair agrees a later
date with reasons; and the SCR's publication keeps to the plan (point 8)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.routes.driver import ACTION, AGENCY_REVIEW, FINDINGS, REVIEW_TEAM, CaseDriver
from tests.routes.test_review_duties import PLAN, TERMS, concise_case, on_publication_day


def scr_route(client: TestClient, **data: Any) -> CaseDriver:
    """An extended review on the Serious Case Review path, started as the referral starts it
    (its call activity passes these data). The case comes from a referral left at screening."""
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    response = client.post("/api/v1/instances", json={
        "process_key": "extended_review", "business_key": driver.reference, "data": {
            "reference": driver.reference, "grade": "catastrophic", "route": "extended",
            "statutory": True, "agencies": ["police", "health"], "child_pseudonym": "Child A",
            "decided_on": "2026-03-02", "scr_held": True, **data}})
    assert response.status_code == 201, response.text
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": REVIEW_TEAM})
    driver.submit("decide_involvement", {"family_involved": True, "staff_involved": True,
                                         "staff_involvement": ["direct_discussion"]})
    return driver


def test_an_scr_is_published_within_six_months_unless_the_chair_agrees(
        client: TestClient) -> None:
    driver = scr_route(client)
    [plan] = [t for t in driver.ready() if t["bpmn_id"] == "plan_publication"]
    assert client.get(f"/api/v1/tasks/{plan['id']}").json()["data"][
        "scr_publication_limit"] == "2026-09-02"  # six months after the decision
    late = {**PLAN, "publication_due": "2026-10-01"}
    response = driver.submit("plan_publication", late, expect=422)
    assert "publication_due" in str(response)
    driver.submit("plan_publication", {**PLAN, "report_due": "2026-04-01"}, expect=422)
    driver.submit("plan_publication", {**late, "late_publication_reason": "..."}, expect=422)
    driver.submit("plan_publication", {**late, "late_publication_reason":
                                       "The criminal trial is in September."})
    [task] = [t for t in driver.ready() if t["bpmn_id"] != "screen_referral"]
    assert (task["bpmn_id"], task["lane"]) == ("agree_late_publication", "chair")
    driver.submit("agree_late_publication", {"late_publication_agreed": False,
                                             "late_publication_decision_reason": "?"},
                  expect=422)
    driver.submit("agree_late_publication", {
        "late_publication_agreed": False,
        "late_publication_decision_reason": "Publish a summary before the trial instead."})
    assert "plan_publication" in driver.ready_ids()
    driver.submit("plan_publication", PLAN)  # on time: no reason, no chair
    assert sorted(t["agency"] for t in driver.ready() if t["bpmn_id"] == "write_agency_review"
                  ) == ["health", "police"]
    decisions = [e["detail"] for e in driver.events("decision_recorded")
                 if e["detail"]["decision"] == "late_publication"]
    assert [(d["agreed"], d["publication_due"]) for d in decisions] == [(False, "2026-10-01")]
    assert driver.case()["key_dates"]["scr_publication_limit"] == "2026-09-02"


def test_the_chair_agrees_a_later_scr_publication_and_an_escalation_restarts_the_limit(
        client: TestClient) -> None:
    driver = scr_route(client, commissioned_on="2026-04-15")
    late = {**PLAN, "publication_due": "2026-11-01",
            "late_publication_reason": "The criminal trial is in October."}
    driver.submit("plan_publication", {**PLAN, "publication_due": "2026-10-16"}, expect=422)
    driver.submit("plan_publication", {**PLAN, "publication_due": "2026-10-15"})
    driver = scr_route(client, commissioned_on="2026-04-15")
    driver.submit("plan_publication", late)
    driver.submit("agree_late_publication", {
        "late_publication_agreed": True,
        "late_publication_decision_reason": "Publishing before the trial could prejudice it."})
    assert "write_agency_review" in driver.ready_ids()
    decision = driver.decisions()["late_publication"]
    assert (decision["agreed"], decision["scr_publication_limit"]) == (True, "2026-10-15")
    assert decision["late_publication_reason"] == "The criminal trial is in October."


def test_no_limit_off_the_scr_path(client: TestClient) -> None:
    driver = concise_case(client)
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": REVIEW_TEAM})
    driver.submit("decide_involvement", {"family_involved": True, "staff_involved": True,
                                         "staff_involvement": ["direct_discussion"]})
    driver.submit("plan_publication", {**PLAN, "publication_due": "2027-06-01"})
    assert sorted(driver.ready_ids()) == ["write_agency_review", "write_agency_review"]
    assert "scr_publication_limit" not in driver.case()["key_dates"]


def test_a_single_agency_review_author_with_line_responsibility_needs_the_chair(
        client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(parents_charged_neglect=True)
    driver.screen("single_agency")
    driver.endorse()
    driver.submit("commission_single_agency_review", {
        "agency": "health", "terms_of_reference": "Health visiting in 2025",
        "due_date": "2026-05-01"})
    manager = {"name": "T. Manager", "role": "Team manager", "line_responsibility": True,
               "line_responsibility_description": "Manages the health visitors involved."}
    review = {"chronology": [{"date": "2026-01-05", "event": "Visit", "source": "Notes"}],
              "analysis": "a", "findings": FINDINGS, "actions": [ACTION], "author": manager}
    driver.submit("carry_out_single_agency_review", review)
    [task] = driver.ready()
    assert (task["bpmn_id"], task["lane"]) == ("decide_author_conflict", "chair")
    driver.submit("decide_author_conflict", {
        "author_decision": "another_author",
        "author_decision_reason": "The author manages the staff whose work is reviewed."})
    [task] = driver.ready()
    assert (task["bpmn_id"], task["agency"]) == ("carry_out_single_agency_review", "health")
    driver.submit("carry_out_single_agency_review", {**review, "author": AGENCY_REVIEW["author"]})
    assert driver.ready_ids() == ["receive_findings"]
    driver.submit("receive_findings", {"accepted": True})
    case = driver.case()
    assert case["outcome"]["author"] == AGENCY_REVIEW["author"]
    [decision] = [e["detail"] for e in driver.events("decision_recorded")
                  if e["detail"]["decision"] == "agency_review_authors"]
    assert decision["decisions"][0]["decision"] == "another_author"
    assert decision["decisions"][0]["author"] == manager


def test_a_catastrophic_case_through_the_referral_gets_the_limit_and_keeps_the_plan(
        client: TestClient) -> None:
    """The whole path: the chair decides to hold the SCR after the national panel's advice
    (`scr_held`), so the extended review limits publication to six months after the decision;
    the SCR's publication form checks the format against the plan."""
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, child_died=True)
    driver.screen("extended")
    response = client.post("/api/v1/messages", json={
        "name": "national_panel_advice", "business_key": driver.reference,
        "data": {"advice": "Proceed with a Serious Case Review."}})
    assert response.status_code == 200, response.text
    driver.submit("decide_scr", {"scr_decision": "hold_scr"})
    assert driver.case()["scr_held"] is True
    decided = driver.case()["key_dates"]["decided"]
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": REVIEW_TEAM})
    driver.submit("decide_involvement", {"family_involved": True, "staff_involved": True,
                                         "staff_involvement": ["direct_discussion"]})
    [plan] = driver.ready()
    limit = client.get(f"/api/v1/tasks/{plan['id']}").json()["data"]["scr_publication_limit"]
    assert (decided, limit) == ("2026-03-02", "2026-09-02")
    driver.submit("plan_publication", {**PLAN, "publication_due": "2026-09-03"}, expect=422)
    driver.submit("plan_publication", PLAN)
    assert driver.case()["key_dates"]["scr_publication_limit"] == "2026-09-02"
    driver.submit("write_agency_review", AGENCY_REVIEW, agency="police")
    driver.submit("write_agency_review", AGENCY_REVIEW, agency="health")
    driver.submit("merge_chronologies", {
        "merged_chronology": [{"date": "2026-05-02", "agency": "health", "event": "Home visit"}],
        "key_practice_episodes": "The missed escalation in May."})
    driver.submit("hold_learning_event", {
        "event_date": "2026-06-01", "attendance": [{"agency": "health", "attendees": 4}],
        "key_learning": "Practitioners did not know whom to escalate to."})
    driver.submit("draft_report", {
        "report_summary": "Agencies did not share what they knew.", "findings": FINDINGS,
        "recommendations": [{"recommendation": "Strengthen escalation", "actions": [ACTION]}]})
    driver.submit("staff_comments", {"staff_comments": "Dates corrected."})
    driver.submit("family_comments", {"family_comments": "The family felt heard.",
                                      "family_views_included": True})
    driver.submit("panel_sign_off", {"signed_off": True})
    driver.submit("write_board_response", {"board_response": "The Board accepts the findings."})
    published = {"publish": True, "national_panel_sent_on": "2026-08-20",
                 "published_on": "2026-09-01", "published_format": "management_letter",
                 "location": "Board website"}
    on_publication_day(driver)
    driver.submit("publish_report", published, expect=422)
    driver.submit("publish_report", {**published, "format_change_reason":
                                     "The chair's letter protects the surviving siblings."})
    case = driver.case()
    assert case["status"] == "monitoring"
    assert case["outcome"]["format_change_reason"].startswith("The chair's letter")
    assert driver.decisions()["publication"]["planned_format"] == "whole"
