"""Issue 16, points 2 to 4: a statutory case gets its Serious Case Review or the chair's recorded
decision not to hold one; the chair endorses escalations; the national panel's advice informs
the decision, and advice that comes late reopens it. Through the REST API, with the real routes.

Seed, "The process of a learning and improvement review report", 1 and 2: "Decision to undertake
either a SCR, management overview report or a Critical Learning or other review is endorsed by
the independent chair" and "The decision making process for a SCR to be informed by the national
panel of independent experts on SCRs". Appendix 3: cases meeting regulation 5(2) "must always
trigger a SCR".
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.clock import ManualClock
from app.db.models import ProcessInstance, ReviewCase
from app.engine.errors import StepFailed
from app.engine.scripting import OperatorCall
from app.services import operators, timers
from app.services.context import ServiceContext
from tests.routes.driver import CaseDriver

CHILD_DIED = {"abuse_or_neglect": True, "child_died": True}


def statutory_case(client: TestClient, route: str = "extended") -> CaseDriver:
    driver = CaseDriver(client)
    driver.deploy()
    case = driver.refer(**CHILD_DIED)
    assert (case["grade"], case["statutory"]) == ("catastrophic", True)
    driver.screen(route)
    return driver


def panel_notices(driver: CaseDriver) -> list[dict]:
    return [e["detail"] for e in driver.events("notification_sent")
            if e["detail"]["recipient"] == "national_panel"]


def test_screening_a_statutory_case_to_an_audit_does_not_skip_the_scr(client: TestClient) -> None:
    """A catastrophic case screened to an audit with the reason "ok" is a recommendation not to
    hold an SCR: the national panel is consulted, the chair decides it on the record, the reasons
    go to the national panel within 14 days and the case says "SCR not held"."""
    driver = statutory_case(client, route="audit")
    case = driver.case()
    assert case["status"] == "awaiting_national_panel"
    assert driver.ready_ids() == []  # no review starts before the chair decides
    [consulted] = panel_notices(driver)
    assert consulted["recommended_route"] == "audit"

    driver.national_panel_consulted("An SCR is needed: the agencies knew of earlier injuries.",
                                    recommendation="hold_scr")
    [decide] = driver.ready()
    assert decide["bpmn_id"] == "decide_scr" and decide["lane"] == "chair"
    detail = client.get(f"/api/v1/tasks/{decide['id']}").json()
    assert "The national panel's advice: An SCR is needed" in detail["instructions"]
    assert "recommends an audit" in detail["instructions"]

    # not holding one needs reasons in words, and going against the panel's advice needs more
    driver.submit("decide_scr", {"scr_decision": "do_not_hold_scr", "not_held_route": "audit"},
                  expect=422)
    driver.submit("decide_scr", {"scr_decision": "do_not_hold_scr", "not_held_route": "audit",
                                 "scr_not_held_reasons": " . "}, expect=422)
    refused = driver.submit("decide_scr", {
        "scr_decision": "do_not_hold_scr", "not_held_route": "audit",
        "scr_not_held_reasons": "It is clear there were no concerns about how agencies worked "
                                "together."}, expect=422)
    assert "against_advice_reasons" in str(refused)
    driver.submit("decide_scr", {
        "scr_decision": "do_not_hold_scr", "not_held_route": "audit",
        "scr_not_held_reasons": "It is clear there were no concerns about how agencies worked "
                                "together.",
        "against_advice_reasons": "The earlier injuries were shared and acted on at the time."})

    case = driver.case()
    assert case["scr_held"] is False
    assert case["scr_not_held_reason"].startswith("It is clear there were no concerns")
    assert case["key_dates"]["declined_scr"] == "2026-03-02"
    assert case["status"] == "in_review" and case["route"] == "audit"
    ready = {t["bpmn_id"]: t for t in driver.ready()}
    assert set(ready) == {"send_reasons", "set_audit_questions"}
    assert ready["send_reasons"]["lane"] == "board_manager"
    assert ready["send_reasons"]["due_at"] == "2026-03-17T00:00:00Z"  # the end of 14 days
    deadlines = {d["id"]: d for d in client.get(
        f"/api/v1/cases/{driver.reference}/deadlines").json()}
    assert deadlines["national_panel_notice"]["due"] == "2026-03-16"
    assert deadlines["scr_complete"]["state"] == "not_applicable"

    driver.submit("send_reasons", {"reasons_sent": "No concerns about inter-agency working.",
                                   "sent_on": "2026-03-05"})
    assert [n["subject"] for n in panel_notices(driver)][-1] == \
        "Decision not to hold a Serious Case Review"
    assert driver.case()["key_dates"]["national_panel_notified"] == "2026-03-05"
    decisions = driver.decisions()
    assert decisions["scr_decision"]["outcome"] == "do_not_hold_scr"
    assert decisions["national_panel_advice"]["recommendation"] == "hold_scr"


def test_the_chair_holds_the_scr_after_the_advice(client: TestClient) -> None:
    driver = statutory_case(client)
    assert driver.case()["scr_held"] is None
    driver.national_panel_consulted("Proceed with a Serious Case Review.",
                                    recommendation="hold_scr")
    driver.hold_scr()
    case = driver.case()
    assert (case["status"], case["route"], case["scr_held"]) == ("in_review", "extended", True)
    assert case["key_dates"]["scr_commissioned"] == case["key_dates"]["decided"] == "2026-03-02"
    assert case["key_dates"]["national_panel_consulted"] == "2026-03-02"
    assert case["key_dates"]["national_panel_advised"] == "2026-03-02"
    assert driver.ready_ids() == ["agree_terms_of_reference"]


def test_declining_any_review_of_a_statutory_case_is_a_decision_not_to_hold_an_scr(
        client: TestClient) -> None:
    driver = statutory_case(client)
    driver.national_panel_consulted("Hold a Serious Case Review.")
    driver.submit("decide_scr", {"scr_decision": "do_not_hold_scr", "not_held_route": "none",
                                 "scr_not_held_reasons": "The child's death was from natural "
                                                         "causes, the inquest found."})
    case = driver.case()
    assert (case["status"], case["scr_held"]) == ("declined", False)
    assert driver.ready_ids() == ["send_reasons"]
    driver.submit("send_reasons", {"reasons_sent": "Natural causes.", "sent_on": "2026-03-03"})
    assert driver.ready_ids() == []


def test_no_advice_within_the_wait_then_late_advice_reopens_the_decision(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    """The chair decides after the advice, or after a configured wait recorded as "no advice
    received"; advice that arrives after the decision reopens it for the chair."""
    driver = statutory_case(client)
    clock.set(dt.datetime(2026, 3, 13, 17, 0, tzinfo=dt.UTC))  # nine working days on
    timers.fire_due(ctx)
    assert driver.ready_ids() == []
    clock.set(dt.datetime(2026, 3, 17, 0, 1, tzinfo=dt.UTC))  # ten working days are over
    assert timers.fire_due(ctx) >= 1
    [decide] = driver.ready()
    assert decide["bpmn_id"] == "decide_scr"
    instructions = client.get(f"/api/v1/tasks/{decide['id']}").json()["instructions"]
    assert "No advice was received from the national panel" in instructions
    assert driver.decisions()["national_panel_advice"]["advice"] == "No advice received"
    driver.hold_scr()
    assert driver.ready_ids() == ["agree_terms_of_reference"]

    driver.national_panel_consulted("A Serious Case Review is not needed: the death was not "
                                    "linked to abuse.", recommendation="do_not_hold_scr")
    ready = driver.ready_ids()
    assert ready == ["agree_terms_of_reference", "reconsider_scr"]
    # the decision stands: against the advice, with reasons; the SCR goes on
    driver.submit("reconsider_scr", {"scr_decision": "hold_scr"}, expect=422)
    driver.submit("reconsider_scr", {"scr_decision": "hold_scr",
                                     "against_advice_reasons": "The post-mortem shows abuse."})
    assert driver.ready_ids() == ["agree_terms_of_reference"]
    assert driver.case()["scr_held"] is True
    assert driver.decisions()["scr_decision_reconsidered"]["previous"] == "hold_scr"


