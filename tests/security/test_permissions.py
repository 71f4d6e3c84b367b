"""Who may call what: every route x every role, plus an agency lead of an agency not on the case.

The expected statuses in MATRIX are written out by hand from the issue ("a task can be seen,
claimed and completed only by holders of its lane's role ...; deployments only by designer;
terminate only by board_manager/admin; auditor reads, never writes") and app/auth/policy.py.
They are deliberately not computed from policy.ACTIONS: a change to a rule must change this
table as well, or the test fails.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.auth import tokens, users
from app.main import create_app
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, ClientFactory
from tests.routes.driver import ACTION, AGENCY_REVIEW, REVIEW_TEAM, CaseDriver
from tests.security import LANE_PROBE_BPMN, app_routes, assert_no_leak, post_files

# ---- who ---------------------------------------------------------------------------------

COLUMNS = ("board_manager", "chair", "panel_member", "reviewer", "police_lead", "education_lead",
           "designer", "auditor", "admin")
"""One caller per role; agency leads of police (on the case) and education (not on it)."""

CALLERS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "board_manager": (("board_manager",), None),
    "chair": (("chair",), None),
    "panel_member": (("panel_member",), None),
    "reviewer": (("reviewer",), None),
    "police_lead": (("agency_lead",), "police"),
    "education_lead": (("agency_lead",), "education"),
    "designer": (("designer",), None),
    "auditor": (("auditor",), None),
    "admin": (("admin",), None),
}

# ---- the matrix --------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    target: str
    expected: tuple[int, ...]

    def __post_init__(self) -> None:
        assert len(self.expected) == len(COLUMNS), self


def row(method: str, route: str, target: str, *expected: int) -> Row:
    return Row(method, route, target, expected)


# Targets (see TARGETS below): "case A" is referred with agencies police and health and waits
# for both agencies' reviews (a police task and a health task, lane agency_lead) and for an
# urgent concern (a board_manager task); "case B" is at screening (a panel_member task); "case
# C" (police and health too) has finished its review, with findings and a draft 7-minute
# briefing. Briefings are written by board managers and reviewers (app/services/briefings.py)
# and read by whoever may read the case; the annual report and PMF export cover every agency's
# cases, so agency leads may not read them. Case C's action plan has two police actions (one
# completed by the police lead) and a health action: owner agencies' leads update their actions,
# panel members sign completed ones off, everyone who reads cases reads them (agency leads only
# their own agency's). Publications are recorded by board managers, learning events by board
# managers and reviewers; both registers are read by every role.
# "fresh ..." targets are made anew for every cell, so one caller's success cannot change what
# the next caller sees; the other mutating rows have one allowed caller, are dry runs, or make
# something new on every call (a case, a concern, an instance). Refused callers go first.
#
#   row(method, route, target,
#        BM   CH   PM   RV  POL  EDU  DES  AUD  ADM
MATRIX: list[Row] = [
    row("GET", "/health", "-",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("POST", "/api/v1/deployments", "an unchanged file",
        403, 403, 403, 403, 403, 403, 201, 403, 403),
    row("POST", "/api/v1/deployments", "a dry run",
        403, 403, 403, 403, 403, 403, 200, 403, 403),
    row("GET", "/api/v1/definitions", "-",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("GET", "/api/v1/definitions/{key}", "referral",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("GET", "/api/v1/definitions/{key}/versions/{version}/xml", "referral v1",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("GET", "/api/v1/definitions/{key}/versions", "referral",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("GET", "/api/v1/definitions/{key}/diff", "divide, versions 1 and 2",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("GET", "/api/v1/definitions/{key}/diagram.svg", "referral",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("GET", "/api/v1/definitions/{key}/heat", "referral",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("POST", "/api/v1/definitions/{key}/simulate", "lane_probe",
        403, 403, 403, 403, 403, 403, 200, 403, 200),
    row("POST", "/api/v1/definitions/{key}/migrate", "divide, a dry run",
        403, 403, 403, 403, 403, 403, 200, 403, 200),
    row("POST", "/api/v1/instances", "lane_probe",
        201, 403, 403, 403, 403, 403, 403, 403, 201),
    row("GET", "/api/v1/instances", "-",
        200, 200, 200, 200, 403, 403, 403, 200, 200),
    row("GET", "/api/v1/instances/{instance_id}", "case A's referral",
        200, 200, 200, 200, 403, 403, 403, 200, 200),
    row("POST", "/api/v1/instances/{instance_id}/terminate", "fresh instance",
        200, 403, 403, 403, 403, 403, 403, 403, 200),
    row("POST", "/api/v1/instances/{instance_id}/retry", "fresh instance in error",
        200, 403, 403, 403, 403, 403, 403, 403, 200),
    row("POST", "/api/v1/instances/{instance_id}/migrate", "a divide v1 instance, a dry run",
        403, 403, 403, 403, 403, 403, 200, 403, 200),
    row("GET", "/api/v1/instances/{instance_id}/diagram.svg", "case A's referral",
        200, 200, 200, 200, 403, 403, 403, 200, 200),
    row("GET", "/api/v1/instances/{instance_id}/timeline", "case A's referral",
        200, 200, 200, 200, 403, 403, 403, 200, 200),
    row("GET", "/api/v1/tasks", "-",
        200, 200, 200, 200, 200, 200, 403, 200, 200),
    row("GET", "/api/v1/tasks/{task_id}", "police task",
        200, 404, 404, 404, 200, 404, 403, 200, 200),
    row("GET", "/api/v1/tasks/{task_id}", "health task",
        200, 404, 404, 404, 404, 404, 403, 200, 200),
    row("GET", "/api/v1/tasks/{task_id}", "panel_member task",
        200, 404, 200, 404, 404, 404, 403, 200, 200),
    row("POST", "/api/v1/tasks/{task_id}/complete", "health task",
        403, 404, 404, 404, 404, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/complete", "police task",
        403, 404, 404, 404, 200, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/complete", "board_manager task",
        200, 404, 404, 404, 404, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/complete", "panel_member task",
        403, 404, 200, 404, 404, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/complete", "a chair task",
        403, 200, 404, 404, 404, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/complete", "a reviewer task",
        403, 404, 404, 200, 404, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/claim", "fresh reviewer task",
        403, 404, 404, 200, 404, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/claim", "fresh police task",
        403, 404, 404, 404, 200, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/unclaim", "fresh reviewer task the reviewer claimed",
        200, 404, 404, 200, 404, 404, 403, 403, 403),
    row("POST", "/api/v1/tasks/{task_id}/assign", "fresh reviewer task, to a reviewer",
        200, 403, 403, 403, 403, 403, 403, 403, 403),
    row("POST", "/api/v1/messages", "fresh instance of case A waiting",
        200, 403, 403, 403, 200, 404, 403, 403, 200),
    row("POST", "/api/v1/referrals", "police and health",
        201, 403, 403, 403, 201, 403, 403, 403, 201),
    row("GET", "/api/v1/cases", "-",
        200, 200, 200, 200, 200, 200, 403, 200, 200),
    row("GET", "/api/v1/cases/{reference}", "case A",
        200, 200, 200, 200, 200, 404, 403, 200, 200),
    row("GET", "/api/v1/cases/{reference}/timeline", "case A",
        200, 200, 200, 200, 200, 404, 403, 200, 200),
    row("GET", "/api/v1/cases/{reference}/deadlines", "case A",
        200, 200, 200, 200, 200, 404, 403, 200, 200),
    row("POST", "/api/v1/cases/{reference}/escalations", "fresh case in review",
        403, 200, 200, 403, 403, 403, 403, 403, 403),
    row("POST", "/api/v1/cases/{reference}/concerns", "case A",
        201, 201, 201, 201, 201, 404, 403, 403, 403),
    row("POST", "/api/v1/cases/{reference}/briefing", "case C, regenerating its draft",
        201, 403, 403, 201, 403, 403, 403, 403, 403),
    row("GET", "/api/v1/cases/{reference}/briefing", "case C",
        200, 200, 200, 200, 200, 404, 403, 200, 200),
    row("PUT", "/api/v1/cases/{reference}/briefing", "case C's draft",
        200, 403, 403, 200, 403, 403, 403, 403, 403),
    row("GET", "/api/v1/cases/{reference}/briefing.html", "case C",
        200, 200, 200, 200, 200, 404, 403, 200, 200),
    row("GET", "/api/v1/cases/{reference}/briefing.pdf", "case C",
        200, 200, 200, 200, 200, 404, 403, 200, 200),
    row("POST", "/api/v1/cases/{reference}/briefing/publish", "fresh reviewed case's draft",
        200, 403, 403, 200, 403, 403, 403, 403, 403),
    row("GET", "/api/v1/reports/annual", "-",
        200, 200, 200, 200, 403, 403, 403, 200, 200),
    row("GET", "/api/v1/reports/pmf", "-",
        200, 200, 200, 200, 403, 403, 403, 200, 200),
    row("GET", "/api/v1/actions", "-",
        200, 200, 200, 200, 200, 200, 403, 200, 200),
    row("GET", "/api/v1/actions/{action_id}", "case C's police action",
        200, 200, 200, 200, 200, 404, 403, 200, 200),
    row("GET", "/api/v1/actions/{action_id}", "case C's health action",
        200, 200, 200, 200, 404, 404, 403, 200, 200),
    row("PATCH", "/api/v1/actions/{action_id}", "case C's police action, progress",
        403, 403, 403, 403, 200, 404, 403, 403, 403),
    row("POST", "/api/v1/actions/{action_id}/sign-off", "case C's completed police action",
        403, 403, 200, 403, 403, 403, 403, 403, 403),
    row("GET", "/api/v1/publications", "-",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("POST", "/api/v1/publications", "a report of case C",
        201, 403, 403, 403, 403, 403, 403, 403, 403),
    row("GET", "/api/v1/learning-events", "-",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("POST", "/api/v1/learning-events", "a forum",
        201, 403, 403, 201, 403, 403, 403, 403, 403),
    row("GET", "/api/v1/agencies", "-",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("POST", "/api/v1/decisions/{decision_id}/evaluate", "grading",
        200, 200, 200, 200, 200, 200, 200, 200, 200),
    row("GET", "/api/v1/audit", "-",
        403, 403, 403, 403, 403, 403, 403, 200, 200),
    row("GET", "/api/v1/incidents", "-",
        200, 403, 403, 403, 403, 403, 403, 200, 200),
    row("POST", "/api/v1/incidents/{incident_id}/resolve", "no such incident",
        404, 403, 403, 403, 403, 403, 403, 403, 404),
]

PUBLIC_ROUTES = {("GET", "/health")}

# ---- the state the matrix runs against ---------------------------------------------------

CONCISE_FACTS = {"abuse_or_neglect": True, "seriously_harmed": True,
                 "interagency_concern": "curiosity"}
REFERRAL = {"child_pseudonym": "Child B", "agencies": ["police", "health"],
            "incident_date": "2026-02-20", "summary": "A second referral.", "facts": {}}
SCREENING = {"grade_confirmed": True, "recommended_route": "concise",
             "recommendation_reason": "The sub-group recommends concise."}
BRIEFING = {"background": "Background.", "what_happened": "What happened.",
            "learning": ["Follow the policy."], "questions": ["One?", "Two?", "Three?"]}
CONCERN_HANDLED = {"escalated_to": "childrens_social_care",
                   "procedure": "Child protection referral", "escalated_on": "2026-03-02",
                   "action_taken": "Strategy discussion held"}


@dataclass(frozen=True)
class Call:
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    files: list[tuple[str, bytes]] | None = None
    query: dict[str, Any] | None = None


@dataclass
class World:
    ctx: ServiceContext
    app: FastAPI
    setup: TestClient
    """Every staff role but agency_lead: prepares targets."""
    clients: dict[str, TestClient]
    case_a: CaseDriver
    case_b: CaseDriver
    police_task: str
    health_task: str
    board_manager_task: str
    panel_member_task: str
    divide_v1_instance: str
    """An instance of the divide fixture on version 1, while version 2 is deployed."""
    _once: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._once:
            self._once[key] = make()
        return self._once[key]

    @property
    def case_c(self) -> str:
        return str(self.once("case C", self.reviewed_case))

    def action(self, name: str) -> int:
        """The id of one of case C's actions; "Audit supervision" is completed first."""
        def actions() -> dict[str, int]:
            response = self.setup.get("/api/v1/actions", params={"case": self.case_c})
            found = {item["action"]: int(item["id"]) for item in response.json()["items"]}
            police = CaseDriver(self.setup).agency_client("police")
            done = police.patch(f"/api/v1/actions/{found['Audit supervision']}",
                                json={"status": "completed", "evidence": "Audit report"})
            assert done.status_code == 200, done.text
            return found
        return int(self.once("actions", actions)[name])

    def probe(self, agency: str = "police", business_key: str | None = None) -> dict[str, str]:
        """A new lane_probe instance: one ready task per lane, by lane."""
        response = self.setup.post("/api/v1/instances", json={
            "process_key": "lane_probe", "business_key": business_key,
            "data": {"agency": agency}})
        assert response.status_code == 201, response.text
        return {task["lane"]: task["id"] for task in response.json()["ready_tasks"]}

    def waiting_instance(self, business_key: str) -> str:
        response = self.setup.post("/api/v1/instances", json={
            "process_key": "message_wait", "business_key": business_key})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def instance_in_error(self, business_key: str) -> str:
        instance_id = self.waiting_instance(business_key)
        response = self.setup.post("/api/v1/messages", json={
            "name": "agency_response", "business_key": business_key,
            "data": {"answer_count": 0}})
        assert response.json()["status"] == "error", response.text
        return instance_id

    def reviewed_case(self) -> str:
        """A case whose (audit) review is finished, with findings and a draft briefing."""
        driver = CaseDriver(self.setup)
        driver.refer(minor_injury=True)
        driver.screen("audit")
        driver.endorse()
        driver.submit("set_audit_questions", {"audit_type": "practice_manager_audit",
                                              "questions": ["Was policy followed?"],
                                              "auditor": "Practice manager"})
        driver.submit("complete_audit", {
            "answers": [{"question": "Was policy followed?", "answer": "No"}],
            "findings": [{"finding": "Policy not followed", "themes": ["supervision"]}],
            "actions": [{**ACTION, "action": "Train officers", "owner_agency": "police"},
                        {**ACTION, "action": "Audit supervision", "owner_agency": "police"},
                        {**ACTION, "action": "Train health visitors"}]})
        driver.submit("agree_learning", {"learning_agreed": True, "learning_summary": "s"})
        response = self.setup.post(f"/api/v1/cases/{driver.reference}/briefing")
        assert response.status_code == 201, response.text
        return driver.reference

    def case_in_review(self) -> str:
        driver = CaseDriver(self.setup)
        driver.refer(**CONCISE_FACTS)
        driver.screen("concise")
        driver.endorse()
        assert driver.case()["status"] == "in_review"
        return driver.reference


