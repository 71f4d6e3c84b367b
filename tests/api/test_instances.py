"""Starting, reading, listing, terminating instances; the timeline they leave."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import demo_files, upload


def start(client: TestClient, business_key: str = "LIR-2026-0001", **data: object) -> dict:
    response = client.post("/api/v1/instances", json={
        "process_key": "demo_triage", "business_key": business_key,
        "data": {"child_died": False, "seriously_harmed": True, **data}})
    assert response.status_code == 201, response.text
    return response.json()


def test_start_runs_to_first_wait_state(client: TestClient) -> None:
    upload(client, *demo_files())
    body = start(client)
    assert body["status"] == "running"
    assert body["process_key"] == "demo_triage"
    assert body["version"] == 1
    assert body["business_key"] == "LIR-2026-0001"
    assert body["data"]["grade"] == "severe"
    [task] = body["ready_tasks"]
    assert (task["bpmn_id"], task["lane"], task["state"]) == (
        "screen_referral", "panel_member", "ready")

    fetched = client.get(f"/api/v1/instances/{body['id']}").json()
    assert fetched["ready_tasks"] == body["ready_tasks"]
    assert fetched["data"] == body["data"]


def test_instances_stay_on_their_version(client: TestClient) -> None:
    upload(client, *demo_files())
    old = start(client)
    changed = demo_files()[0].read_bytes().replace(b"Screen the referral", b"Screen it")
    files = [("files", ("demo_triage.bpmn", changed, "application/xml"))] + [
        ("files", (p.name, p.read_bytes(), "application/xml")) for p in demo_files()[1:]]
    assert client.post("/api/v1/deployments", files=files).status_code == 201
    new = start(client, business_key="LIR-2026-0002")
    assert (old["version"], new["version"]) == (1, 2)
    assert new["ready_tasks"][0]["title"] == "Screen it"
    task = old["ready_tasks"][0]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete",
                       json={"data": {"review_needed": False, "reason": "no concern"}})
    assert done.status_code == 200
    assert done.json()["version"] == 1
    assert done.json()["status"] == "completed"


def test_list_filters_and_paginates(client: TestClient) -> None:
    upload(client, *demo_files())
    ids = [start(client, business_key=f"LIR-{n}")["id"] for n in range(5)]
    client.post(f"/api/v1/instances/{ids[0]}/terminate")
    page = client.get("/api/v1/instances", params={"limit": 2}).json()
    assert page["total"] == 5 and page["limit"] == 2 and len(page["items"]) == 2
    rest = client.get("/api/v1/instances", params={"limit": 10, "offset": 2}).json()
    assert len(rest["items"]) == 3
    assert not {i["id"] for i in page["items"]} & {i["id"] for i in rest["items"]}
    running = client.get("/api/v1/instances", params={"status": "running"}).json()
    assert running["total"] == 4
    terminated = client.get("/api/v1/instances", params={"status": "terminated"}).json()
    assert [i["id"] for i in terminated["items"]] == [ids[0]]
    by_key = client.get("/api/v1/instances", params={"business_key": "LIR-3"}).json()
    assert [i["id"] for i in by_key["items"]] == [ids[3]]
    assert client.get("/api/v1/instances",
                      params={"process_key": "other"}).json()["total"] == 0


def test_bad_input_is_422_naming_the_field(client: TestClient) -> None:
    upload(client, *demo_files())
    response = client.post("/api/v1/instances", json={"business_key": "x", "data": []})
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"process_key", "data"}
    response = client.get("/api/v1/instances", params={"status": "sleeping"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
    response = client.post("/api/v1/instances", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_unknown_process_and_instance_are_404(client: TestClient) -> None:
    response = client.post("/api/v1/instances", json={"process_key": "nope"})
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]
    for path in ("/api/v1/instances/abc", "/api/v1/instances/abc/timeline"):
        assert client.get(path).status_code == 404
    assert client.post("/api/v1/instances/abc/terminate").status_code == 404


def test_terminate_cancels_tasks_and_is_final(client: TestClient) -> None:
    upload(client, *demo_files())
    body = start(client)
    response = client.post(f"/api/v1/instances/{body['id']}/terminate",
                           json={"reason": "referral withdrawn"})
    assert response.status_code == 200
    assert response.json()["status"] == "terminated"
    assert response.json()["ready_tasks"] == []
    task_id = body["ready_tasks"][0]["id"]
    assert client.get(f"/api/v1/tasks/{task_id}").json()["state"] == "cancelled"
    again = client.post(f"/api/v1/instances/{body['id']}/terminate")
    assert again.status_code == 409
    complete = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}})
    assert complete.status_code == 409
    types = [e["type"] for e in client.get(f"/api/v1/instances/{body['id']}/timeline").json()]
    assert types[-3:] == ["termination_requested", "task_cancelled", "terminated"]


def test_timeline_records_the_whole_path(client: TestClient) -> None:
    upload(client, *demo_files())
    body = start(client)
    screen = body["ready_tasks"][0]["id"]
    after = client.post(f"/api/v1/tasks/{screen}/complete",
                        json={"data": {"review_needed": True, "reason": "concern"}}).json()
    endorse = after["ready_tasks"][0]
    assert endorse["bpmn_id"] == "endorse_review" and endorse["lane"] == "chair"
    final = client.post(f"/api/v1/tasks/{endorse['id']}/complete",
                        json={"data": {"endorsed": True}}).json()
    assert final["status"] == "completed"
    assert final["data"]["decision"] == "review"
    assert final["ready_tasks"] == []

    events = client.get(f"/api/v1/instances/{body['id']}/timeline").json()
    assert [e["type"] for e in events] == [
        "started", "decision_evaluated", "task_ready", "task_completed", "gateway_path",
        "task_ready", "task_completed", "completed"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    decision = events[1]
    assert decision["element_id"] == "grade_referral"
    assert decision["detail"]["outputs"] == {"grade": "severe"}
    assert decision["detail"]["matched_rules"] == ["rule_harmed"]
    completed = events[3]
    assert completed["actor"] == "tester"
    assert completed["task_id"] == screen
    assert completed["detail"]["fields"] == ["reason", "review_needed"]
    assert events[4]["detail"]["taken"] == ["endorse_review"]
    later = client.get(f"/api/v1/instances/{body['id']}/timeline",
                       params={"after_id": events[5]["id"]}).json()
    assert [e["type"] for e in later] == ["task_completed", "completed"]
