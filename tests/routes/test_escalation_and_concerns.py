"""Escalating a grade mid-route, and urgent protection concerns beside the review."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.routes.driver import AGENCY_REVIEW, REVIEW_TEAM, CaseDriver


def test_escalation_moves_the_case_to_the_higher_route_keeping_what_was_collected(
        client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(parents_charged_neglect=True)
    driver.screen("single_agency")
    driver.endorse()
    driver.submit("commission_single_agency_review", {
        "agency": "health", "terms_of_reference": "Health visiting", "due_date": "2026-05-01"})

    too_low = client.post(f"/api/v1/cases/{driver.reference}/escalations",
                          json={"grade": "low", "reason": "x"})
    assert too_low.status_code == 422 and too_low.json()["field"] == "grade"
    missing = client.post(f"/api/v1/cases/{driver.reference}/escalations",
                          json={"grade": "severe"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "reason"

    response = client.post(f"/api/v1/cases/{driver.reference}/escalations",
                           json={"grade": "severe", "reason": "The child has a fracture."})
    assert response.status_code == 200, response.text
    assert response.json()["grade"] == "moderate"  # the chair endorses a change of review
    driver.submit("endorse_escalation", {"escalation_decision": "endorse"})
    case = driver.case()
    case["current_tasks"] = driver.ready()
    assert (case["grade"], case["route"], case["status"]) == ("severe", "concise", "in_review")
    assert [t["bpmn_id"] for t in case["current_tasks"]] == ["agree_terms_of_reference"]
    cancelled = driver.events("task_cancelled")
    assert [e["element_id"] for e in cancelled] == ["carry_out_single_agency_review"]
    [change] = [e for e in driver.events("case_updated") if e["detail"].get("grade") == "severe"]
    assert change["detail"]["reason"] == "The child has a fracture."

    task = driver.ready()[0]
    detail = client.get(f"/api/v1/tasks/{task['id']}").json()
    assert detail["data"]["terms_of_reference"] == "Health visiting"
    assert detail["data"]["escalation_reason"] == "The child has a fracture."
    assert detail["data"]["previous_grade"] == "moderate"


def test_escalation_outside_a_route_is_refused(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(minor_injury=True)
    response = client.post(f"/api/v1/cases/{driver.reference}/escalations",
                           json={"grade": "severe", "reason": "worse"})
    assert response.status_code == 409
    assert "screening" in response.json()["detail"]
    unknown = client.post("/api/v1/cases/LIR-2026-0404/escalations",
                          json={"grade": "severe", "reason": "worse"})
    assert unknown.status_code == 404


def test_urgent_concern_makes_a_task_and_does_not_interrupt(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    driver.submit("agree_terms_of_reference", {
        "terms_of_reference": "t", "review_team": REVIEW_TEAM, "overview_author_involved": True,
        "methodology": "welsh_model",
        "participating_agencies": [{"agency": "police", "writes_agency_review": True}],
        "period_from": "2025-01-01", "period_to": "2026-02-20"})

    empty = client.post(f"/api/v1/cases/{driver.reference}/concerns", json={"description": ""})
    assert empty.status_code == 422
    response = client.post(f"/api/v1/cases/{driver.reference}/concerns",
                           json={"description": "A sibling is at home with the same adult."})
    assert response.status_code == 201, response.text
    assert sorted(t["bpmn_id"] for t in response.json()["current_tasks"]) == [
        "decide_involvement", "escalate_concern"]
    concern = next(t for t in driver.ready() if t["bpmn_id"] == "escalate_concern")
    assert concern["lane"] == "board_manager"
    detail = client.get(f"/api/v1/tasks/{concern['id']}").json()
    assert detail["data"]["concern_description"].startswith("A sibling")
    driver.submit("escalate_concern", {
        "escalated_to": "childrens_social_care", "procedure": "Child protection referral",
        "escalated_on": "2026-03-02", "action_taken": "Strategy discussion held"})
    assert driver.decisions()["urgent_concern_escalated"]["escalated_to"] == \
        "childrens_social_care"
    assert driver.ready_ids() == ["decide_involvement"]
    driver.submit("decide_involvement", {"family_involved": True, "staff_involved": True,
                                         "staff_involvement": ["direct_discussion"]})
    assert driver.case()["status"] == "in_review"
    processes = {e["process_key"] for e in driver.timeline()}
    assert processes == {"referral", "urgent_concern"}
    assert AGENCY_REVIEW["lessons"]
