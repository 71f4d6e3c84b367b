"""A task's detail carries only what its form names and its BPMN declares it reads; agency
leads never see the panel's or chair's reasoning, nor other agencies' content.

The table below is the spec: the keys each task may read beyond its form's properties."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ClientFactory
from tests.routes.driver import AGENCY_REVIEW, REVIEW_TEAM, CaseDriver

CASE = {"reference", "child_pseudonym"}
REFERRAL = CASE | {"agencies", "incident_date", "summary", "facts", "grade", "route"}
READS: dict[str, set[str]] = {
    "screen_referral": REFERRAL | {"endorsement_reasons", "more_information_request"},
    "endorse_review": REFERRAL | {"recommendation_reason"},
    "agree_terms_of_reference": REFERRAL | {"terms_of_reference", "previous_grade",
                                            "escalated_grade", "escalation_reason"},
    "decide_involvement": CASE | {"terms_of_reference"},
    "plan_publication": CASE | {"route", "scr_publication_limit"},
    "write_agency_review": CASE | {"incident_date", "agency", "terms_of_reference",
                                   "period_from", "period_to", "agency_reviews_due"},
    "hold_learning_event": CASE | {"terms_of_reference", "agency_reviews"},
}
NEVER_FOR_AGENCIES = {"recommendation_reason", "recommended_route", "endorsement",
                      "endorsement_reasons", "chair_comments", "family_not_involved_reason",
                      "staff_not_involved_reason", "agency_reviews", "grade_change_reason"}


def _form_keys(schema: dict[str, Any] | None) -> set[str]:
    return set((schema or {}).get("properties") or {})


def _check_ready(driver: CaseDriver, manager: TestClient, seen: dict[str, set[str]]) -> None:
    for task in driver.ready():
        caller = driver.agency_client(task["agency"]) if task["lane"] == "agency_lead" \
            else manager
        detail = caller.get(f"/api/v1/tasks/{task['id']}").json()
        keys = set(detail["data"])
        allowed = READS[task["bpmn_id"]] | _form_keys(detail["form_schema"])
        assert keys <= allowed, (task["bpmn_id"], keys - allowed)
        if task["lane"] == "agency_lead":
            assert not keys & NEVER_FOR_AGENCIES, (task["bpmn_id"], keys)
            text = json.dumps(detail)
            assert "recommends concise" not in text and "The family declined" not in text
        seen[task["bpmn_id"]] = keys


def test_the_concise_route_task_by_task(client: TestClient, make_client: ClientFactory) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    seen: dict[str, set[str]] = {}
    _check_ready(driver, client, seen)
    assert {"summary", "grade"} <= seen["screen_referral"]
    driver.screen("concise")
    _check_ready(driver, client, seen)
    assert "recommendation_reason" in seen["endorse_review"]
    driver.endorse()
    _check_ready(driver, client, seen)
    driver.submit("agree_terms_of_reference", {
        "terms_of_reference": "How agencies worked together.", "overview_author_involved": True,
        "review_team": REVIEW_TEAM,
        "methodology": "welsh_model", "participating_agencies": [
            {"agency": "police", "writes_agency_review": True},
            {"agency": "health", "writes_agency_review": True}],
        "period_from": "2025-02-01", "period_to": "2026-02-20"})
    _check_ready(driver, client, seen)
    driver.submit("decide_involvement", {
        "family_involved": False, "family_not_involved_reason": "The family declined.",
        "staff_involved": True, "staff_involvement": ["direct_discussion"]})
    driver.submit("plan_publication", {
        "readership": "whole", "publication_plan": "On the Board's website",
        "agency_reviews_due": "2026-05-01", "report_due": "2026-07-01",
        "publication_due": "2026-09-01"})
    _check_ready(driver, client, seen)
    assert seen["write_agency_review"] >= {"agency", "terms_of_reference"}
    # the police lead's completion answers nothing of the process data or health's task
    police_task = next(t for t in driver.ready() if t["agency"] == "police")
    done = driver.agency_client("police").post(f"/api/v1/tasks/{police_task['id']}/complete",
                                               json={"data": AGENCY_REVIEW})
    assert done.status_code == 200, done.text
    assert done.json()["data"] == {}
    assert {t["agency"] for t in done.json()["ready_tasks"]} <= {"police"}
    # the case and its timeline hold no chair or panel reasoning for the agency
    police = driver.agency_client("police")
    for path in ("", "/timeline"):
        text = police.get(f"/api/v1/cases/{driver.reference}{path}").text
        assert "The family declined" not in text and "recommends concise" not in text
