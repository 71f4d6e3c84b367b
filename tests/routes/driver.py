"""Drive a case through the REST API the way an agency system and the Board's people would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import route_files, upload

CHRONOLOGY = [{"date": "2026-05-02", "event": "Home visit; concerns about supervision",
               "action_taken": "Strategy discussion", "source": "Case notes"}]
AGENCY_REVIEW = {
    "chronology": CHRONOLOGY,
    "genogram": {"people": [{"name": "Child A", "relationship_to_child": "self", "age": 2},
                            {"name": "Adult B", "relationship_to_child": "mother"}],
                 "relationships": [{"from": "Adult B", "to": "Child A",
                                    "relationship": "parent"}]},
    "analysis": "Information was not shared between the health visitor and the school nurse.",
    "lessons": ["Share concerns about supervision promptly"],
    "action_points": ["Review the information sharing protocol"],
    "author": {"name": "A. Reviewer", "role": "Safeguarding lead",
               "line_responsibility": False},
}
REVIEW_TEAM = [
    {"name": "Dr Jane Author", "role": "overview_author", "organisation": "Independent",
     "independence": "independent_of_case_and_agencies", "conflict_of_interest": "none"},
    {"name": "Sam Reviewer", "role": "reviewer", "organisation": "Neighbouring Board",
     "independence": "professional_independent_of_case",
     "skills": "Designated nurse with experience of infant injuries",
     "conflict_of_interest": "none"},
]
ACTION = {"action": "Train health visitors on escalation", "owner_agency": "health",
          "lead": "Named nurse", "target_date": "2027-06-30",
          "measure_of_success": "90% of health visitors trained"}
FINDINGS = [{"finding": "Concerns were not escalated", "themes": ["escalation",
                                                                 "information_sharing"]}]


def assert_statutory_duty(case: dict[str, Any]) -> None:
    """No statutory case reaches the end of a review without its Serious Case Review or the
    chair's recorded decision not to hold one (every route test reads cases through this)."""
    if case["statutory"] and case["status"] in ("closed", "monitoring", "declined"):
        assert case["scr_held"] is not None, f"{case['reference']} is {case['status']} with " \
            "neither an SCR nor a recorded decision not to hold one"
        if case["scr_held"] is False:
            assert case["scr_not_held_reason"], "an SCR not held needs the chair's reasons"