def test_late_advice_can_change_the_decision_and_stop_the_review_running(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    driver = statutory_case(client)
    clock.set(dt.datetime(2026, 3, 17, 0, 1, tzinfo=dt.UTC))
    timers.fire_due(ctx)
    driver.hold_scr()
    driver.national_panel_consulted("No SCR is needed.", recommendation="do_not_hold_scr")
    driver.submit("reconsider_scr", {
        "scr_decision": "do_not_hold_scr", "not_held_route": "concise",
        "scr_not_held_reasons": "The panel showed the agencies worked together well."})
    case = driver.case()
    assert (case["scr_held"], case["route"], case["status"]) == (False, "concise", "in_review")
    assert driver.ready_ids() == ["agree_terms_of_reference", "send_reasons"]
    tasks = client.get("/api/v1/tasks", params={"business_key": driver.reference,
                                                "state": "cancelled"}).json()["items"]
    assert [t["bpmn_id"] for t in tasks] == ["agree_terms_of_reference"]


def test_no_path_skips_the_decision(client: TestClient, ctx: ServiceContext) -> None:
    """The service refuses to close or monitor a statutory case that has neither its SCR nor a
    recorded decision not to hold one, whatever a route does (the operator's own guard); and
    nobody outside can send the message with which the process stops a review."""
    driver = statutory_case(client)
    response = client.post("/api/v1/messages", json={
        "name": "route_superseded", "business_key": driver.reference, "data": {}})
    assert response.status_code == 404
    driver.national_panel_consulted("Hold one.")
    assert driver.ready_ids() == ["decide_scr"]

    with ctx.uow() as uow:
        case = uow.session.scalars(select(ReviewCase)).one()
        instance = uow.session.get(ProcessInstance, case.referral_instance_id)
        assert instance is not None
        for status in ("closed", "monitoring"):
            call = OperatorCall("case_update", {"status": status}, "close_case", "Close the case")
            with pytest.raises(StepFailed, match="without a Serious Case Review"):
                operators.apply(uow, instance, call, ctx.clock.now(), "designer")
        case.scr_held = False
        operators.apply(uow, instance, OperatorCall("case_update", {"status": "closed"},
                                                    "close_case", None), ctx.clock.now(), None)
        assert case.status == "closed"
        uow.rollback()
    assert driver.case()["status"] == "awaiting_national_panel"


def test_an_escalation_that_changes_the_review_waits_for_the_chair(client: TestClient) -> None:
    """Seed: "any situation can be escalated to a higher criteria as the case is assessed"; the
    decision to hold the new review is the chair's to endorse. Declining keeps the route."""
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(minor_injury=True, known_to_services=True)
    assert driver.case()["route"] == "audit"
    assert "publication" not in driver.case()["notify"]
    driver.screen("audit")
    driver.endorse()
    assert driver.ready_ids() == ["set_audit_questions"]

    driver.escalate("severe", reason=" ", expect=422)
    driver.escalate("severe", reason="The child was admitted for three days.")
    case = driver.case()
    assert (case["grade"], case["route"]) == ("low", "audit")  # nothing changes until endorsed
    assert driver.ready_ids() == ["endorse_escalation", "set_audit_questions"]
    task = next(t for t in driver.ready() if t["bpmn_id"] == "endorse_escalation")
    instructions = client.get(f"/api/v1/tasks/{task['id']}").json()["instructions"]
    assert "from low to severe" in instructions and "a concise review" in instructions
    assert "The child was admitted for three days." in instructions
    driver.submit("endorse_escalation", {"escalation_decision": "decline"}, expect=422)
    driver.submit("endorse_escalation", {"escalation_decision": "decline",
                                         "escalation_decline_reasons": "An audit is enough."})
    assert driver.ready_ids() == ["set_audit_questions"]
    assert driver.case()["grade"] == "low"
    assert driver.decisions()["escalation_endorsement"]["reasons"] == "An audit is enough."

    driver.escalate("severe", reason="A second admission.")
    driver.submit("endorse_escalation", {"escalation_decision": "endorse"})
    case = driver.case()
    assert (case["grade"], case["route"], case["status"]) == ("severe", "concise", "in_review")
    assert driver.ready_ids() == ["agree_terms_of_reference"]


def test_an_escalation_within_the_same_review_needs_no_endorsement(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(transported_to_hospital=True)
    assert driver.case()["grade"] == "significant"
    driver.screen("concise")
    driver.endorse()
    driver.escalate("severe", reason="Admitted for more than 24 hours.")
    case = driver.case()
    assert (case["grade"], case["route"]) == ("severe", "concise")
    assert driver.ready_ids() == ["agree_terms_of_reference"]


def test_an_escalation_to_catastrophic_consults_the_panel_and_the_chair_decides(
        client: TestClient, clock: ManualClock) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    [concise_task] = driver.ready()
    clock.set(dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC))
    driver.escalate("catastrophic")
    case = driver.case()
    assert (case["grade"], case["statutory"], case["route"]) == ("catastrophic", True, "concise")
    assert "publication" in case["notify"]  # who must be told follows the grade
    assert case["status"] == "in_review"  # the current review goes on while the panel advises
    assert driver.ready_ids() == ["agree_terms_of_reference"]
    assert panel_notices(driver)
    driver.national_panel_consulted("Hold an SCR.", recommendation="hold_scr")
    ready = driver.ready_ids()
    assert ready == ["agree_terms_of_reference", "decide_escalated_scr"]
    driver.submit("decide_escalated_scr", {"scr_decision": "hold_scr"})
    case = driver.case()
    assert (case["route"], case["scr_held"]) == ("extended", True)
    assert case["key_dates"]["scr_commissioned"] == case["key_dates"]["escalated"] == "2026-03-20"
    [extended_task] = driver.ready()  # the extended review's own terms of reference
    assert extended_task["bpmn_id"] == "agree_terms_of_reference"
    assert extended_task["id"] != concise_task["id"]
    assert [e["task_id"] for e in driver.events("task_cancelled")] == [concise_task["id"]]


def test_an_escalation_to_catastrophic_the_chair_does_not_hold_keeps_the_review(
        client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    driver.escalate("catastrophic")
    driver.national_panel_consulted("Hold an SCR.", recommendation="hold_scr")
    driver.submit("decide_escalated_scr", {
        "scr_decision": "do_not_hold_scr",
        "scr_not_held_reasons": "The concise review already covers the agencies' work.",
        "against_advice_reasons": "It has the same reviewer and scope an SCR would."})
    case = driver.case()
    assert (case["route"], case["scr_held"]) == ("concise", False)
    assert driver.ready_ids() == ["agree_terms_of_reference", "send_reasons"]
