"""The audit log: every read of case data and every mutation, denials with their reason, 401s
without an actor; GET /api/v1/audit and its filters; append-only through the API and, on
PostgreSQL, in the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from app.clock import ManualClock
from tests.conftest import START, ClientFactory
from tests.routes.driver import CaseDriver
from tests.security import app_routes, assert_no_leak


@dataclass
class Scene:
    staff: TestClient  # name "tester"
    auditor: TestClient  # name "auditor"
    driver: CaseDriver
    instance_id: str
    task_id: str

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        response = self.auditor.get("/api/v1/audit", params={"limit": 1000, **filters})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"]), "raise the limit"
        return list(body["items"])


@pytest.fixture
def scene(client: TestClient, make_client: ClientFactory) -> Scene:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True)
    [task] = driver.ready()
    case = driver.case()
    return Scene(staff=client, auditor=make_client("auditor", name="auditor"), driver=driver,
                 instance_id=case["referral_instance_id"], task_id=task["id"])


def test_reads_of_case_data_are_logged(scene: Scene) -> None:
    reference = scene.driver.reference
    reads = {  # path -> (action, target type, target id)
        f"/api/v1/cases/{reference}": ("get_case", "case", reference),
        f"/api/v1/cases/{reference}/timeline": ("get_case_timeline", "case", reference),
        f"/api/v1/tasks/{scene.task_id}": ("get_task", "task", scene.task_id),
        f"/api/v1/instances/{scene.instance_id}": ("get_instance", "instance",
                                                   scene.instance_id),
        f"/api/v1/instances/{scene.instance_id}/timeline": ("get_timeline", "instance",
                                                            scene.instance_id),
        "/api/v1/definitions/referral/versions/1/xml": ("get_version_xml", "definition",
                                                        "referral"),
    }
    baseline = max(entry["id"] for entry in scene.audit())
    for path in reads:
        assert scene.staff.get(path).status_code == 200, path
    for path, (action, target_type, target_id) in reads.items():
        entries = [e for e in scene.audit(actor="tester", action=action)
                   if e["path"] == path and e["id"] > baseline]
        assert len(entries) == 1, (path, entries)
        [entry] = entries
        assert entry["method"] == "GET"
        assert (entry["target_type"], entry["target_id"]) == (target_type, target_id), entry
        assert (entry["outcome"], entry["status"]) == ("allowed", 200)
        assert entry["at"] == START.isoformat().replace("+00:00", "Z")
        assert "board_manager" in entry["roles"] and entry["agency"] is None


def test_mutations_are_logged(scene: Scene) -> None:
    [referral] = scene.audit(action="create_referral")
    assert (referral["actor"], referral["method"], referral["status"], referral["outcome"]) == \
        ("tester", "POST", 201, "allowed")
    assert referral["target_type"] == "case"
    scene.driver.screen("concise")
    [completion] = scene.audit(action="complete_task")
    assert (completion["target_type"], completion["target_id"]) == ("task", scene.task_id)
    assert completion["path"] == f"/api/v1/tasks/{scene.task_id}/complete"
    deployments = scene.audit(action="create_deployment")
    assert [(e["actor"], e["status"]) for e in deployments] == [("tester", 201)]


def test_denied_requests_are_logged_with_the_reason(scene: Scene,
                                                    make_client: ClientFactory) -> None:
    education = make_client("agency_lead", agency="education", name="education-lead")
    refused = education.get(f"/api/v1/cases/{scene.driver.reference}")
    assert refused.status_code == 404  # answered as missing; the log keeps the reason
    reviewer = make_client("reviewer", name="a-reviewer")
    not_for_you = reviewer.get("/api/v1/audit")
    assert not_for_you.status_code == 403

    [entry] = scene.audit(actor="education-lead")
    assert (entry["outcome"], entry["status"], entry["action"]) == ("denied", 404, "get_case")
    assert (entry["target_type"], entry["target_id"]) == ("case", scene.driver.reference)
    assert entry["agency"] == "education" and entry["roles"] == ["agency_lead"]
    assert entry["detail"]["reason"] != refused.json()["detail"]
    assert "education" in entry["detail"]["reason"]
    [entry] = scene.audit(actor="a-reviewer")
    assert (entry["outcome"], entry["status"], entry["action"]) == ("denied", 403, "list_audit")
    assert entry["target_type"] == "audit_log"
    assert entry["detail"]["reason"] == not_for_you.json()["detail"]


def test_unauthenticated_requests_are_logged_without_an_actor(scene: Scene) -> None:
    anonymous = TestClient(scene.staff.app)
    assert anonymous.get(f"/api/v1/cases/{scene.driver.reference}").status_code == 401
    bad = anonymous.post("/api/v1/referrals", json={},
                         headers={"Authorization": "Bearer rf_000000000000_nope"})
    assert bad.status_code == 401
    entries = scene.audit(outcome="denied")
    anonymous_entries = [e for e in entries if e["status"] == 401]
    assert len(anonymous_entries) == 2, entries
    for entry in anonymous_entries:
        assert entry["actor"] is None and entry["roles"] == [] and entry["agency"] is None
    assert {(e["method"], e["path"]) for e in anonymous_entries} == {
        ("GET", f"/api/v1/cases/{scene.driver.reference}"), ("POST", "/api/v1/referrals")}
    assert next(e for e in anonymous_entries if e["method"] == "GET")["target_id"] == \
        scene.driver.reference


def test_requests_with_a_nul_byte_in_the_path_are_logged_too(scene: Scene) -> None:
    """A NUL byte cannot be stored in a PostgreSQL text column; the request must still leave a
    trace (with the byte escaped or replaced), or a probe could hide from the log."""
    baseline = max(entry["id"] for entry in scene.audit())
    anonymous = TestClient(scene.staff.app, raise_server_exceptions=False)
    assert anonymous.get("/api/v1/cases/LIR-2026-%00").status_code == 401
    staff = TestClient(scene.staff.app, raise_server_exceptions=False,
                       headers=dict(scene.staff.headers))
    staff.get("/api/v1/tasks/%00")
    new = [(e["actor"], e["method"], e["path"][:14], e["status"])
           for e in scene.audit() if e["id"] > baseline and e["actor"] != "auditor"]
    assert [(actor, path) for actor, _m, path, _s in new] == [
        (None, "/api/v1/cases/"), ("tester", "/api/v1/tasks/")], new


def test_audit_filters(scene: Scene, make_client: ClientFactory, clock: ManualClock) -> None:
    reference = scene.driver.reference
    early = clock.now()
    scene.staff.get(f"/api/v1/cases/{reference}")
    clock.advance(dt.timedelta(hours=2))
    late = clock.now()
    scene.staff.get(f"/api/v1/cases/{reference}")
    scene.staff.get(f"/api/v1/tasks/{scene.task_id}")
    education = make_client("agency_lead", agency="education", name="education-lead")
    education.get(f"/api/v1/cases/{reference}")
    clock.advance(dt.timedelta(hours=2))

    everything = scene.audit()
    assert len(everything) > 5
    by_actor = scene.audit(actor="education-lead")
    assert [e["actor"] for e in by_actor] == ["education-lead"]
    by_action = scene.audit(action="get_case")
    assert len(by_action) == 4  # the fixture's, the staff's two and the education lead's
    assert {e["action"] for e in by_action} == {"get_case"}
    by_type = scene.audit(target_type="task")
    assert by_type and {e["target_type"] for e in by_type} == {"task"}
    by_id = scene.audit(target_type="case", target_id=reference)
    assert {e["target_id"] for e in by_id} == {reference}
    assert {e["action"] for e in by_id} >= {"get_case"}
    denied = scene.audit(outcome="denied")
    assert [e["actor"] for e in denied] == ["education-lead"]
    allowed = scene.audit(outcome="allowed")
    assert {e["outcome"] for e in allowed} == {"allowed"}
    assert len(allowed) + len(denied) <= len(scene.audit())

    window = {"since": (early + dt.timedelta(hours=1)).isoformat(),
              "until": (late + dt.timedelta(hours=1)).isoformat()}
    in_window = scene.audit(actor="tester", **window)
    assert [(e["action"], e["at"]) for e in in_window] == [
        ("get_case", "2026-03-02T11:00:00Z"), ("get_task", "2026-03-02T11:00:00Z")]
    before = scene.audit(actor="tester", until=(early + dt.timedelta(hours=1)).isoformat())
    assert before and all(e["at"] == "2026-03-02T09:00:00Z" for e in before)
    assert scene.audit(since=(late + dt.timedelta(hours=1)).isoformat(),
                       actor="tester") == []
    combined = scene.audit(actor="tester", action="get_case", since=window["since"])
    assert len(combined) == 1

    page = scene.auditor.get("/api/v1/audit", params={"limit": 2, "offset": 1}).json()
    assert [e["id"] for e in page["items"]] == [e["id"] for e in everything[1:3]]
    assert [e["id"] for e in everything] == sorted(e["id"] for e in everything)


ROLES = ("board_manager", "chair", "panel_member", "reviewer", "agency_lead", "designer",
         "auditor", "admin")


def test_only_auditors_and_admins_read_the_log(scene: Scene, make_client: ClientFactory) -> None:
    for role in ROLES:
        caller = make_client(role, agency="police" if role == "agency_lead" else None,
                             name=f"only-{role}")
        response = caller.get("/api/v1/audit")
        expected = 200 if role in ("auditor", "admin") else 403
        assert response.status_code == expected, (role, response.text)
        assert_no_leak(response)
        if expected == 403:
            assert response.json()["code"] == "forbidden" and response.json()["detail"]
            assert "items" not in response.json()


def test_no_route_changes_or_deletes_entries(scene: Scene, make_client: ClientFactory) -> None:
    audit_routes = {(m, p) for m, p in app_routes(scene.staff.app)  # type: ignore[arg-type]
                    if p.startswith("/api/v1/audit")}
    assert audit_routes == {("GET", "/api/v1/audit")}
    before = scene.audit()
    admin = make_client("admin", name="admin")
    first = before[0]["id"]
    for caller in (scene.auditor, admin):
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            response = caller.request(method, "/api/v1/audit", json={"actor": "nobody"})
            assert response.status_code == 405, (method, response.text)
            assert_no_leak(response)
            for path in (f"/api/v1/audit/{first}", f"/api/v1/audit?id={first}"):
                response = caller.request(method, path, json={"actor": "nobody"})
                assert response.status_code in (404, 405), (method, path, response.text)
    after = scene.audit()
    assert after[:len(before)] == before, "existing entries changed"


def test_database_refuses_to_update_or_delete_entries(scene: Scene, database_url: str) -> None:
    before = scene.audit()
    assert before, "the trigger is per row: there must be rows to touch"
    statements = ["UPDATE audit_log SET actor = 'someone else'",
                  f"UPDATE audit_log SET detail = '{{}}' WHERE id = {before[-1]['id']}",
                  "DELETE FROM audit_log",
                  f"DELETE FROM audit_log WHERE id = {before[0]['id']}"]
    if database_url.startswith("postgresql"):
        statements += ["TRUNCATE audit_log", "TRUNCATE audit_log RESTART IDENTITY CASCADE"]
    engine = create_engine(database_url)
    try:
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
    finally:
        engine.dispose()
    assert scene.audit()[:len(before)] == before