class CaseDriver:
    """Acts as the Board's staff through `client`; agency tasks are done by the agency's lead."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.reference = ""
        self._agency_clients: dict[str, TestClient] = {}

    def agency_client(self, agency: str) -> TestClient:
        if agency not in self._agency_clients:
            from tests.conftest import token_for

            ctx = self.client.app.state.context  # type: ignore[attr-defined]
            token = token_for(ctx, "agency_lead", agency=agency, name=f"{agency}-system")
            agency_client = TestClient(self.client.app,
                                       headers={"Authorization": f"Bearer {token}"})
            self._agency_clients[agency] = agency_client
        return self._agency_clients[agency]

    def deploy(self) -> None:
        upload(self.client, *route_files())

    def refer(self, agencies: list[str] | None = None, **facts: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/referrals", json={
            "child_pseudonym": "Child A", "agencies": agencies or ["police", "health"],
            "incident_date": "2026-02-20", "summary": "Child A was admitted to hospital.",
            "facts": facts})
        assert response.status_code == 201, response.text
        self.reference = response.json()["reference"]
        return response.json()

    def case(self) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/cases/{self.reference}")
        assert response.status_code == 200
        case: dict[str, Any] = response.json()
        assert_statutory_duty(case)
        return case

    def ready(self) -> list[dict[str, Any]]:
        return self.client.get("/api/v1/tasks", params={
            "business_key": self.reference, "state": "ready", "limit": 100}).json()["items"]

    def ready_ids(self) -> list[str]:
        return sorted(task["bpmn_id"] for task in self.ready())

    def submit(self, bpmn_id: str, data: dict[str, Any], agency: str | None = None,
               expect: int = 200) -> dict[str, Any]:
        tasks = [t for t in self.ready() if t["bpmn_id"] == bpmn_id
                 and (agency is None or t["agency"] == agency)]
        assert tasks, f"{bpmn_id} is not ready; ready: {self.ready_ids()}"
        task = tasks[0]
        self._leads_for(data)
        self._clock_past(data)
        caller = self.agency_client(task["agency"]) if task["lane"] == "agency_lead" else \
            self.client
        response = caller.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == expect, response.text
        return response.json()

    def _leads_for(self, data: Any) -> None:
        """A form naming agencies that get tasks needs someone who can act for each (an agency
        lead), before it is submitted: make their systems' tokens first."""
        if isinstance(data, dict):
            for key, value in data.items():
                if key in ("agency", "owner_agency") and isinstance(value, str):
                    self.agency_client(value)
                else:
                    self._leads_for(value)
        elif isinstance(data, list):
            for item in data:
                self._leads_for(item)

    def _clock_past(self, data: dict[str, Any]) -> None:
        """"Sent on" and "published on" dates cannot be in the future: the clock moves to the
        latest one submitted (at 09:00 UTC), as time would have passed by then."""
        clock = self.client.app.state.context.clock  # type: ignore[attr-defined]
        days = [dt.date.fromisoformat(value) for key, value in data.items()
                if key.endswith("_on") and isinstance(value, str)
                and len(value) == 10 and value[:4].isdigit()]
        moment = dt.datetime.combine(max(days), dt.time(9), tzinfo=dt.UTC) if days else None
        if moment is not None and moment.date() > clock.now().date():
            clock.set(moment)

    def national_panel_consulted(self, advice: str, recommendation: str | None = None) -> None:
        """The case was notified to the national panel, whose advice now arrives as a message."""
        notices = [e for e in self.events("notification_sent")
                   if e["detail"]["recipient"] == "national_panel"]
        assert notices, "the national panel was not consulted"
        data: dict[str, Any] = {"advice": advice}
        if recommendation is not None:
            data["advice_recommendation"] = recommendation
        response = self.client.post("/api/v1/messages", json={
            "name": "national_panel_advice", "business_key": self.reference, "data": data})
        assert response.status_code == 200, response.text

    def hold_scr(self) -> None:
        """The chair decides, once the national panel has advised, to hold the SCR."""
        self.submit("decide_scr", {"scr_decision": "hold_scr"})

    def escalate(self, grade: str, reason: str = "The post-mortem shows earlier injuries.",
                 expect: int = 200) -> dict[str, Any]:
        response = self.client.post(f"/api/v1/cases/{self.reference}/escalations",
                                    json={"grade": grade, "reason": reason})
        assert response.status_code == expect, response.text
        return response.json()

    def timeline(self) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v1/cases/{self.reference}/timeline")
        assert response.status_code == 200
        return response.json()

    def events(self, type_: str) -> list[dict[str, Any]]:
        return [event for event in self.timeline() if event["type"] == type_]

    def decisions(self) -> dict[str, dict[str, Any]]:
        return {e["detail"]["decision"]: e["detail"] for e in self.events("decision_recorded")}

    def completed_tasks(self) -> list[str]:
        return [event["element_id"] for event in self.events("task_completed")]

    # the common steps of a referral
    def screen(self, route: str, grade: str | None = None) -> None:
        data: dict[str, Any] = {"grade_confirmed": grade is None, "recommended_route": route,
                                "recommendation_reason": f"The sub-group recommends {route}."}
        if grade is not None:
            data.update(new_grade=grade, grade_change_reason="More is known now.")
        self.submit("screen_referral", data)

    def endorse(self) -> None:
        self.submit("endorse_review", {"endorsement": "endorse"})

    def full_review_to_end(self, extended: bool, family: bool = True,
                           report_summary: str = "Agencies did not share what they knew.") -> None:
        self.submit("agree_terms_of_reference", {
            "terms_of_reference": "How agencies worked together in the year before the incident.",
            "review_team": REVIEW_TEAM, "overview_author_involved": True,
            "methodology": "welsh_model_with_scie",
            "participating_agencies": [{"agency": "police", "writes_agency_review": True},
                                       {"agency": "health", "writes_agency_review": True}],
            "period_from": "2025-02-01", "period_to": "2026-02-20"})
        involvement: dict[str, Any] = {"family_involved": family, "staff_involved": True,
                                       "staff_involvement": ["direct_discussion"]}
        if not family:
            involvement["family_not_involved_reason"] = "The family declined to take part."
        self.submit("decide_involvement", involvement)
        self.submit("plan_publication", {
            "readership": "whole", "publication_plan": "On the Board's website",
            "agency_reviews_due": "2026-05-01", "report_due": "2026-07-01",
            "publication_due": "2026-09-01"})
        assert sorted(t["agency"] for t in self.ready()) == ["health", "police"]
        self.submit("write_agency_review", AGENCY_REVIEW, agency="police")
        self.submit("write_agency_review", AGENCY_REVIEW, agency="health")
        if extended:
            self.submit("merge_chronologies", {
                "merged_chronology": [{"date": "2026-05-02", "agency": "health",
                                       "event": "Home visit"}],
                "key_practice_episodes": "The missed escalation in May."})
        self.submit("hold_learning_event", {
            "event_date": "2026-06-01", "attendance": [{"agency": "health", "attendees": 4}],
            "key_learning": "Practitioners did not know whom to escalate to."})
        self.submit("draft_report", {
            "report_summary": report_summary, "findings": FINDINGS,
            "recommendations": [{"recommendation": "Strengthen escalation",
                                 "actions": [ACTION]}]})
        self.submit("staff_comments", {"staff_comments": "Dates corrected."})
        if family:
            self.submit("family_comments", {"family_comments": "The family felt heard.",
                                            "family_views_included": True})
        self.submit("panel_sign_off", {"signed_off": True})
        self.submit("write_board_response", {"board_response": "The Board accepts the findings."})