def _task(driver: CaseDriver, bpmn_id: str, agency: str | None = None) -> str:
    [task] = [t for t in driver.ready() if t["bpmn_id"] == bpmn_id and t["agency"] == agency]
    return str(task["id"])


@pytest.fixture
def world(ctx: ServiceContext, client: TestClient, make_client: ClientFactory) -> World:
    case_a = CaseDriver(client)
    case_a.deploy()
    post_files(client, ("lane_probe.bpmn", LANE_PROBE_BPMN),
               ("message_wait.bpmn", (FIXTURES / "message_wait.bpmn").read_bytes()))
    case_a.refer(**CONCISE_FACTS)
    case_a.screen("concise")
    case_a.endorse()
    case_a.submit("agree_terms_of_reference", {
        "terms_of_reference": "How agencies worked together.", "overview_author_involved": True,
        "review_team": REVIEW_TEAM,
        "methodology": "welsh_model", "participating_agencies": [
            {"agency": "police", "writes_agency_review": True},
            {"agency": "health", "writes_agency_review": True}],
        "period_from": "2025-02-01", "period_to": "2026-02-20"})
    case_a.submit("decide_involvement", {"family_involved": True, "staff_involved": True,
                                         "staff_involvement": ["direct_discussion"]})
    case_a.submit("plan_publication", {
        "readership": "whole", "publication_plan": "On the Board's website",
        "agency_reviews_due": "2026-05-01", "report_due": "2026-07-01",
        "publication_due": "2026-09-01"})
    concern = client.post(f"/api/v1/cases/{case_a.reference}/concerns",
                          json={"description": "A sibling is at home with the same adult."})
    assert concern.status_code == 201, concern.text
    case_b = CaseDriver(client)
    case_b.refer(**CONCISE_FACTS)
    divide = (FIXTURES / "divide.bpmn").read_bytes()
    assert post_files(client, ("divide.bpmn", divide)).status_code == 201
    divide_v1 = client.post("/api/v1/instances", json={"process_key": "divide"}).json()["id"]
    changed = divide.replace(b"Divide by what the reviewer enters", b"Divide (version 2)")
    assert post_files(client, ("divide.bpmn", changed)).json()["processes"][0]["version"] == 2
    assert sorted((t["bpmn_id"], t["lane"], t["agency"]) for t in case_a.ready()) == [
        ("escalate_concern", "board_manager", None),
        ("write_agency_review", "agency_lead", "health"),
        ("write_agency_review", "agency_lead", "police")]
    assert [(t["bpmn_id"], t["lane"]) for t in case_b.ready()] == [
        ("screen_referral", "panel_member")]

    with ctx.uow() as uow:
        for name, roles, agency in (("rita", ["reviewer"], None), ("pat", ["panel_member"], None),
                                    ("polly", ["agency_lead"], "police"),
                                    ("hal", ["agency_lead"], "health")):
            users.create(uow.session, name, "a long enough password", roles, agency,
                         ctx.clock.now())
        uow.commit()
    clients = {column: make_client(*roles, agency=agency, name=column)
               for column, (roles, agency) in CALLERS.items()}
    return World(ctx=ctx, app=client.app, setup=client,  # type: ignore[arg-type]
                 clients=clients, case_a=case_a, case_b=case_b,
                 police_task=_task(case_a, "write_agency_review", "police"),
                 health_task=_task(case_a, "write_agency_review", "health"),
                 board_manager_task=_task(case_a, "escalate_concern"),
                 panel_member_task=_task(case_b, "screen_referral"),
                 divide_v1_instance=divide_v1)


