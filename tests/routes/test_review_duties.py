"""Issue 16, points 8, 9 and 12 and the SCR publication limit, through the API on whole cases.

Point 12: reviews are led by people independent of the case (seed, Appendix 1 principle 3;
"other reviews" point 2). Point 8: publication follows the plan set at the outset ("other
reviews" point 9). Point 9: what people record reaches the record ("process" point 4, "other
reviews" points 7, 8 and 13, the learning events of the Welsh model).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import Finding
from tests.routes.driver import ACTION, AGENCY_REVIEW, FINDINGS, REVIEW_TEAM, CaseDriver

TERMS = {"terms_of_reference": "How agencies worked together.", "overview_author_involved": True,
         "methodology": "welsh_model",
         "participating_agencies": [{"agency": "police", "writes_agency_review": True},
                                    {"agency": "health", "writes_agency_review": True}],
         "period_from": "2025-02-01", "period_to": "2026-02-20"}
PLAN = {"readership": "whole", "publication_plan": "On the Board's website",
        "agency_reviews_due": "2026-05-01", "report_due": "2026-07-01",
        "publication_due": "2026-09-01"}
CONFLICTED = {**REVIEW_TEAM[1], "conflict_of_interest": "declared",
              "conflict_description": "Supervised the health visitor in 2024."}


def on_publication_day(driver: CaseDriver) -> None:
    """Publication dates may not be in the future: the injected clock moves to the day the
    tests publish on (before the end of the day, when the publication would be overdue)."""
    clock = driver.client.app.state.context.clock  # type: ignore[attr-defined]
    clock.set(dt.datetime(2026, 9, 1, 10, tzinfo=dt.UTC))


def registered_findings(client: TestClient, reference: str) -> list[tuple[str, list[str]]]:
    """The findings register (no API lists it; the annual report counts it)."""
    ctx = client.app.state.context  # type: ignore[attr-defined]
    with ctx.uow() as uow:
        rows = uow.session.scalars(select(Finding).where(Finding.case_reference == reference)
                                   .order_by(Finding.id))
        return [(row.text, list(row.themes)) for row in rows]


def concise_case(client: TestClient) -> CaseDriver:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    return driver


def to_agency_reviews(driver: CaseDriver, involvement: dict[str, Any] | None = None) -> None:
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": REVIEW_TEAM})
    driver.submit("decide_involvement", involvement or {
        "family_involved": True, "staff_involved": True,
        "staff_involvement": ["direct_discussion"]})
    driver.submit("plan_publication", PLAN)


def to_publication(driver: CaseDriver, draft: dict[str, Any] | None = None) -> None:
    driver.submit("write_agency_review", AGENCY_REVIEW, agency="police")
    driver.submit("write_agency_review", AGENCY_REVIEW, agency="health")
    driver.submit("hold_learning_event", {
        "event_date": "2026-06-01", "attendance": [{"agency": "health", "attendees": 4},
                                                   {"agency": "police", "attendees": 2}],
        "key_learning": "Practitioners did not know whom to escalate to."})
    driver.submit("draft_report", draft or {
        "report_summary": "Agencies did not share what they knew.", "findings": FINDINGS,
        "recommendations": [{"recommendation": "Strengthen escalation", "actions": [ACTION]}]})
    driver.submit("staff_comments", {"staff_comments": "Dates corrected."})
    if "family_comments" in driver.ready_ids():
        driver.submit("family_comments", {"family_comments": "The family felt heard.",
                                          "family_views_included": True})
    driver.submit("panel_sign_off", {"signed_off": True})
    driver.submit("write_board_response", {"board_response": "The Board accepts the findings."})


def test_the_review_team_is_named_and_a_declared_conflict_waits_for_the_chair(
        client: TestClient) -> None:
    driver = concise_case(client)
    # Point 12: the overview author must be named, and a declared conflict must be described.
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": [REVIEW_TEAM[1]]},
                  expect=422)
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": [
        REVIEW_TEAM[0], {**REVIEW_TEAM[1], "conflict_of_interest": "declared"}]}, expect=422)
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": [
        REVIEW_TEAM[0], {**REVIEW_TEAM[1], "skills": None}]}, expect=422)
    driver.submit("agree_terms_of_reference",
                  {**TERMS, "review_team": [REVIEW_TEAM[0], CONFLICTED]})
    [task] = driver.ready()
    assert (task["bpmn_id"], task["lane"]) == ("decide_team_conflict", "chair")
    driver.submit("decide_team_conflict", {"conflict_decision": "another_author"}, expect=422)
    driver.submit("decide_team_conflict", {"conflict_decision": "another_author",
                                           "conflict_decision_reason": " . "}, expect=422)
    driver.submit("decide_team_conflict", {
        "conflict_decision": "another_author",
        "conflict_decision_reason": "The reviewer supervised staff whose work is reviewed."})
    assert driver.ready_ids() == ["agree_terms_of_reference"]  # back to whoever named them

    driver.submit("agree_terms_of_reference",
                  {**TERMS, "review_team": [REVIEW_TEAM[0], CONFLICTED]})
    driver.submit("decide_team_conflict", {
        "conflict_decision": "accept",
        "conflict_decision_reason": "The supervision ended two years ago; no one else has "
                                    "these skills."})
    assert driver.ready_ids() == ["decide_involvement"]
    decisions = driver.decisions()
    assert decisions["review_team"]["members"] == [REVIEW_TEAM[0], CONFLICTED]
    assert decisions["conflict_of_interest"]["outcome"] == "accept"
    assert decisions["conflict_of_interest"]["declared_by"] == [CONFLICTED]
    assert [e["detail"]["outcome"] for e in driver.events("decision_recorded")
            if e["detail"]["decision"] == "conflict_of_interest"] == ["another_author", "accept"]


def test_no_conflict_goes_straight_on(client: TestClient) -> None:
    driver = concise_case(client)
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": REVIEW_TEAM})
    assert driver.ready_ids() == ["decide_involvement"]
    assert "conflict_of_interest" not in driver.decisions()


def test_an_agency_review_author_with_line_responsibility_needs_the_chair(
        client: TestClient) -> None:
    driver = concise_case(client)
    to_agency_reviews(driver)
    conflicted = {**AGENCY_REVIEW, "author": {"name": "T. Manager", "role": "Team manager",
                                              "line_responsibility": True}}
    driver.submit("write_agency_review", conflicted, agency="police", expect=422)
    conflicted["author"]["line_responsibility_description"] = "Manages the officers involved."
    driver.submit("write_agency_review", conflicted, agency="police")
    driver.submit("write_agency_review", AGENCY_REVIEW, agency="health")
    [task] = driver.ready()
    assert (task["bpmn_id"], task["lane"]) == ("decide_author_conflict", "chair")
    driver.submit("decide_author_conflict", {
        "author_decision": "another_author",
        "author_decision_reason": "The author manages the officers whose work is reviewed."})
    # Only the police review is written again, by another author; health's is kept.
    [task] = driver.ready()
    assert (task["bpmn_id"], task["agency"]) == ("write_agency_review", "police")
    driver.submit("write_agency_review", {**AGENCY_REVIEW, "lessons": ["Escalate sooner"]},
                  agency="police")
    assert driver.ready_ids() == ["hold_learning_event"]
    [decision] = [e["detail"] for e in driver.events("decision_recorded")
                  if e["detail"]["decision"] == "agency_review_authors"]
    assert decision["decisions"] == [{
        "agency": "police", "author": conflicted["author"], "decision": "another_author",
        "reason": "The author manages the officers whose work is reviewed."}]
    driver.submit("hold_learning_event", {
        "event_date": "2026-06-01", "attendance": [{"agency": "police", "attendees": 3}],
        "key_learning": "Escalation routes were unclear."})
    driver.submit("draft_report", {"report_summary": "s", "findings": FINDINGS,
                                   "recommendations": [{"recommendation": "r",
                                                        "actions": [ACTION]}]})
    driver.submit("staff_comments", {"staff_comments": "c"})
    driver.submit("family_comments", {"family_comments": "f", "family_views_included": True})
    driver.submit("panel_sign_off", {"signed_off": True})
    driver.submit("write_board_response", {"board_response": "r"})
    on_publication_day(driver)
    driver.submit("decide_publication", {"publish": True, "published_on": "2026-09-01",
                                         "published_format": "whole", "location": "Website"})
    outcome = driver.case()["outcome"]
    assert sorted(outcome["lessons"], key=lambda x: x["agency"]) == [
        {"agency": "health", "lesson": "Share concerns about supervision promptly"},
        {"agency": "police", "lesson": "Escalate sooner"}]
    assert {a["agency"]: a["name"] for a in outcome["agency_review_authors"]} == {
        "health": "A. Reviewer", "police": "A. Reviewer"}


def test_the_published_format_follows_the_plan(client: TestClient) -> None:
    driver = concise_case(client)
    to_agency_reviews(driver)
    to_publication(driver)
    assert driver.ready_ids() == ["decide_publication"]
    shortened = {"publish": True, "published_on": "2026-09-01", "published_format": "shortened",
                 "location": "Staff intranet"}
    response = driver.submit("decide_publication", shortened, expect=422)
    assert "published_format" in str(response) and "format_change_reason" in str(response)
    on_publication_day(driver)
    driver.submit("decide_publication", {**shortened, "format_change_reason": "  "}, expect=422)
    driver.submit("decide_publication", {
        **shortened, "format_change_reason": "The whole report would identify the siblings."})
    decision = driver.decisions()["publication"]
    assert (decision["planned_format"], decision["published_format"]) == ("whole", "shortened")
    assert decision["format_change_reason"].startswith("The whole report")
    outcome = driver.case()["outcome"]
    assert outcome["format_change_reason"].startswith("The whole report")
    assert (outcome["readership"], outcome["published_format"]) == ("whole", "shortened")
    [publication] = client.get("/api/v1/publications",
                               params={"case": driver.reference}).json()["items"]
    assert publication["readership"] == "shortened"


def test_the_planned_format_needs_no_reason(client: TestClient) -> None:
    driver = concise_case(client)
    to_agency_reviews(driver)
    to_publication(driver)
    on_publication_day(driver)
    driver.submit("decide_publication", {"publish": True, "published_on": "2026-09-01",
                                         "published_format": "whole", "location": "Website"})
    assert "format_change_reason" not in driver.case()["outcome"]  # None is not kept


def test_involvement_reasons_staff_discussion_and_lessons_reach_the_outcome(
        client: TestClient) -> None:
    driver = concise_case(client)
    driver.submit("agree_terms_of_reference", {**TERMS, "review_team": REVIEW_TEAM})
    # Staff involvement is at minimum a direct discussion; otherwise say why not.
    driver.submit("decide_involvement", {"family_involved": True, "staff_involved": True},
                  expect=422)
    driver.submit("decide_involvement", {"family_involved": True, "staff_involved": True,
                                         "staff_involvement": ["comment_on_draft"]}, expect=422)
    driver.submit("decide_involvement", {"family_involved": False, "staff_involved": False,
                                         "family_not_involved_reason": "!"}, expect=422)
    driver.submit("decide_involvement", {
        "family_involved": False, "family_not_involved_reason": "The family moved abroad.",
        "staff_involved": False,
        "staff_not_involved_reason": "The practitioners have left the agencies."})
    driver.submit("plan_publication", PLAN)
    to_publication(driver)
    on_publication_day(driver)
    driver.submit("decide_publication", {"publish": True, "published_on": "2026-09-01",
                                         "published_format": "whole", "location": "Website"})
    outcome = driver.case()["outcome"]
    assert outcome["family_not_involved_reason"] == "The family moved abroad."
    assert outcome["staff_not_involved_reason"] == "The practitioners have left the agencies."
    assert outcome["staff_involvement"] == []
    assert outcome["lessons"] == [
        {"agency": "police", "lesson": "Share concerns about supervision promptly"},
        {"agency": "health", "lesson": "Share concerns about supervision promptly"}]
    assert outcome["review_team"] == REVIEW_TEAM


def test_staff_involvement_is_saved(client: TestClient) -> None:
    driver = concise_case(client)
    to_agency_reviews(driver, {"family_involved": True, "staff_involved": True,
                               "staff_involvement": ["direct_discussion", "comment_on_draft"]})
    to_publication(driver)
    on_publication_day(driver)
    driver.submit("decide_publication", {"publish": True, "published_on": "2026-09-01",
                                         "published_format": "whole", "location": "Website"})
    outcome = driver.case()["outcome"]
    assert outcome["staff_involvement"] == ["direct_discussion", "comment_on_draft"]
    assert "family_not_involved_reason" not in outcome
    assert "staff_not_involved_reason" not in outcome


def test_the_learning_event_and_lessons_reach_the_registers(client: TestClient) -> None:
    driver = concise_case(client)
    to_agency_reviews(driver)
    to_publication(driver)
    [event] = client.get("/api/v1/learning-events",
                         params={"case": driver.reference}).json()["items"]
    assert event["kind"] == "learning_event"
    assert event["held_on"] == "2026-06-01"
    assert event["attendance"] == {"health": 4, "police": 2}
    assert event["outputs"] == "Practitioners did not know whom to escalate to."
    assert [e["detail"]["held_on"] for e in driver.events("learning_event_registered")] == [
        "2026-06-01"]
    on_publication_day(driver)
    driver.submit("decide_publication", {"publish": True, "published_on": "2026-09-01",
                                         "published_format": "whole", "location": "Website"})
    [recorded] = driver.events("outcome_recorded")
    assert recorded["detail"]["lessons"] == 2
    assert registered_findings(client, driver.reference) == [
        ("Concerns were not escalated", ["escalation", "information_sharing"]),
        ("police: Share concerns about supervision promptly", ["agency_lesson"]),
        ("health: Share concerns about supervision promptly", ["agency_lesson"])]


def test_a_review_without_recommendations_says_why(client: TestClient) -> None:
    driver = concise_case(client)
    to_agency_reviews(driver)
    draft = {"report_summary": "s", "findings": FINDINGS, "recommendations": []}
    driver.submit("write_agency_review", AGENCY_REVIEW, agency="police")
    driver.submit("write_agency_review", AGENCY_REVIEW, agency="health")
    driver.submit("hold_learning_event", {"event_date": "2026-06-01", "attendance": [
        {"agency": "police", "attendees": 2}], "key_learning": "k"})
    driver.submit("draft_report", draft, expect=422)
    driver.submit("draft_report", {**draft, "no_recommendations_reason": "-"}, expect=422)
    driver.submit("draft_report", {**draft, "no_recommendations_reason":
                                   "The agencies already changed their procedures."})
    driver.submit("staff_comments", {"staff_comments": "c"})
    driver.submit("family_comments", {"family_comments": "f", "family_views_included": True})
    driver.submit("panel_sign_off", {"signed_off": True})
    driver.submit("write_board_response", {"board_response": "r"})
    on_publication_day(driver)
    driver.submit("decide_publication", {"publish": True, "published_on": "2026-09-01",
                                         "published_format": "whole", "location": "Website"})
    case = driver.case()
    assert case["status"] == "closed"
    assert case["outcome"]["no_recommendations_reason"] == \
        "The agencies already changed their procedures."


def test_an_audit_whose_learning_is_not_agreed_goes_back(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(good_practice=True)
    driver.screen("audit")
    driver.endorse()
    driver.submit("set_audit_questions", {
        "audit_type": "best_practice_case_study",
        "questions": ["What made the joint visit work?"], "auditor": "Practice manager"})
    audit = {"answers": [{"question": "What made the joint visit work?", "answer": "Planning"}],
             "findings": [{"finding": "Joint planning", "themes": ["assessment"]}],
             "actions": []}
    driver.submit("complete_audit", audit, expect=422)  # no actions needs the reason
    audit["no_recommendations_reason"] = "Good practice to share; nothing to change."
    driver.submit("complete_audit", audit)
    driver.submit("write_case_study", {"case_study": "Joint visits planned together.",
                                       "audiences": ["newsletter"]})
    driver.submit("agree_learning", {"learning_agreed": False, "learning_summary": "s"},
                  expect=422)
    driver.submit("agree_learning", {"learning_agreed": False, "learning_summary": "s",
                                     "learning_not_agreed_reason": "The answers miss health."})
    assert driver.ready_ids() == ["complete_audit"]
    assert driver.case()["status"] == "in_review"
    assert driver.decisions()["audit_learning"] == {
        "decision": "audit_learning", "agreed": False, "reason": "The answers miss health."}
    driver.submit("complete_audit", audit)
    driver.submit("write_case_study", {"case_study": "Joint visits with health, planned "
                                                     "together.", "audiences": ["training"]})
    driver.submit("agree_learning", {"learning_agreed": True, "learning_summary": "Plan jointly"})
    case = driver.case()
    assert case["status"] == "closed"
    assert case["outcome"]["learning_agreed"] is True
    assert case["outcome"]["case_study"] == {
        "case_study": "Joint visits with health, planned together.", "audiences": ["training"]}
    assert case["outcome"]["no_recommendations_reason"].startswith("Good practice")
    [recorded] = driver.events("outcome_recorded")
    assert recorded["detail"]["lessons"] == 1
    assert registered_findings(client, driver.reference)[-1] == (
        "Joint visits with health, planned together.", ["best_practice_case_study"])


def test_single_agency_review_without_actions_says_why(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(parents_charged_neglect=True)
    driver.screen("single_agency")
    driver.endorse()
    driver.submit("commission_single_agency_review", {
        "agency": "health", "terms_of_reference": "Health visiting in 2025",
        "due_date": "2026-05-01"})
    review = {"chronology": [{"date": "2026-01-05", "event": "Visit", "source": "Notes"}],
              "analysis": "a", "findings": FINDINGS, "actions": [],
              "author": AGENCY_REVIEW["author"]}
    driver.submit("carry_out_single_agency_review", review, expect=422)
    driver.submit("carry_out_single_agency_review", {
        **review, "no_recommendations_reason": "Practice met the standard."})
    driver.submit("receive_findings", {"accepted": True})
    case = driver.case()
    assert case["status"] == "closed"
    assert case["outcome"]["no_recommendations_reason"] == "Practice met the standard."

