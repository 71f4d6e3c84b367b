"""The need-to-know walk: one case on one route, checked as every caller after every step.

`tests/security/test_need_to_know_walk.py` drives the routes and holds the table (the spec) of
what each task may read; this module opens everything each caller can open and searches what
agency leads receive for the markers seeded in the reasoning and in each agency's review.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import lxml.html
from fastapi.testclient import TestClient

from app.auth import users
from app.clock import ManualClock
from app.services import timers
from app.services.context import ServiceContext
from app.web.session import LOGIN_CSRF_COOKIE
from tests.conftest import ClientFactory
from tests.routes.driver import AGENCY_REVIEW, CaseDriver

REASONING = "Withheld-reasoning"
AGENCIES = ("police", "health")
OUTSIDER = "education"
STAFF = ("board_manager", "chair", "panel_member", "reviewer", "designer", "auditor")
DRAFTERS = ("panel_member", "chair")
"""The lanes whose drafts (reasoning typed but not yet submitted) are saved on every task."""
PASSWORD = "a long enough walk password"


def reason(what: str) -> str:
    return f"{REASONING}: {what}, recorded with the reasons in full."


def marker(agency: str) -> str:
    return f"Only-{agency}-wrote-this"


def agency_review(agency: str, **author: Any) -> dict[str, Any]:
    mark = marker(agency)
    return {**AGENCY_REVIEW,
            "chronology": [{"date": "2026-01-05", "event": f"{mark}: a home visit",
                            "action_taken": "Strategy discussion", "source": "Case notes"}],
            "analysis": f"{mark}: the health visitor and the school nurse did not talk.",
            "lessons": [f"{mark}: share concerns promptly"],
            "author": {**AGENCY_REVIEW["author"], **author}}


class Browser:
    """A person signed in to the pages; signed in again when time passing ended the session."""

    def __init__(self, client: TestClient, ctx: ServiceContext, role: str,
                 agency: str | None = None) -> None:
        self.name = f"walk.{agency or role}"
        with ctx.uow() as uow:
            users.create(uow.session, self.name, PASSWORD, [role], agency, ctx.clock.now())
            uow.commit()
        self.page = TestClient(client.app, base_url="https://testserver")
        self._sign_in()

    def _sign_in(self) -> None:
        self.page.get("/ui/login")
        signed_in = self.page.post("/ui/login", follow_redirects=False, data={
            "name": self.name, "password": PASSWORD,
            "csrf_token": self.page.cookies[LOGIN_CSRF_COOKIE]})
        assert signed_in.status_code == 303, signed_in.text

    def get(self, path: str) -> Any:
        response = self.page.get(path, follow_redirects=False)
        if response.status_code == 303 and "/ui/login" in response.headers["location"]:
            self._sign_in()
            response = self.page.get(path, follow_redirects=False)
        return response

    def save_draft(self, task_id: str, fields: dict[str, str]) -> None:
        opened = self.get(f"/ui/tasks/{task_id}")
        assert opened.status_code == 200, opened.text
        [token] = set(lxml.html.fromstring(opened.text).xpath(
            '//input[@name="csrf_token"]/@value'))
        saved = self.page.post(f"/ui/tasks/{task_id}", follow_redirects=False, data={
            "csrf_token": token, "_action": "save",
            **{f"f.{key}": value for key, value in fields.items()}})
        assert saved.status_code == 303 and "notice=saved" in saved.headers["location"], \
            saved.text
        reopened = self.get(f"/ui/tasks/{task_id}").text  # the draft is kept for its author
        assert all(value in reopened for value in fields.values()), fields


class Walk:
    """One case on one route, checked as every caller after every step."""

    def __init__(self, client: TestClient, make_client: ClientFactory, ctx: ServiceContext,
                 clock: ManualClock, reads: dict[str, set[str]], withheld: set[str]) -> None:
        self.reads, self.withheld = reads, withheld
        self.driver = CaseDriver(client)
        self.driver.deploy()
        self.ctx, self.clock = ctx, clock
        self.staff = {role: make_client(role, name=f"walk-{role}") for role in STAFF}
        self.leads = {agency: self.driver.agency_client(agency)
                      for agency in (*AGENCIES, OUTSIDER)}
        self.walked: set[str] = set()
        self.instances: set[str] = set()
        self.refused: dict[str, set[str]] = {}
        self.processes: set[str] = set()
        self.keys: dict[tuple[str, str], set[str]] = {}
        self.staff_saw: set[str] = set()
        """The markers staff found in task details: proof that the markers reach the data."""
        self.pages = {**{role: Browser(client, ctx, role) for role in DRAFTERS},
                      **{agency: Browser(client, ctx, "agency_lead", agency)
                         for agency in (*AGENCIES, OUTSIDER)}}
        self.drafted: set[str] = set()

    # ---- driving ---------------------------------------------------------------------------

    def refer(self, agencies: list[str] | None = None, **facts: Any) -> None:
        self.driver.refer(agencies=agencies or list(AGENCIES), **facts)
        self.check()

    def step(self, bpmn_id: str, data: dict[str, Any], agency: str | None = None) -> None:
        if agency is not None:
            self._refusals(bpmn_id, data, agency)
        done = self.driver.submit(bpmn_id, data, agency=agency)
        if agency is not None:  # the answer to a completion is need to know too
            assert done["data"] == {}, done["data"]
            self._clean_text(agency, json.dumps(done), f"{bpmn_id}: the completion")
        self.check()

    def _refusals(self, bpmn_id: str, data: dict[str, Any], agency: str) -> None:
        """An invalid form, and another agency submitting the task: neither error leaks."""
        task = next(t for t in self.driver.ready() if t["bpmn_id"] == bpmn_id
                    and t["agency"] == agency)
        refused = self.leads[agency].post(f"/api/v1/tasks/{task['id']}/complete",
                                          json={"data": {}})
        assert refused.status_code == 422, refused.text
        self._clean(agency, refused, f"{bpmn_id}: the invalid form's errors")
        for other in (*AGENCIES, OUTSIDER):
            if other != agency:
                refused = self.leads[other].post(f"/api/v1/tasks/{task['id']}/complete",
                                                 json={"data": data})
                assert refused.status_code == 404, refused.text
                self._clean(other, refused, f"{bpmn_id} of {agency}: the refusal")

    def advise(self, advice: str, recommendation: str | None = None,
               via: str | None = None) -> None:
        """The national panel's advice arrives; `via` an agency's system, if it may send it:
        its answer then carries no process data and only the tasks the agency can see."""
        if via is not None:
            sent = self.leads[via].post("/api/v1/messages", json={
                "name": "national_panel_advice", "business_key": self.driver.reference,
                "data": {"advice": reason(advice), **({"advice_recommendation": recommendation}
                                                       if recommendation else {})}})
            self._clean(via, sent, "the answer to its message")
            if sent.status_code == 200:
                assert sent.json()["data"] == {}, sent.json()["data"]
                assert {t["agency"] for t in sent.json()["ready_tasks"]} <= {via}
                self.check()
                return
            assert sent.status_code in (403, 404), sent.text
        self.driver.national_panel_consulted(reason(advice), recommendation)
        self.check()

    def overdue(self, moment: dt.datetime) -> None:
        """Time passes to `moment` and the worker fires every timer due by then."""
        self.clock.set(moment)
        while timers.fire_due(self.ctx):
            pass
        self.check()

    def weeks_pass(self, weeks: int) -> None:
        """Time passes a week at a time, the worker firing what is due each week."""
        for _ in range(weeks):
            self.clock.set(self.clock.now() + dt.timedelta(days=7))
            while timers.fire_due(self.ctx):
                pass
        self.check()

    def update_actions(self) -> None:
        """Each agency's lead reports progress on its own actions, in its own words."""
        for agency in AGENCIES:
            lead = self.leads[agency]
            found = lead.get("/api/v1/actions", params={"case": self.driver.reference})
            owned = found.json()["items"]
            assert owned and {a["owner_agency"] for a in owned} == {agency}, owned
            for action in owned:
                updated = lead.patch(f"/api/v1/actions/{action['id']}", json={
                    "status": "in_progress", "progress": f"{marker(agency)}: under way"})
                assert updated.status_code == 200, updated.text
                self._clean(agency, updated, "its action's update")
        self.check()

    # ---- checking --------------------------------------------------------------------------

    def check(self) -> None:
        ready = self.driver.ready()
        case = self.driver.case()
        for task in ready:
            self.walked.add(task["bpmn_id"])
            self.instances.add(task["instance_id"])
            self.processes.add(task["process_key"])
            self._task_as_everyone(task, case["agencies"])
            self._draft(task)
        if case.get("referral_instance_id"):
            self.instances.add(case["referral_instance_id"])
        for agency in (*AGENCIES, OUTSIDER):
            self._agency_views(agency, agency in case["agencies"], ready)
            self._agency_pages(agency, agency in case["agencies"], ready)

    def _draft(self, task: dict[str, Any]) -> None:
        """Whoever works the task saves a draft with their marker in every text field."""
        if task["id"] in self.drafted:
            return
        lane, agency = task["lane"], task["agency"]
        if lane in DRAFTERS:
            page, text = self.pages[lane], reason(f"a draft of {task['bpmn_id']}")
        elif lane == "agency_lead" and agency in AGENCIES:
            page, text = self.pages[agency], f"{marker(agency)}: a draft"
        else:
            return
        schema = self.staff["board_manager"].get(f"/api/v1/tasks/{task['id']}").json()[
            "form_schema"] or {}
        fields = {name: text for name, spec in (schema.get("properties") or {}).items()
                  if spec.get("type") == "string" and "enum" not in spec
                  and spec.get("format") in (None, "textarea")}
        page.save_draft(task["id"], fields)
        self.drafted.add(task["id"])

    def _agency_pages(self, agency: str, in_case: bool, ready: list[dict[str, Any]]) -> None:
        page, reference = self.pages[agency], self.driver.reference
        case_page = page.get(f"/ui/cases/{reference}")
        assert case_page.status_code == (200 if in_case else 404), (agency, case_page.text)
        self._clean(agency, case_page, "the case page")
        inbox = page.get("/ui/inbox?tab=agency")
        assert inbox.status_code == 200, (agency, inbox.text)
        self._clean(agency, inbox, "the inbox")
        for task in ready:
            opened = page.get(f"/ui/tasks/{task['id']}")
            assert opened.status_code == (200 if task["agency"] == agency else 404), \
                (agency, task["bpmn_id"])
            self._clean(agency, opened, f"the page of {task['bpmn_id']}")

    def _callers(self, task: dict[str, Any], in_case: list[str],
                 ) -> list[tuple[str, TestClient, int, str | None]]:
        """(who, client, the status they get, their agency) for every role and agency."""
        lane, owner = task["lane"], task["agency"]
        callers: list[tuple[str, TestClient, int, str | None]] = []
        for role, caller in self.staff.items():
            status = 403 if role == "designer" else 200 if role in (
                "board_manager", "auditor") or role == lane else 404
            callers.append((role, caller, status, None))
        for agency in (*in_case, OUTSIDER):
            status = 200 if lane == "agency_lead" and agency == owner else 404
            who = "own" if agency == owner else "other" if agency in in_case else "outsider"
            callers.append((f"agency_lead ({who}: {agency})", self.leads[agency], status,
                            agency))
        return callers

    def _task_as_everyone(self, task: dict[str, Any], in_case: list[str]) -> None:
        bpmn_id = task["bpmn_id"]
        assert bpmn_id in self.reads, f"{bpmn_id} is not in the table: add what it may read"
        for who, caller, status, agency in self._callers(task, in_case):
            response = caller.get(f"/api/v1/tasks/{task['id']}")
            assert response.status_code == status, (bpmn_id, who, response.text)
            if agency is not None:
                self._clean(agency, response, f"{bpmn_id} as {who}")
            else:
                self.staff_saw |= {m for m in (REASONING, *map(marker, AGENCIES))
                                   if m in response.text}
            if status != 200:
                continue
            detail = response.json()
            own = set((detail["form_schema"] or {}).get("properties") or {})
            keys = set(detail["data"])
            allowed = self.reads[bpmn_id] | own
            assert keys <= allowed, (bpmn_id, who, keys - allowed)
            if agency is not None:
                assert not keys & (self.withheld - own), (bpmn_id, who, keys & self.withheld)
                staff_keys = self.keys.get((task["id"], "board_manager"), set())
                assert keys <= staff_keys, (bpmn_id, who, keys - staff_keys)
            self.keys[(task["id"], who)] = keys

    def _agency_views(self, agency: str, in_case: bool, ready: list[dict[str, Any]]) -> None:
        lead, reference = self.leads[agency], self.driver.reference
        for path in ("", "/timeline", "/deadlines"):
            response = lead.get(f"/api/v1/cases/{reference}{path}")
            assert response.status_code == (200 if in_case else 404), (agency, path)
            self._clean(agency, response, f"the case{path}")
        listed = lead.get("/api/v1/cases")
        assert listed.status_code == 200
        self._clean(agency, listed, "the case list")
        assert [c["reference"] for c in listed.json()["items"]] == \
            ([reference] if in_case else [])
        tasks = lead.get("/api/v1/tasks", params={"business_key": reference, "limit": 100})
        assert {t["agency"] for t in tasks.json()["items"]} <= {agency}
        self._clean(agency, tasks, "the task list")
        for instance_id in sorted(self.instances - self.refused.get(agency, set())):
            self.refused.setdefault(agency, set()).add(instance_id)  # by role: once is enough
            for path in ("", "/timeline", "/diagram.svg"):
                response = lead.get(f"/api/v1/instances/{instance_id}{path}")
                assert response.status_code in (403, 404), (agency, path, response.text)
                self._clean(agency, response, f"the instance{path}")
        own = {t["bpmn_id"] for t in ready if t["agency"] == agency}
        for key in sorted(self.processes):
            heat = lead.get(f"/api/v1/definitions/{key}/heat")
            assert heat.status_code == 200, heat.text
            assert set(heat.json()) <= own, (agency, key, heat.json())
            assert all(count == 1 for count in heat.json().values()), heat.json()

    def finish(self) -> None:
        """At the end of the route: the 7-minute briefing, the registers and the decisions
        an agency lead may call."""
        facts, reference = self.driver.case()["facts"], self.driver.reference
        made = self.driver.client.post(f"/api/v1/cases/{reference}/briefing")
        assert made.status_code in (201, 409), made.text  # 409: the route has no findings
        for agency, lead in self.leads.items():
            actions = lead.get("/api/v1/actions", params={"limit": 500})
            assert actions.status_code == 200, actions.text
            assert {a["owner_agency"] for a in actions.json()["items"]} <= {agency}
            self._clean(agency, actions, "the action register")
            for path in ("/api/v1/learning-events", "/api/v1/publications",
                         f"/api/v1/cases/{reference}/briefing",
                         f"/api/v1/cases/{reference}/briefing.html"):
                self._clean(agency, lead.get(path), path)
            evaluated = lead.post("/api/v1/decisions/grading/evaluate", json={"data": facts})
            assert evaluated.status_code == 200, evaluated.text
            self._clean(agency, evaluated, "the grading decision")

    def _clean(self, agency: str, response: Any, what: str) -> None:
        self._clean_text(agency, response.text, what)

    def _clean_text(self, agency: str, text: str, what: str) -> None:
        leaked = [m for m in (REASONING, *(marker(a) for a in AGENCIES if a != agency))
                  if m in text]
        assert not leaked, f"the {agency} lead receives {leaked} in {what}: {text[:800]}"
