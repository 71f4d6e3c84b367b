"""Each route end to end through the REST API: the path, the decisions and the timeline."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.routes.driver import ACTION, AGENCY_REVIEW, FINDINGS, REVIEW_TEAM, CaseDriver


def test_extended_review_scr_with_national_panel(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    case = driver.refer(abuse_or_neglect=True, child_died=True)
    assert (case["grade"], case["route"], case["statutory"]) == ("catastrophic", "extended", True)
    driver.screen("extended")
    case = driver.case()
    assert case["status"] == "awaiting_national_panel"
    assert case["current_tasks"] == []
    driver.national_panel_consulted("Proceed with a Serious Case Review using the Welsh model.")
    driver.hold_scr()
    case = driver.case()
    assert (case["status"], case["scr_held"]) == ("in_review", True)
    assert case["key_dates"]["scr_commissioned"] == case["key_dates"]["decided"]
    assert driver.decisions()["national_panel_advice"]["advice"].startswith("Proceed")

    driver.full_review_to_end(extended=True)
    assert driver.ready_ids() == ["publish_report"]
    driver.submit("publish_report", {"publish": True, "national_panel_sent_on": "2026-08-20",
                                     "published_on": "2026-09-01", "published_format": "whole",
                                     "location": "Board website"})
    case = driver.case()
    assert case["status"] == "monitoring"
    assert case["current_tasks"] == []
    assert case["key_dates"]["publication_due"] == "2026-09-01"
    assert case["outcome"]["findings"] == FINDINGS
    assert case["outcome"]["actions"] == [{**ACTION, "recommendation": "Strengthen escalation"}]
    assert case["outcome"]["board_response"] == "The Board accepts the findings."

    decisions = driver.decisions()
    assert decisions["scr_decision"]["outcome"] == "hold_scr"
    assert decisions["involvement"]["family_involved"] is True
    assert decisions["publication"]["published"] is True
    assert driver.completed_tasks() == [
        "screen_referral", "decide_scr", "agree_terms_of_reference", "decide_involvement",
        "plan_publication", "write_agency_review", "write_agency_review", "merge_chronologies",
        "hold_learning_event", "draft_report", "staff_comments", "family_comments",
        "panel_sign_off", "write_board_response", "publish_report"]
    timeline = driver.timeline()
    assert [e["id"] for e in timeline] == sorted(e["id"] for e in timeline)
    assert timeline[0]["type"] == "started"
    types = [e["type"] for e in timeline]
    assert "outcome_recorded" in types and "completed" not in types  # monitoring runs on
    lanes = {e["element_id"]: e["detail"].get("lane") for e in timeline
             if e["type"] == "task_ready"}
    assert lanes["write_agency_review"] == "agency_lead"
    assert lanes["decide_scr"] == "chair"
    assert lanes["draft_report"] == "reviewer"


def test_concise_review_without_family_and_with_changes_to_the_draft(
        client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    assert driver.case()["status"] == "in_review"
    assert driver.events("notification_sent") == []

    driver.submit("agree_terms_of_reference", {
        "terms_of_reference": "t", "review_team": REVIEW_TEAM, "overview_author_involved": False,
        "methodology": "other_systems_method", "participating_agencies": [
            {"agency": "police", "writes_agency_review": True},
            {"agency": "health", "writes_agency_review": False}],
        "period_from": "2025-01-01", "period_to": "2026-02-20"}, expect=422)
    driver.full_review_to_end(extended=False, family=False)
    assert "merge_chronologies" not in driver.completed_tasks()
    assert "family_comments" not in driver.completed_tasks()
    assert driver.decisions()["involvement"]["family_reason"] == \
        "The family declined to take part."
    assert driver.ready_ids() == ["decide_publication"]
    driver.submit("decide_publication", {"publish": False}, expect=422)
    driver.submit("decide_publication", {"publish": False,
                                         "not_published_reason": "Family would be identified."})
    assert driver.decisions()["publication"]["reason"] == "Family would be identified."
    assert driver.case()["status"] == "monitoring"


def test_panel_can_send_the_draft_back(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    driver.full_review_to_end(extended=False)
    # full_review_to_end signed off; run a second case where the panel asks for changes
    second = CaseDriver(client)
    second.refer(permanent_disability=True)
    second.screen("concise")
    second.endorse()
    second.submit("agree_terms_of_reference", {
        "terms_of_reference": "t", "review_team": REVIEW_TEAM, "overview_author_involved": True,
        "methodology": "welsh_model",
        "participating_agencies": [{"agency": "police", "writes_agency_review": False}],
        "period_from": "2025-01-01", "period_to": "2026-02-20"})
    second.submit("decide_involvement", {"family_involved": True, "staff_involved": True,
                                         "staff_involvement": ["direct_discussion"]})
    second.submit("plan_publication", {
        "readership": "management_letter", "publication_plan": "Letter from the chair",
        "agency_reviews_due": "2026-05-01", "report_due": "2026-07-01",
        "publication_due": "2026-09-01"})
    assert second.ready_ids() == ["hold_learning_event"]
    second.submit("hold_learning_event", {"event_date": "2026-06-01", "attendance": [
        {"agency": "police", "attendees": 2}], "key_learning": "k"})
    draft = {"report_summary": "s", "findings": FINDINGS, "recommendations": [],
             "no_recommendations_reason": "The learning is for one practitioner only."}
    second.submit("draft_report", draft)
    second.submit("staff_comments", {"staff_comments": "c"})
    second.submit("family_comments", {"family_comments": "f", "family_views_included": False})
    second.submit("panel_sign_off", {"signed_off": False}, expect=422)
    second.submit("panel_sign_off", {"signed_off": False, "changes_required": "More analysis."})
    assert second.ready_ids() == ["draft_report"]
    second.submit("draft_report", draft)
    second.submit("staff_comments", {"staff_comments": "c"})
    second.submit("family_comments", {"family_comments": "f", "family_views_included": True})
    second.submit("panel_sign_off", {"signed_off": True})
    second.submit("write_board_response", {"board_response": "r"})
    second.submit("decide_publication", {"publish": True, "published_on": "2026-09-01",
                                         "published_format": "management_letter",
                                         "location": "Staff intranet"})
    case = second.case()
    assert case["status"] == "closed"
    assert case["outcome"]["actions"] == []


def test_single_agency_review(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    case = driver.refer(parents_charged_neglect=True)
    assert (case["grade"], case["route"]) == ("moderate", "single_agency")
    driver.screen("single_agency")
    driver.endorse()
    driver.submit("commission_single_agency_review", {
        "agency": "health", "terms_of_reference": "Health visiting in 2025",
        "due_date": "2026-05-01"})
    [task] = driver.ready()
    assert (task["bpmn_id"], task["lane"], task["agency"]) == (
        "carry_out_single_agency_review", "agency_lead", "health")
    review = {"chronology": [{"date": "2026-01-05", "event": "Visit", "source": "Notes"}],
              "analysis": "a", "findings": FINDINGS, "actions": [ACTION],
              "author": AGENCY_REVIEW["author"]}
    driver.submit("carry_out_single_agency_review", review)
    driver.submit("receive_findings", {"accepted": False, "feedback": "Add supervision."})
    driver.submit("carry_out_single_agency_review", review)
    driver.submit("receive_findings", {"accepted": True})
    case = driver.case()
    assert case["status"] == "monitoring"
    assert case["key_dates"]["single_agency_review_due"] == "2026-05-01"
    assert case["outcome"]["actions"] == [ACTION]
    assert driver.completed_tasks().count("carry_out_single_agency_review") == 2


def test_audit_best_practice_case_study(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    case = driver.refer(good_practice=True)
    assert (case["grade"], case["route"]) == ("best_practice", "audit")
    driver.screen("audit")
    driver.endorse()
    driver.submit("set_audit_questions", {
        "audit_type": "best_practice_case_study",
        "questions": ["What made the joint visit work?"], "auditor": "Practice manager"})
    driver.submit("complete_audit", {
        "answers": [{"question": "What made the joint visit work?", "answer": "Planning"}],
        "findings": [{"finding": "Joint planning", "themes": ["assessment"]}], "actions": [],
        "no_recommendations_reason": "Good practice to share; nothing to change."})
    assert driver.ready_ids() == ["write_case_study"]
    driver.submit("write_case_study", {"case_study": "c", "audiences": ["newsletter"]})
    driver.submit("agree_learning", {"learning_agreed": True, "learning_summary": "Plan jointly"})
    case = driver.case()
    assert case["status"] == "closed"
    assert case["outcome"]["learning_summary"] == "Plan jointly"


def test_practice_manager_audit_skips_the_case_study(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(minor_injury=True)
    driver.screen("audit")
    driver.endorse()
    driver.submit("set_audit_questions", {"audit_type": "practice_manager_audit",
                                          "questions": ["Was policy followed?"],
                                          "auditor": "PM"})
    driver.submit("complete_audit", {
        "answers": [{"question": "Was policy followed?", "answer": "No"}],
        "findings": [{"finding": "Policy not followed", "themes": ["supervision"]}],
        "actions": [ACTION]})
    assert driver.ready_ids() == ["agree_learning"]
    driver.submit("agree_learning", {"learning_agreed": True, "learning_summary": "s"})
    assert driver.case()["status"] == "monitoring"


def test_report_naming_the_family_goes_back_to_the_reviewer(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    driver.full_review_to_end(extended=False)  # the genograms name "Adult B"
    assert driver.ready_ids() == ["decide_publication"]

    second = CaseDriver(client)
    second.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    second.screen("concise")
    second.endorse()
    second.full_review_to_end(extended=False,
                              report_summary="ADULT B did not attend appointments.")
    assert second.ready_ids() == ["draft_report"]
    [notice] = second.events("notification_sent")
    assert notice["detail"]["names"] == ["Adult B"]
    assert notice["detail"]["recipient"] == "reviewer"


def test_scr_cannot_close_unpublished_unless_the_chair_records_why(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, child_died=True)
    driver.screen("extended")
    driver.national_panel_consulted("Proceed")
    driver.hold_scr()
    driver.full_review_to_end(extended=True)
    driver.submit("publish_report", {"publish": True}, expect=422)
    driver.submit("publish_report", {"publish": False})
    [task] = driver.ready()
    assert (task["bpmn_id"], task["lane"]) == ("explain_scr_not_published", "chair")
    driver.submit("explain_scr_not_published", {}, expect=422)
    driver.submit("explain_scr_not_published", {
        "scr_not_published_reason": "Publication would identify the surviving siblings."})
    decisions = driver.decisions()
    assert decisions["scr_not_published"]["reason"].startswith("Publication would identify")
    assert decisions["publication"]["published"] is False
    assert client.get("/api/v1/publications").json()["total"] == 0
    assert driver.case()["status"] == "monitoring"