def _claimed_by_reviewer(world: World) -> str:
    task = world.probe()["reviewer"]
    response = world.clients["reviewer"].post(f"/api/v1/tasks/{task}/claim")
    assert response.status_code == 200, response.text
    return task


def _message_for_case_a(world: World) -> Call:
    world.waiting_instance(world.case_a.reference)
    return Call(json={"name": "agency_response", "business_key": world.case_a.reference,
                      "data": {"answer_count": 4}})


# (route, target) -> how to call it as `column`
TARGETS: dict[tuple[str, str], Callable[[World, str], Call]] = {
    ("/api/v1/deployments", "an unchanged file"): lambda w, c: Call(
        files=[("lane_probe.bpmn", LANE_PROBE_BPMN)]),
    ("/api/v1/deployments", "a dry run"): lambda w, c: Call(
        files=[("lane_probe.bpmn", LANE_PROBE_BPMN)], query={"dry_run": "true"}),
    ("/api/v1/definitions/{key}", "referral"): lambda w, c: Call({"key": "referral"}),
    ("/api/v1/definitions/{key}/versions/{version}/xml", "referral v1"): lambda w, c: Call(
        {"key": "referral", "version": 1}),
    ("/api/v1/definitions/{key}/simulate", "lane_probe"): lambda w, c: Call(
        {"key": "lane_probe"}, json={"data": {"agency": "police"}}),
    ("/api/v1/definitions/{key}/versions", "referral"): lambda w, c: Call({"key": "referral"}),
    ("/api/v1/definitions/{key}/diff", "divide, versions 1 and 2"): lambda w, c: Call(
        {"key": "divide"}, query={"from": 1, "to": 2}),
    ("/api/v1/definitions/{key}/diagram.svg", "referral"): lambda w, c: Call({"key": "referral"}),
    ("/api/v1/definitions/{key}/heat", "referral"): lambda w, c: Call({"key": "referral"}),
    ("/api/v1/definitions/{key}/migrate", "divide, a dry run"): lambda w, c: Call(
        {"key": "divide"}, json={"dry_run": True}),
    ("/api/v1/instances/{instance_id}/migrate", "a divide v1 instance, a dry run"):
        lambda w, c: Call({"instance_id": w.divide_v1_instance}, json={"dry_run": True}),
    ("/api/v1/instances/{instance_id}/diagram.svg", "case A's referral"): lambda w, c: Call(
        {"instance_id": w.case_a.case()["referral_instance_id"]}),
    ("/api/v1/instances", "lane_probe"): lambda w, c: Call(
        json={"process_key": "lane_probe", "data": {"agency": "police"}}),
    ("/api/v1/instances/{instance_id}", "case A's referral"): lambda w, c: Call(
        {"instance_id": w.case_a.case()["referral_instance_id"]}),
    ("/api/v1/instances/{instance_id}/timeline", "case A's referral"): lambda w, c: Call(
        {"instance_id": w.case_a.case()["referral_instance_id"]}),
    ("/api/v1/instances/{instance_id}/terminate", "fresh instance"): lambda w, c: Call(
        {"instance_id": w.waiting_instance(f"terminate-{c}")}, json={"reason": "test"}),
    ("/api/v1/incidents/{incident_id}/resolve", "no such incident"): lambda w, c: Call(
        {"incident_id": 999999}),
    ("/api/v1/instances/{instance_id}/retry", "fresh instance in error"): lambda w, c: Call(
        {"instance_id": w.instance_in_error(f"retry-{c}")}, json={"data": {"answer_count": 2}}),
    ("/api/v1/tasks/{task_id}", "police task"): lambda w, c: Call({"task_id": w.police_task}),
    ("/api/v1/tasks/{task_id}", "health task"): lambda w, c: Call({"task_id": w.health_task}),
    ("/api/v1/tasks/{task_id}", "panel_member task"): lambda w, c: Call(
        {"task_id": w.panel_member_task}),
    ("/api/v1/tasks/{task_id}/complete", "health task"): lambda w, c: Call(
        {"task_id": w.health_task}, json={"data": AGENCY_REVIEW}),
    ("/api/v1/tasks/{task_id}/complete", "police task"): lambda w, c: Call(
        {"task_id": w.police_task}, json={"data": AGENCY_REVIEW}),
    ("/api/v1/tasks/{task_id}/complete", "board_manager task"): lambda w, c: Call(
        {"task_id": w.board_manager_task}, json={"data": CONCERN_HANDLED}),
    ("/api/v1/tasks/{task_id}/complete", "panel_member task"): lambda w, c: Call(
        {"task_id": w.panel_member_task}, json={"data": SCREENING}),
    ("/api/v1/tasks/{task_id}/complete", "a chair task"): lambda w, c: Call(
        {"task_id": w.once("chair task", lambda: w.probe()["chair"])}, json={"data": {}}),
    ("/api/v1/tasks/{task_id}/complete", "a reviewer task"): lambda w, c: Call(
        {"task_id": w.once("reviewer task", lambda: w.probe()["reviewer"])}, json={"data": {}}),
    ("/api/v1/tasks/{task_id}/claim", "fresh reviewer task"): lambda w, c: Call(
        {"task_id": w.probe()["reviewer"]}),
    ("/api/v1/tasks/{task_id}/claim", "fresh police task"): lambda w, c: Call(
        {"task_id": w.probe()["agency_lead"]}),
    ("/api/v1/tasks/{task_id}/unclaim", "fresh reviewer task the reviewer claimed"):
        lambda w, c: Call({"task_id": _claimed_by_reviewer(w)}),
    ("/api/v1/tasks/{task_id}/assign", "fresh reviewer task, to a reviewer"): lambda w, c: Call(
        {"task_id": w.probe()["reviewer"]}, json={"user": "rita"}),
    ("/api/v1/messages", "fresh instance of case A waiting"): lambda w, c: _message_for_case_a(w),
    ("/api/v1/referrals", "police and health"): lambda w, c: Call(json=REFERRAL),
    ("/api/v1/cases/{reference}", "case A"): lambda w, c: Call(
        {"reference": w.case_a.reference}),
    ("/api/v1/cases/{reference}/timeline", "case A"): lambda w, c: Call(
        {"reference": w.case_a.reference}),
    ("/api/v1/cases/{reference}/deadlines", "case A"): lambda w, c: Call(
        {"reference": w.case_a.reference}),
    ("/api/v1/cases/{reference}/escalations", "fresh case in review"): lambda w, c: Call(
        {"reference": w.case_in_review()},
        json={"grade": "catastrophic", "reason": "The child has died."}),
    ("/api/v1/cases/{reference}/concerns", "case A"): lambda w, c: Call(
        {"reference": w.case_a.reference}, json={"description": "Another concern."}),
    ("/api/v1/cases/{reference}/briefing", "case C, regenerating its draft"): lambda w, c: Call(
        {"reference": w.case_c}, query={"replace": "true"}),
    ("/api/v1/cases/{reference}/briefing", "case C"): lambda w, c: Call({"reference": w.case_c}),
    ("/api/v1/cases/{reference}/briefing", "case C's draft"): lambda w, c: Call(
        {"reference": w.case_c}, json=BRIEFING),
    ("/api/v1/cases/{reference}/briefing.html", "case C"): lambda w, c: Call(
        {"reference": w.case_c}),
    ("/api/v1/cases/{reference}/briefing.pdf", "case C"): lambda w, c: Call(
        {"reference": w.case_c}),
    ("/api/v1/cases/{reference}/briefing/publish", "fresh reviewed case's draft"):
        lambda w, c: Call({"reference": w.reviewed_case()}, json={
            "location": "Board website", "published_on": "2026-03-02"}),
    ("/api/v1/actions/{action_id}", "case C's police action"): lambda w, c: Call(
        {"action_id": w.action("Train officers")}),
    ("/api/v1/actions/{action_id}", "case C's health action"): lambda w, c: Call(
        {"action_id": w.action("Train health visitors")}),
    ("/api/v1/actions/{action_id}", "case C's police action, progress"): lambda w, c: Call(
        {"action_id": w.action("Train officers")},
        json={"status": "in_progress", "progress": f"Reported by {c}"}),
    ("/api/v1/actions/{action_id}/sign-off", "case C's completed police action"):
        lambda w, c: Call({"action_id": w.action("Audit supervision")}),
    ("/api/v1/publications", "a report of case C"): lambda w, c: Call(json={
        "case_reference": w.case_c, "kind": "report", "title": "Learning review report",
        "published_on": "2026-03-02", "location": "Board website"}),
    ("/api/v1/learning-events", "a forum"): lambda w, c: Call(json={
        "held_on": "2026-03-02", "kind": "forum", "purpose": "Share the learning",
        "attendance": {"police": 2, "health": 3}, "outputs": "An escalation guide"}),
    ("/api/v1/decisions/{decision_id}/evaluate", "grading"): lambda w, c: Call(
        {"decision_id": "grading"}, json={"data": {}}),
}


