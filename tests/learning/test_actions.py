"""Actions flow from a finished review into the register; owners update only their own;
overdue actions escalate through the monitoring process; the plan closes when all is signed off."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from app.clock import ManualClock
from app.services import timers
from app.services.context import ServiceContext
from tests.conftest import ClientFactory
from tests.routes.driver import ACTION, AGENCY_REVIEW, FINDINGS, CaseDriver

POLICE_ACTION = {**ACTION, "owner_agency": "police", "lead": "Detective inspector",
                 "target_date": "2026-04-15", "action": "Brief officers on escalation"}


def finished_single_agency_review(client: TestClient) -> CaseDriver:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(parents_charged_neglect=True)
    driver.screen("single_agency")
    driver.endorse()
    driver.submit("commission_single_agency_review", {
        "agency": "health", "terms_of_reference": "t", "due_date": "2026-03-20"})
    driver.submit("carry_out_single_agency_review", {
        "chronology": [{"date": "2026-01-05", "event": "Visit", "source": "Notes"}],
        "analysis": "a", "findings": FINDINGS, "actions": [ACTION, POLICE_ACTION],
        "author": AGENCY_REVIEW["author"]})
    driver.submit("receive_findings", {"accepted": True})
    return driver


def test_actions_reach_the_register_and_owners_update_their_own(
        client: TestClient, make_client: ClientFactory) -> None:
    driver = finished_single_agency_review(client)
    assert driver.case()["status"] == "monitoring"
    listed = client.get("/api/v1/actions", params={"case": driver.reference}).json()
    assert listed["total"] == 2
    by_agency = {a["owner_agency"]: a for a in listed["items"]}
    assert by_agency["health"]["status"] == "not_started"
    assert by_agency["health"]["target_date"] == ACTION["target_date"]
    assert by_agency["police"]["rag"] == "green"

    health = make_client("agency_lead", agency="health")
    police = make_client("agency_lead", agency="police")
    assert [a["owner_agency"] for a in health.get("/api/v1/actions").json()["items"]] == \
        ["health"]
    health_id, police_id = by_agency["health"]["id"], by_agency["police"]["id"]
    denied = police.patch(f"/api/v1/actions/{health_id}", json={"status": "in_progress"})
    assert denied.status_code == 404 and "health" not in denied.json()["detail"]  # as missing
    assert client.patch(f"/api/v1/actions/{health_id}",
                        json={"status": "in_progress"}).status_code == 403  # not the owner
    no_evidence = health.patch(f"/api/v1/actions/{health_id}", json={"status": "completed"})
    assert no_evidence.status_code == 422 and no_evidence.json()["field"] == "evidence"
    done = health.patch(f"/api/v1/actions/{health_id}", json={
        "status": "completed", "evidence": "Training records for 42 health visitors"})
    assert done.status_code == 200
    assert done.json()["completed_on"] == "2026-03-02"

    early = client.post(f"/api/v1/actions/{police_id}/sign-off")
    assert early.status_code == 409
    panel = make_client("panel_member")
    signed = panel.post(f"/api/v1/actions/{health_id}/sign-off")
    assert signed.status_code == 200 and signed.json()["signed_off_by"].startswith("test-")
    assert health.patch(f"/api/v1/actions/{health_id}",
                        json={"progress": "more"}).status_code == 409
    types = [e["type"] for e in driver.timeline()]
    assert "action_updated" in types and "action_signed_off" in types
    assert client.get("/api/v1/actions", params={"status": "completed"}).json()["total"] == 1


def test_overdue_actions_escalate_and_the_plan_closes(
        client: TestClient, make_client: ClientFactory, ctx: ServiceContext,
        clock: ManualClock) -> None:
    driver = finished_single_agency_review(client)
    ids = {a["owner_agency"]: a["id"]
           for a in client.get("/api/v1/actions", params={"case": driver.reference})
           .json()["items"]}
    clock.set(dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC))
    while timers.fire_due(ctx):
        pass
    reminders = driver.events("action_reminder_sent")
    assert [e["detail"]["owner_agency"] for e in reminders] == ["police"]  # due in 5 days
    assert driver.events("action_escalated") == []

    clock.set(dt.datetime(2026, 4, 20, 9, tzinfo=dt.UTC))
    while timers.fire_due(ctx):
        pass
    assert [e["detail"]["action_id"] for e in driver.events("action_escalated")] == \
        [ids["police"]]
    overdue = client.get("/api/v1/actions", params={"overdue": "true"}).json()["items"]
    assert [(a["owner_agency"], a["rag"]) for a in overdue] == [("police", "red")]
    [chase] = [t for t in driver.ready() if t["bpmn_id"] == "chase_overdue_actions"]
    assert chase["lane"] == "panel_member"
    driver.submit("chase_overdue_actions", {"discussed_with": ["police"],
                                            "next_steps": "Done by May"})

    police = make_client("agency_lead", agency="police")
    health = make_client("agency_lead", agency="health")
    panel = make_client("panel_member")
    police.patch(f"/api/v1/actions/{ids['police']}",
                 json={"status": "completed", "evidence": "Briefing notes"})
    health.patch(f"/api/v1/actions/{ids['health']}",
                 json={"status": "cancelled", "cancel_reason": "Superseded by a new policy"})
    for action_id in ids.values():
        assert panel.post(f"/api/v1/actions/{action_id}/sign-off").status_code == 200
    clock.set(dt.datetime(2026, 4, 28, 9, tzinfo=dt.UTC))
    while timers.fire_due(ctx):
        pass
    case = driver.case()
    assert case["status"] == "closed"
    assert case["key_dates"]["action_plan_closed"] == "2026-04-28"


def test_publications_and_learning_events(client: TestClient,
                                          make_client: ClientFactory) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    driver.full_review_to_end(extended=False)
    driver.submit("decide_publication", {"publish": True, "published_on": "2026-09-01",
                                         "published_format": "shortened",
                                         "format_change_reason": "Staff asked for a summary.",
                                         "location": "Board website"})
    [report] = client.get("/api/v1/publications").json()["items"]
    assert (report["kind"], report["published_on"], report["available_until"],
            report["readership"]) == ("report", "2026-09-01", "2027-09-01", "shortened")
    added = client.post("/api/v1/publications", json={
        "case_reference": driver.reference, "kind": "board_response", "title": "Response",
        "published_on": "2026-09-01", "location": "Board website"})
    assert added.status_code == 201
    assert client.get("/api/v1/publications", params={"kind": "board_response"}) \
        .json()["total"] == 1
    bad = client.post("/api/v1/publications", json={
        "case_reference": "LIR-1999-0001", "kind": "summary", "title": "x",
        "published_on": "2026-09-01", "location": "web", "months_available": 3})
    assert bad.status_code == 422
    agency = make_client("agency_lead", agency="police")
    assert agency.post("/api/v1/publications", json={
        "case_reference": driver.reference, "kind": "summary", "title": "x",
        "published_on": "2026-09-01", "location": "web"}).status_code == 403

    event = client.post("/api/v1/learning-events", json={
        "held_on": "2026-10-01", "kind": "forum", "purpose": "Cascade the escalation learning",
        "attendance": {"police": 5, "health": 7}, "outputs": "Escalation flowchart",
        "case_reference": driver.reference})
    assert event.status_code == 201
    # the review's own learning event (held inside the route) is on the register too
    assert client.get("/api/v1/learning-events", params={"year": 2026}).json()["total"] == 2
    assert client.get("/api/v1/learning-events", params={"year": 2026, "kind": "forum"}) \
        .json()["total"] == 1
    assert agency.get("/api/v1/learning-events").status_code == 200
    assert client.post("/api/v1/learning-events", json={
        "held_on": "2026-10-01", "kind": "party", "purpose": "x", "attendance": {},
        "outputs": "y"}).json()["errors"][0]["field"] == "kind"


def test_agency_leads_see_only_their_cases_publications(client: TestClient,
                                                         make_client: ClientFactory) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(agencies=["police", "health"], minor_injury=True)
    other = CaseDriver(client)
    other.refer(agencies=["education"], minor_injury=True)
    for reference in (driver.reference, other.reference):
        assert client.post("/api/v1/publications", json={
            "case_reference": reference, "kind": "summary", "title": f"Summary {reference}",
            "published_on": "2026-09-01", "location": "web"}).status_code == 201
        assert client.post("/api/v1/learning-events", json={
            "held_on": "2026-10-01", "kind": "forum", "purpose": f"Learning from {reference}",
            "attendance": {"police": 1}, "outputs": "o", "case_reference": reference,
        }).status_code == 201
    client.post("/api/v1/learning-events", json={
        "held_on": "2026-10-02", "kind": "training", "purpose": "General training",
        "attendance": {"police": 1}, "outputs": "o"})
    police = make_client("agency_lead", agency="police")
    titles = [p["title"] for p in police.get("/api/v1/publications").json()["items"]]
    assert titles == [f"Summary {driver.reference}"]
    purposes = sorted(e["purpose"] for e in police.get("/api/v1/learning-events").json()["items"])
    assert purposes == ["General training", f"Learning from {driver.reference}"]
    assert client.get("/api/v1/publications").json()["total"] == 2
