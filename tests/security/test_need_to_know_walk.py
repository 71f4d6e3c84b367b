"""Need to know, walked: every task of every route, as every role and agency (issue 17, point 3).

A case is driven down each route once. After every step, each ready task is opened as each
role: the status must follow the access rules and the data keys must be within `READS` (the
spec: what each task may read beyond its form's own properties). Agency leads must never
receive a withheld key, the panel's or chair's reasoning, or another agency's words: every
reasoning field recorded on the way carries `REASONING` and every agency's review carries that
agency's marker, and each response an agency lead gets (task, case, timeline, deadlines,
instance, diagram heat, an invalid completion's error) is searched for the markers it must not
hold. The same holds for the agency leads' pages (the case, the inbox, their own task's page)
after the panel, the chair and the other agency have saved drafts carrying their markers. The
review's findings are shared with the case's agencies by design, so no marker goes there.
The walking and the searching are in `tests/security/walk.py`.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import ManualClock
from app.services.context import ServiceContext
from tests.conftest import PROCESSES, ClientFactory
from tests.routes.driver import ACTION, AGENCY_REVIEW, FINDINGS, REVIEW_TEAM
from tests.security.walk import AGENCIES, REASONING, Walk, agency_review, marker, reason

CASE = {"reference", "child_pseudonym"}
REFERRAL = CASE | {"agencies", "incident_date", "summary", "facts", "grade", "route"}
REPORT = CASE | {"report_summary", "findings", "recommendations"}
REVIEW_INPUTS = CASE | {"terms_of_reference", "agency_reviews"}
READS: dict[str, set[str]] = {
    # referral.bpmn
    "screen_referral": REFERRAL | {"endorsement_reasons", "more_information_request"},
    "endorse_review": REFERRAL | {"recommendation_reason"},
    "endorse_review_chase": CASE,
    "decide_scr": REFERRAL | {"recommendation_reason", "advice", "advice_received",
                              "advice_recommendation"},
    "decide_scr_chase": CASE,
    "decide_escalated_scr": CASE | {"grade", "escalated_grade", "escalation_reason", "advice",
                                    "advice_received", "advice_recommendation"},
    "reconsider_scr": CASE | {"grade", "advice", "advice_recommendation",
                              "previous_scr_decision"},
    "send_reasons": CASE | {"scr_not_held_reasons", "not_held_on"},
    "send_reasons_chase": CASE,
    "endorse_escalation": CASE | {"previous_grade", "escalated_grade", "proposed_route",
                                  "escalation_reason"},
    # extended_review.bpmn and concise_review.bpmn
    "agree_terms_of_reference": REFERRAL | {"terms_of_reference", "previous_grade",
                                            "escalated_grade", "escalation_reason"},
    "decide_team_conflict": CASE | {"review_team"},
    "decide_involvement": CASE | {"terms_of_reference"},
    "plan_publication": CASE | {"route", "scr_publication_limit"},
    "write_agency_review": CASE | {"incident_date", "agency", "terms_of_reference",
                                   "period_from", "period_to", "agency_reviews_due"},
    "write_agency_review_chase": CASE,
    "decide_author_conflict": CASE | {"conflicted_review", "agency", "author"},
    "merge_chronologies": REVIEW_INPUTS,
    "hold_learning_event": REVIEW_INPUTS,
    "draft_report": REVIEW_INPUTS | {"merged_chronology", "key_practice_episodes",
                                     "key_learning"},
    "draft_report_chase": CASE,
    "staff_comments": REPORT,
    "family_comments": REPORT,
    "panel_sign_off": REPORT | {"staff_comments", "family_comments"},
    "write_board_response": REPORT,
    "publish_report": CASE | {"publication_plan", "publication_due", "readership"},
    "publish_report_chase": CASE,
    "decide_publication": CASE | {"publication_plan", "publication_due", "readership"},
    "explain_scr_not_published": CASE | {"not_published_reason"},
    "agree_late_publication": CASE | {"publication_due", "scr_publication_limit",
                                      "late_publication_reason"},
    # single_agency_review.bpmn
    "commission_single_agency_review": CASE | {"summary", "agencies"},
    "carry_out_single_agency_review": CASE | {"incident_date", "agency", "terms_of_reference",
                                              "due_date"},
    "carry_out_single_agency_review_chase": CASE,
    "receive_findings": CASE | {"agency", "chronology", "analysis", "findings", "actions"},
    # audit_review.bpmn
    "set_audit_questions": CASE | {"summary", "grade"},
    "complete_audit": CASE | {"summary", "audit_type", "questions", "auditor"},
    "write_case_study": CASE | {"findings"},
    "agree_learning": CASE | {"questions", "answers", "findings", "actions"},
    # urgent_concern.bpmn and action_monitoring.bpmn
    "escalate_concern": CASE | {"concern_description", "raised_by"},
    "escalate_concern_chair_check": CASE | {"concern_description", "raised_by"},
    "chase_overdue_actions": CASE,
    "review_action_plan": CASE,
}
WITHHELD = {
    # what the panel and the chair decided and why
    "recommended_route", "recommendation_reason", "grade_change_reason", "endorsement",
    "endorsement_reasons", "chair_comments", "more_information_request", "scr_decision",
    "previous_scr_decision", "scr_not_held_reasons", "scr_not_held_reason", "not_held_route",
    "against_advice_reasons", "advice", "advice_recommendation", "advice_received",
    "escalation_reason", "escalation_decision", "escalation_decline_reasons",
    "family_not_involved_reason", "staff_not_involved_reason", "author_decision",
    "author_decision_reason", "conflict_decision", "conflict_decision_reason",
    "not_published_reason", "changes_required", "feedback",
    # what the agencies wrote, together
    "agency_reviews", "kept_agency_reviews", "redo_agency_reviews", "conflicted_review",
    "conflicted_reviews", "merged_chronology", "key_practice_episodes",
}
"""Keys an agency lead never receives on a task (unless its own form asks for that answer)."""


# ---- the routes --------------------------------------------------------------------------

def screen(walk: Walk, route: str) -> None:
    walk.step("screen_referral", {"grade_confirmed": True, "recommended_route": route,
                                  "recommendation_reason": reason(f"the panel recommends {route}")})


def endorse(walk: Walk) -> None:
    walk.step("endorse_review", {"endorsement": "endorse",
                                 "chair_comments": reason("the chair endorses")})


CONFLICTED = {**REVIEW_TEAM[1], "conflict_of_interest": "declared",
              "conflict_description": "Supervised the health visitor in 2024."}


def commission(walk: Walk, family: bool, conflicted: bool = False, late: bool = False) -> None:
    """Terms of reference, involvement and the publication plan; with `conflicted` a reviewer
    declares a conflict the chair accepts, with `late` the chair agrees a late publication."""
    walk.step("agree_terms_of_reference", {
        "terms_of_reference": "How agencies worked together in the year before the incident.",
        "review_team": [REVIEW_TEAM[0], CONFLICTED] if conflicted else REVIEW_TEAM,
        "overview_author_involved": True, "methodology": "welsh_model",
        "participating_agencies": [{"agency": a, "writes_agency_review": True}
                                   for a in AGENCIES],
        "period_from": "2025-02-01", "period_to": "2026-02-20"})
    if conflicted:
        walk.step("decide_team_conflict", {
            "conflict_decision": "accept",
            "conflict_decision_reason": reason("the chair accepts the reviewer")})
    involvement: dict[str, Any] = {"family_involved": family, "staff_involved": True,
                                   "staff_involvement": ["direct_discussion"]}
    if not family:
        involvement["family_not_involved_reason"] = reason("the family declined")
    walk.step("decide_involvement", involvement)
    plan = {"readership": "whole", "publication_plan": "On the Board's website",
            "agency_reviews_due": "2026-05-01", "report_due": "2026-07-01",
            "publication_due": "2026-09-01"}
    if late:
        plan.update(publication_due="2026-10-01",
                    late_publication_reason=reason("the criminal trial is in September"))
    walk.step("plan_publication", plan)
    if late:
        walk.step("agree_late_publication", {
            "late_publication_agreed": True,
            "late_publication_decision_reason": reason("the chair agrees to wait")})


def report(walk: Walk, family: bool, send_back: bool) -> None:
    """The learning event and the report; `send_back`: the panel sends the first draft back
    and the second is late (chased)."""
    walk.step("hold_learning_event", {
        "event_date": "2026-06-01", "attendance": [{"agency": "health", "attendees": 4}],
        "key_learning": "Practitioners did not know whom to escalate to."})
    rounds = [False, True] if send_back else [True]
    for signed_off in rounds:
        walk.step("draft_report", {
            "report_summary": "Agencies did not share what they knew.", "findings": FINDINGS,
            "recommendations": [{"recommendation": "Strengthen escalation",
                                 "actions": [ACTION, POLICE_ACTION]}]})
        walk.step("staff_comments", {"staff_comments": "Dates corrected."})
        if family:
            walk.step("family_comments", {"family_comments": "The family felt heard.",
                                          "family_views_included": True})
        sign_off: dict[str, Any] = {"signed_off": signed_off}
        if not signed_off:
            sign_off["changes_required"] = reason("the panel wants more analysis")
        walk.step("panel_sign_off", sign_off)
        if not signed_off:
            walk.overdue(dt.datetime(2026, 7, 2, 9, tzinfo=dt.UTC))
            walk.step("draft_report_chase", {"action_taken": "Phoned the reviewer",
                                             "expected_by": "2026-07-09"})
    walk.step("write_board_response", {"board_response": "The Board accepts the findings."})


POLICE_ACTION = {**ACTION, "action": "Brief officers on escalation", "owner_agency": "police"}


def extended_scr(walk: Walk) -> None:
    """No advice in time, so the chair holds the SCR; the advice arrives late (through an
    agency's system, which the API allows) and the chair reconsiders; a reviewer's declared
    conflict, a late publication the chair agrees, the publication chased, and an SCR the
    chair explains not publishing."""
    walk.refer(abuse_or_neglect=True, child_died=True)
    screen(walk, "extended")
    walk.overdue(dt.datetime(2026, 3, 17, 0, 1, tzinfo=dt.UTC))  # ten working days
    walk.step("decide_scr", {"scr_decision": "hold_scr",
                             "chair_comments": reason("the chair holds the SCR")})
    walk.advise("the national panel advises no SCR", "do_not_hold_scr", via="police")
    walk.step("reconsider_scr", {"scr_decision": "hold_scr",
                                 "against_advice_reasons": reason("the chair keeps the SCR")})
    commission(walk, family=True, conflicted=True, late=True)
    for agency in AGENCIES:
        walk.step("write_agency_review", agency_review(agency), agency=agency)
    walk.step("merge_chronologies", {
        "merged_chronology": [{"date": "2026-05-02", "agency": "health", "event": "Visit"}],
        "key_practice_episodes": "The missed escalation in May."})
    report(walk, family=True, send_back=False)
    walk.overdue(dt.datetime(2026, 10, 2, 9, tzinfo=dt.UTC))
    walk.step("publish_report_chase", {"action_taken": "Asked the communications team",
                                       "expected_by": "2026-10-09"})
    walk.step("publish_report", {"publish": False})
    walk.step("explain_scr_not_published", {
        "scr_not_published_reason": reason("publication would identify the siblings")})


def concise(walk: Walk) -> None:
    """With an agency review written again by another author (the chair decides), overdue
    agency reviews chased, the draft sent back, no publication, and the action plan
    monitored: the agencies report progress, late actions are chased and the plan reviewed."""
    walk.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    screen(walk, "concise")
    endorse(walk)
    commission(walk, family=False)
    walk.overdue(dt.datetime(2026, 5, 2, 9, tzinfo=dt.UTC))
    while "write_agency_review_chase" in walk.driver.ready_ids():  # one per late review
        walk.step("write_agency_review_chase", {"action_taken": "Phoned the agency",
                                                "expected_by": "2026-05-08"})
    walk.step("write_agency_review", agency_review(
        "police", name="T. Manager", line_responsibility=True,
        line_responsibility_description="Manages the officers involved."), agency="police")
    walk.step("write_agency_review", agency_review("health"), agency="health")
    walk.step("decide_author_conflict", {
        "author_decision": "another_author",
        "author_decision_reason": reason("the author manages the officers reviewed")})
    walk.step("write_agency_review", agency_review("police"), agency="police")
    walk.step("write_agency_review_chase", {"action_taken": "Phoned police",  # the redo's
              "expected_by": "2026-05-08"})
    report(walk, family=False, send_back=True)
    walk.step("decide_publication", {
        "publish": False, "not_published_reason": reason("the family would be identified")})
    assert walk.driver.case()["status"] == "monitoring"
    walk.update_actions()
    walk.overdue(dt.datetime(2027, 7, 10, 9, tzinfo=dt.UTC))  # past the actions' target
    walk.step("chase_overdue_actions", {"discussed_with": list(AGENCIES),
                                        "next_steps": "Done by August"})
    walk.weeks_pass(13)  # the sub-group reviews the plan every quarter
    walk.step("review_action_plan", {"progress_view": "some_concerns",
                                     "summary": "Two actions are late."})


def single_agency(walk: Walk) -> None:
    """Health reviews alone; police, also on the case, must learn nothing of it but the
    outcome; the chair's endorsement is late (chased), the review is overdue, chased, sent
    back once, then accepted."""
    walk.refer(parents_charged_neglect=True)
    screen(walk, "single_agency")
    walk.overdue(dt.datetime(2026, 4, 3, 0, 1, tzinfo=dt.UTC))  # past the decision's clock
    walk.step("endorse_review_chase", {"action_taken": "Phoned the chair",
                                       "expected_by": "2026-04-06"})
    endorse(walk)
    walk.step("commission_single_agency_review", {
        "agency": "health", "terms_of_reference": "Health visiting in 2025",
        "due_date": "2026-05-01"})
    walk.overdue(dt.datetime(2026, 5, 2, 9, tzinfo=dt.UTC))
    walk.step("carry_out_single_agency_review_chase", {"action_taken": "Phoned health",
                                                       "expected_by": "2026-05-08"})
    mark = marker("health")
    review = {"chronology": [{"date": "2026-01-05", "event": f"{mark}: a visit",
                              "source": "Notes"}],
              "analysis": f"{mark}: supervision was thin.", "findings": FINDINGS,
              "actions": [ACTION], "author": AGENCY_REVIEW["author"]}
    walk.step("carry_out_single_agency_review", review, agency="health")
    walk.step("receive_findings", {"accepted": False,
                                   "feedback": reason("the panel wants supervision covered")})
    walk.step("carry_out_single_agency_review", review, agency="health")
    walk.step("receive_findings", {"accepted": True})


def audit_good_practice(walk: Walk) -> None:
    """The good-practice case study, with an escalation the chair declines, one to
    catastrophic the chair decides (after the national panel) not to make an SCR, and an
    urgent concern not escalated in time beside it."""
    walk.refer(good_practice=True)
    screen(walk, "audit")
    endorse(walk)
    escalated = walk.driver.escalate("severe", reason=reason("a panel member escalates"))
    assert escalated["reference"] == walk.driver.reference
    walk.check()
    walk.step("endorse_escalation", {
        "escalation_decision": "decline",
        "escalation_decline_reasons": reason("the chair keeps the audit")})
    walk.driver.escalate("catastrophic", reason=reason("a panel member escalates again"))
    walk.check()
    walk.advise("the national panel advises an SCR", "hold_scr")
    walk.step("decide_escalated_scr", {
        "scr_decision": "do_not_hold_scr",
        "scr_not_held_reasons": reason("the audit covers it"),
        "against_advice_reasons": reason("the chair differs from the advice")})
    walk.step("send_reasons", {"reasons_sent": "Sent as the chair recorded them.",
                               "sent_on": "2026-03-02"})
    concern = walk.driver.client.post(f"/api/v1/cases/{walk.driver.reference}/concerns",
                                      json={"description": "A sibling is at home."})
    assert concern.status_code == 201, concern.text
    walk.overdue(dt.datetime(2026, 3, 2, 17, 0, 1, tzinfo=dt.UTC))  # not escalated that day
    walk.step("escalate_concern_chair_check", {"action_taken": "Called the board manager",
                                               "expected_by": "2026-03-03"})
    walk.step("escalate_concern", {"escalated_to": "childrens_social_care",
                                   "procedure": "Child protection referral",
                                   "escalated_on": "2026-03-02",
                                   "action_taken": "Strategy discussion held"})
    walk.step("set_audit_questions", {"audit_type": "best_practice_case_study",
                                      "questions": ["What made the joint visit work?"],
                                      "auditor": "Practice manager"})
    walk.step("complete_audit", {
        "answers": [{"question": "What made the joint visit work?", "answer": "Planning"}],
        "findings": [{"finding": "Joint planning", "themes": ["assessment"]}], "actions": [],
        "no_recommendations_reason": "Good practice to share; nothing to change."})
    walk.step("write_case_study", {"case_study": "Joint planning", "audiences": ["newsletter"]})
    walk.step("agree_learning", {"learning_agreed": True, "learning_summary": "Plan jointly"})


def scr_not_held(walk: Walk) -> None:
    """The chair does not hold an SCR against the national panel's advice; the reasons go to
    the panel and an audit is held instead."""
    walk.refer(abuse_or_neglect=True, child_died=True)
    screen(walk, "audit")
    walk.advise("the national panel advises an SCR", recommendation="hold_scr")
    walk.overdue(dt.datetime(2026, 4, 3, 0, 1, tzinfo=dt.UTC))  # past the decision's clock
    walk.step("decide_scr_chase", {"action_taken": "Phoned the chair",
                                   "expected_by": "2026-04-06"})
    walk.step("decide_scr", {
        "scr_decision": "do_not_hold_scr", "not_held_route": "audit",
        "scr_not_held_reasons": reason("the chair holds no SCR"),
        "against_advice_reasons": reason("the chair differs from the advice")})
    walk.overdue(dt.datetime(2026, 4, 20, 9, tzinfo=dt.UTC))  # the reasons are late
    walk.step("send_reasons_chase", {"action_taken": "Reminded the board manager",
                                     "expected_by": "2026-04-21"})
    walk.step("send_reasons", {"reasons_sent": "Sent as the chair recorded them.",
                               "sent_on": "2026-04-20"})
    walk.step("set_audit_questions", {"audit_type": "practice_manager_audit",
                                      "questions": ["Was policy followed?"], "auditor": "PM"})
    walk.step("complete_audit", {
        "answers": [{"question": "Was policy followed?", "answer": "No"}],
        "findings": [{"finding": "Policy not followed", "themes": ["supervision"]}],
        "actions": [ACTION]})
    walk.step("agree_learning", {"learning_agreed": True, "learning_summary": "s"})


BOTH = {REASONING, *map(marker, AGENCIES)}
ROUTES: dict[str, tuple[Callable[[Walk], None], set[str], set[str]]] = {
    "extended_scr": (extended_scr, {
        "screen_referral", "decide_scr", "reconsider_scr", "agree_terms_of_reference",
        "decide_team_conflict", "agree_late_publication", "publish_report_chase",
        "explain_scr_not_published", "decide_involvement",
        "plan_publication", "write_agency_review", "merge_chronologies", "hold_learning_event",
        "draft_report", "staff_comments", "family_comments", "panel_sign_off",
        "write_board_response", "publish_report"}, BOTH),
    "concise": (concise, {
        "screen_referral", "endorse_review", "agree_terms_of_reference", "decide_involvement",
        "plan_publication", "write_agency_review", "write_agency_review_chase",
        "decide_author_conflict", "hold_learning_event", "draft_report", "staff_comments",
        "panel_sign_off", "write_board_response", "decide_publication", "draft_report_chase",
        "chase_overdue_actions", "review_action_plan"}, BOTH),
    "single_agency": (single_agency, {
        "screen_referral", "endorse_review", "commission_single_agency_review",
        "carry_out_single_agency_review", "carry_out_single_agency_review_chase",
        "receive_findings", "endorse_review_chase"}, {REASONING, marker("health")}),
    "audit_good_practice": (audit_good_practice, {
        "screen_referral", "endorse_review", "endorse_escalation", "escalate_concern",
        "decide_escalated_scr", "send_reasons", "escalate_concern_chair_check",
        "set_audit_questions", "complete_audit", "write_case_study", "agree_learning"},
        {REASONING}),
    "scr_not_held": (scr_not_held, {
        "screen_referral", "decide_scr", "decide_scr_chase", "send_reasons",
        "send_reasons_chase", "set_audit_questions",
        "complete_audit", "agree_learning"}, {REASONING}),
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_task_as_every_role_and_agency(route: str, client: TestClient,
                                             make_client: ClientFactory, ctx: ServiceContext,
                                             clock: ManualClock) -> None:
    drive, tasks, markers = ROUTES[route]
    walk = Walk(client, make_client, ctx, clock, READS, WITHHELD)
    drive(walk)
    walk.finish()
    assert tasks <= walk.walked, f"the walk never met {sorted(tasks - walk.walked)}"
    assert markers <= walk.staff_saw, "the markers never reached a task's data"


def test_the_table_names_every_user_task_of_the_routes() -> None:
    """A task added to a route needs its row in `READS` (what it may read is a decision),
    and a route walk that meets it."""
    user_task = "{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask"
    found = {element.get("id") for path in PROCESSES.glob("*.bpmn")
             if path.name != "demo_triage.bpmn"
             for element in ET.parse(path).iter(user_task)}
    assert found == set(READS)
    walked = set().union(*(tasks for _drive, tasks, _markers in ROUTES.values()))
    assert walked == set(READS), f"no route walks {sorted(set(READS) - walked)}"