def send(client: TestClient, method: str, route: str, call: Call) -> Any:
    url = route.format(**call.params)
    files = [("files", (name, content, "application/xml")) for name, content in call.files] \
        if call.files is not None else None
    return client.request(method, url, json=call.json, files=files, params=call.query)


def call_for(world: World, entry: Row, column: str) -> Call:
    make = TARGETS.get((entry.route, entry.target))
    if make is None:
        assert entry.target == "-", f"no target {entry.target!r} for {entry.route}"
        return Call()
    return make(world, column)


def test_every_route_has_a_row(world: World) -> None:
    in_app = app_routes(world.app)
    assert len(in_app) >= 20, in_app  # the enumeration itself works
    in_matrix = {(entry.method, entry.route) for entry in MATRIX}
    assert in_app - in_matrix == set(), "routes without a row in MATRIX"
    assert in_matrix - in_app == set(), "rows for routes the app no longer has"
    documented = {(method.upper(), path) for path, ops in world.app.openapi()["paths"].items()
                  for method in ops if path.startswith("/api/v1") or path == "/health"}
    assert documented - in_matrix == set(), "documented operations without a row in MATRIX"


def test_the_matrix_says_what_the_issue_says() -> None:
    """Cross-checks of the hand-written table against the issue's sentences."""
    column = COLUMNS.index
    for entry in MATRIX:
        auditor = entry.expected[column("auditor")]
        if entry.route in {r for _m, r in PUBLIC_ROUTES}:
            continue
        if entry.method == "GET":  # auditor reads ...
            assert auditor == 200, entry
        else:  # ... never writes (evaluating a decision writes nothing)
            assert auditor == 403 or entry.route.endswith("/evaluate"), entry
        if entry.route == "/api/v1/deployments":  # deployments only by designer
            assert [c for c, s in zip(COLUMNS, entry.expected, strict=True) if s < 400] == \
                ["designer"]
        if entry.route.endswith("/terminate"):  # terminate only by board_manager/admin
            assert [c for c, s in zip(COLUMNS, entry.expected, strict=True) if s < 400] == \
                ["board_manager", "admin"]
        if "/api/v1/cases/{reference}" in entry.route:  # not a case of the education lead's
            assert entry.expected[column("education_lead")] in (403, 404), entry


