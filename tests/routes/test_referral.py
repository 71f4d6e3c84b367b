"""Referral, screening and the chair's endorsement, through the REST API only."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.routes.driver import CaseDriver


def test_referral_opens_a_graded_case(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    case = driver.refer(seriously_harmed=True, abuse_or_neglect=True,
                        interagency_concern="curiosity")
    assert case["reference"] == "LIR-2026-0001"
    assert (case["grade"], case["route"], case["status"]) == ("severe", "concise", "screening")
    assert case["statutory"] is False
    assert [t["bpmn_id"] for t in case["current_tasks"]] == ["screen_referral"]
    assert case["current_tasks"][0]["lane"] == "panel_member"
    second = driver.refer(good_practice=True)
    assert second["reference"] == "LIR-2026-0002"
    assert second["grade"] == "best_practice"

    graded, told = driver.events("decision_evaluated")
    assert told["element_id"] == "who_must_be_told"
    assert graded["element_id"] == "grade_referral"
    assert graded["detail"]["outputs"]["grade"] == "best_practice"
    assert graded["detail"]["matched_rules"] == ["grading_best_practice"]

    listed = client.get("/api/v1/cases", params={"grade": "severe"}).json()
    assert [c["reference"] for c in listed["items"]] == ["LIR-2026-0001"]
    assert client.get("/api/v1/cases", params={"status": "screening"}).json()["total"] == 2


def test_referral_input_errors_name_the_field(client: TestClient) -> None:
    CaseDriver(client).deploy()
    response = client.post("/api/v1/referrals", json={
        "child_pseudonym": "", "agencies": ["police", "police"], "incident_date": "yesterday",
        "summary": "x", "facts": {"child_died": "perhaps", "colour": "red",
                                  "interagency_concern": "worried"}})
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"child_pseudonym", "agencies", "incident_date", "facts.child_died",
                      "facts.colour", "facts.interagency_concern"}
    future = client.post("/api/v1/referrals", json={
        "child_pseudonym": "Child B", "agencies": ["police"], "incident_date": "2030-01-01",
        "summary": "x"})
    assert future.status_code == 422 and future.json()["field"] == "incident_date"
    assert client.get("/api/v1/cases").json()["total"] == 0
    assert client.get("/api/v1/cases/LIR-2026-9999").status_code == 404


def test_moving_the_grade_needs_a_reason(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(transported_to_hospital=True)
    task = next(t for t in driver.ready() if t["bpmn_id"] == "screen_referral")
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {
        "grade_confirmed": False, "recommended_route": "concise",
        "recommendation_reason": "x"}})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"new_grade",
                                                               "grade_change_reason"}
    driver.screen("concise", grade="severe")
    case = driver.case()
    assert (case["grade"], case["route"], case["status"]) == ("severe", "concise",
                                                              "awaiting_endorsement")
    change = [e for e in driver.events("case_updated") if e["detail"].get("grade") == "severe"]
    assert change[0]["detail"]["reason"] == "More is known now."


def test_declined_endorsement_needs_reasons_and_closes_the_case(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(transported_to_hospital=True)
    driver.screen("concise")
    driver.submit("endorse_review", {"endorsement": "decline"}, expect=422)
    driver.submit("endorse_review", {"endorsement": "decline",
                                     "endorsement_reasons": "Single agency learning suffices."})
    case = driver.case()
    assert case["status"] == "declined"
    assert case["closed_at"] is not None
    assert case["current_tasks"] == []
    assert driver.decisions()["chair_endorsement"]["outcome"] == "decline"
    assert driver.decisions()["chair_endorsement"]["reasons"] == \
        "Single agency learning suffices."
    assert "send_reasons" not in driver.completed_tasks()


def test_declining_a_catastrophic_case_sends_reasons_to_the_national_panel(
        client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(died_in_custody=True)
    driver.screen("extended")
    driver.national_panel_consulted("The panel defers to the Board.")
    driver.submit("decide_scr", {"scr_decision": "do_not_hold_scr", "not_held_route": "none",
                                 "scr_not_held_reasons": "No concerns about agencies."})
    assert driver.ready_ids() == ["send_reasons"]
    assert driver.ready()[0]["lane"] == "board_manager"
    driver.submit("send_reasons", {"reasons_sent": "No concerns about inter-agency working.",
                                   "sent_on": "2026-03-05"})
    consulted, notice = driver.events("notification_sent")
    assert consulted["detail"]["recipient"] == notice["detail"]["recipient"] == "national_panel"
    assert notice["detail"]["reasons"] == "No concerns about inter-agency working."
    case = driver.case()
    assert (case["status"], case["scr_held"]) == ("declined", False)
    assert case["scr_not_held_reason"] == "No concerns about agencies."


def test_more_information_loops_back_to_screening(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(significant_self_harm=True)
    driver.screen("concise")
    driver.submit("endorse_review", {"endorsement": "more_information",
                                     "endorsement_reasons": "What did school know?"})
    assert driver.ready_ids() == ["screen_referral"]
    assert driver.case()["status"] == "awaiting_endorsement"
    driver.screen("single_agency", grade="moderate")
    driver.endorse()
    case = driver.case()
    assert (case["status"], case["route"]) == ("in_review", "single_agency")
    assert driver.ready_ids() == ["commission_single_agency_review"]
