"""Drive a case through the REST API the way an agency system and the Board's people would."""

from __future__ import annotations

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
}
ACTION = {"action": "Train health visitors on escalation", "owner_agency": "health",
          "lead": "Named nurse", "target_date": "2027-06-30",
          "measure_of_success": "90% of health visitors trained"}
FINDINGS = [{"finding": "Concerns were not escalated", "themes": ["escalation",
                                                                 "information_sharing"]}]


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
        return response.json()

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
        caller = self.agency_client(task["agency"]) if task["lane"] == "agency_lead" else \
            self.client
        response = caller.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
        assert response.status_code == expect, response.text
        return response.json()

    def national_panel_consulted(self, advice: str) -> None:
        """The case was notified to the national panel, whose advice now arrives as a message."""
        [notice] = self.events("notification_sent")
        assert notice["detail"]["recipient"] == "national_panel"
        response = self.client.post("/api/v1/messages", json={
            "name": "national_panel_advice", "business_key": self.reference,
            "data": {"advice": advice}})
        assert response.status_code == 200, response.text

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
            "overview_author_involved": True, "methodology": "welsh_model_with_scie",
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