def test_permission_matrix(world: World) -> None:
    mismatches: list[str] = []
    for entry in MATRIX:
        # callers who are refused go first: a wrongly allowed call is reported, and the
        # allowed caller of a shared target still finds it as it was
        order = sorted(range(len(COLUMNS)), key=lambda i: entry.expected[i] < 400)
        for index in order:
            column, expected = COLUMNS[index], entry.expected[index]
            call = call_for(world, entry, column)
            response = send(world.clients[column], entry.method, entry.route, call)
            assert_no_leak(response)
            where = f"{entry.method} {entry.route} [{entry.target}] as {column}"
            if response.status_code != expected:
                mismatches.append(f"{where}: expected {expected}, got {response.status_code}: "
                                  f"{response.text[:300]}")
            elif expected == 403:
                body = response.json()
                if body.get("code") != "forbidden" or not str(body.get("detail", "")).strip():
                    mismatches.append(f"{where}: a 403 without a reason: {response.text}")
    assert not mismatches, "\n".join(mismatches)


# ---- no token, or a bad one ---------------------------------------------------------------

def _bad_credentials(ctx: ServiceContext) -> dict[str, dict[str, str]]:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        expired = tokens.create(uow.session, "expired", ["admin"], None,
                                now - dt.timedelta(days=30), expires_at=now - dt.timedelta(days=1))
        revoked = tokens.create(uow.session, "revoked", ["admin"], None, now)
        valid = tokens.create(uow.session, "valid", ["admin"], None, now)
        uow.commit()
    with ctx.uow() as uow:
        assert tokens.revoke(uow.session, "revoked", now) == 1
        uow.commit()
    wrong_secret = valid[:-4] + ("AAAA" if not valid.endswith("AAAA") else "BBBB")
    return {
        "no token": {},
        "empty bearer": {"Authorization": "Bearer "},
        "bogus": {"Authorization": "Bearer not-a-token"},
        "wrong secret": {"Authorization": f"Bearer {wrong_secret}"},
        "revoked": {"Authorization": f"Bearer {revoked}"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "basic auth": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    }


def test_every_api_route_needs_a_valid_token(ctx: ServiceContext) -> None:
    app = create_app(context=ctx)
    credentials = _bad_credentials(ctx)
    routes = sorted(app_routes(app))
    assert routes
    problems: list[str] = []
    with TestClient(app) as anonymous:
        for method, route in routes:
            url = re.sub(r"\{[^}]+\}", "1", route)
            files = [("files", ("x.bpmn", LANE_PROBE_BPMN, "application/xml"))] \
                if route == "/api/v1/deployments" else None
            body = {} if method in ("POST", "PUT", "PATCH") and files is None else None
            for kind, headers in credentials.items():
                response = anonymous.request(method, url, headers=headers, json=body, files=files)
                assert_no_leak(response)
                expected = 200 if (method, route) in PUBLIC_ROUTES else 401
                if response.status_code != expected:
                    problems.append(f"{method} {route} with {kind}: expected {expected}, got "
                                    f"{response.status_code}: {response.text[:200]}")
                elif expected == 401 and (response.headers.get("www-authenticate") != "Bearer"
                                          or response.json().get("code") != "not_authenticated"):
                    problems.append(f"{method} {route} with {kind}: 401 without a Bearer "
                                    f"challenge: {response.headers} {response.text}")
    assert not problems, "\n".join(problems)


# ---- agencies see only their own part ---------------------------------------------------

def test_police_lead_cannot_see_or_work_the_health_task(world: World) -> None:
    police = world.clients["police_lead"]
    for method, path, body in (
            ("GET", f"/api/v1/tasks/{world.health_task}", None),
            ("POST", f"/api/v1/tasks/{world.health_task}/claim", None),
            ("POST", f"/api/v1/tasks/{world.health_task}/complete", {"data": AGENCY_REVIEW}),
            ("POST", f"/api/v1/tasks/{world.health_task}/unclaim", None)):
        response = police.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)  # as if missing
        assert "health" not in response.json()["detail"]
        assert "Share concerns" not in response.text
    # the health agency's own lead can
    health = world.case_a.agency_client("health")
    assert health.get(f"/api/v1/tasks/{world.health_task}").status_code == 200
    done = health.post(f"/api/v1/tasks/{world.health_task}/complete",
                       json={"data": AGENCY_REVIEW})
    assert done.status_code == 200, done.text


def _all_items(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        response = client.get(path, params={**params, "limit": 500, "offset": len(items)})
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if len(items) >= page["total"] or not page["items"]:
            return items


def test_agency_lead_task_list_never_shows_another_agencys_task(world: World) -> None:
    world.probe(agency="health")  # more health tasks, and tasks in every other lane
    world.probe(agency="police")
    police = world.clients["police_lead"]
    seen = _all_items(police, "/api/v1/tasks")
    assert {t["id"] for t in seen} >= {world.police_task}
    assert world.health_task not in {t["id"] for t in seen}
    assert {(t["lane"], t["agency"]) for t in seen} == {("agency_lead", "police")}
    for state in ("ready", "completed", "cancelled"):
        for task in _all_items(police, "/api/v1/tasks", state=state):
            assert task["agency"] == "police", task
    by_lane = _all_items(police, "/api/v1/tasks", lane="board_manager")
    assert by_lane == []
    by_case = _all_items(police, "/api/v1/tasks", business_key=world.case_a.reference)
    assert [t["id"] for t in by_case] == [world.police_task]
    education = _all_items(world.clients["education_lead"], "/api/v1/tasks")
    assert education == []


def test_education_lead_sees_no_case(world: World) -> None:
    assert world.case_c
    education = world.clients["education_lead"]
    response = education.get("/api/v1/cases")
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["total"] == 0
    for path in ("", "/timeline", "/deadlines"):
        denied = education.get(f"/api/v1/cases/{world.case_a.reference}{path}")
        assert denied.status_code == 404
        assert "Child A" not in denied.text
    police = _all_items(world.clients["police_lead"], "/api/v1/cases")
    assert {c["reference"] for c in police} == {world.case_a.reference, world.case_b.reference,
                                                world.case_c}


def test_police_lead_case_view_and_timeline_hold_no_health_data(world: World) -> None:
    police = world.clients["police_lead"]
    case = police.get(f"/api/v1/cases/{world.case_a.reference}").json()
    assert [t["id"] for t in case["current_tasks"]] == [world.police_task]

    staff_timeline = world.case_a.timeline()
    health_events = [e for e in staff_timeline if e["task_id"] == world.health_task]
    assert health_events, "the staff timeline shows the health task"
    response = police.get(f"/api/v1/cases/{world.case_a.reference}/timeline")
    assert response.status_code == 200
    timeline = response.json()
    assert timeline, "the police lead sees the case's progress"
    assert {e["task_id"] for e in timeline if e["task_id"]} == {world.police_task}
    assert all(e["detail"].get("agency") in (None, "police") for e in timeline)
    assert world.health_task not in response.text
    assert '"health"' not in response.text.replace('"agencies":["police","health"]', "")


def test_agency_leads_see_only_their_agencys_actions(world: World) -> None:
    world.action("Train officers")  # makes case C and its action plan
    police = _all_items(world.clients["police_lead"], "/api/v1/actions")
    assert sorted(a["action"] for a in police) == ["Audit supervision", "Train officers"]
    asked = _all_items(world.clients["police_lead"], "/api/v1/actions", agency="health")
    assert asked == []
    assert _all_items(world.clients["education_lead"], "/api/v1/actions") == []
    staff = _all_items(world.clients["board_manager"], "/api/v1/actions")
    assert {a["owner_agency"] for a in staff} == {"police", "health"}


# ---- claim, unclaim, assign ------------------------------------------------------------

def test_a_claimed_task_is_only_for_its_claimant(world: World,
                                                 make_client: ClientFactory) -> None:
    task = world.probe()["reviewer"]
    rita = make_client("reviewer", name="rita")
    rex = make_client("reviewer", name="rex")
    claimed = rita.post(f"/api/v1/tasks/{task}/claim")
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "rita"
    assert rita.post(f"/api/v1/tasks/{task}/claim").status_code == 200  # again: idempotent

    for method in ("claim", "complete", "unclaim"):
        response = rex.post(f"/api/v1/tasks/{task}/{method}",
                            json={"data": {}} if method == "complete" else None)
        assert response.status_code == 403, (method, response.text)
        if method != "unclaim":
            assert "claimed by rita" in response.json()["detail"]
    manager = world.clients["board_manager"]
    assert manager.post(f"/api/v1/tasks/{task}/complete", json={"data": {}}).status_code == 403

    released = rita.post(f"/api/v1/tasks/{task}/unclaim")
    assert released.status_code == 200 and released.json()["assignee"] is None
    assert rita.post(f"/api/v1/tasks/{task}/unclaim").status_code == 409  # not claimed
    assert rex.post(f"/api/v1/tasks/{task}/claim").status_code == 200
    assert manager.post(f"/api/v1/tasks/{task}/unclaim").status_code == 200  # a manager may
    done = rita.post(f"/api/v1/tasks/{task}/complete", json={"data": {}})
    assert done.status_code == 200, done.text


def test_only_a_board_manager_assigns_and_only_to_a_holder_of_the_lane(
        world: World, make_client: ClientFactory) -> None:
    tasks = world.probe(agency="police")
    manager = world.clients["board_manager"]

    def assign(task: str, user: str, caller: TestClient = manager) -> Any:
        return caller.post(f"/api/v1/tasks/{task}/assign", json={"user": user})

    for column in ("chair", "reviewer", "auditor", "admin", "police_lead"):
        refused = assign(tasks["reviewer"], "rita", world.clients[column])
        assert refused.status_code == 403, (column, refused.text)
    wrong_role = assign(tasks["reviewer"], "pat")
    assert wrong_role.status_code == 422 and wrong_role.json()["field"] == "user"
    assert "reviewer" in wrong_role.json()["detail"]
    unknown = assign(tasks["reviewer"], "nobody")
    assert unknown.status_code == 422 and unknown.json()["field"] == "user"
    other_agency = assign(tasks["agency_lead"], "hal")
    assert other_agency.status_code == 422 and "police" in other_agency.json()["detail"]
    assert assign(tasks["agency_lead"], "polly").json()["assignee"] == "polly"

    given = assign(tasks["reviewer"], "rita")
    assert given.status_code == 200 and given.json()["assignee"] == "rita"
    other_reviewer = world.clients["reviewer"]
    refused = other_reviewer.post(f"/api/v1/tasks/{tasks['reviewer']}/complete",
                                  json={"data": {}})
    assert refused.status_code == 403 and "rita" in refused.json()["detail"]
    rita = make_client("reviewer", name="rita")
    assert rita.post(f"/api/v1/tasks/{tasks['reviewer']}/complete",
                     json={"data": {}}).status_code == 200


def test_auditor_reads_everything_and_writes_nothing(world: World) -> None:
    auditor = world.clients["auditor"]
    for path in ("/api/v1/cases", f"/api/v1/cases/{world.case_a.reference}",
                 f"/api/v1/cases/{world.case_a.reference}/timeline", "/api/v1/tasks",
                 f"/api/v1/tasks/{world.health_task}", "/api/v1/instances", "/api/v1/audit",
                 "/api/v1/definitions"):
        assert auditor.get(path).status_code == 200, path
    writes = [entry for entry in MATRIX if entry.method != "GET"
              and not entry.route.endswith("/evaluate")]
    assert len({entry.route for entry in writes}) >= 12
    for entry in writes:
        response = send(auditor, entry.method, entry.route, call_for(world, entry, "auditor"))
        assert response.status_code == 403, (entry, response.text)
        assert response.json()["code"] == "forbidden"
