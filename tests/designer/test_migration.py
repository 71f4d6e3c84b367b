"""Version history with diffs, and migrating running instances to a newer version."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import FIXTURES

V1 = (FIXTURES / "parallel_review.bpmn").read_bytes()
V2 = V1.replace(b'name="Sign off"', b'name="Sign off the review"').replace(
    b'<bpmn:sequenceFlow id="f7" sourceRef="sign_off" targetRef="end" />',
    b'<bpmn:sequenceFlow id="f7" sourceRef="sign_off" targetRef="stamp" />'
    b'<bpmn:scriptTask id="stamp" name="Stamp"><bpmn:incoming>f7</bpmn:incoming>'
    b'<bpmn:outgoing>f8</bpmn:outgoing><bpmn:script>stamped = True</bpmn:script>'
    b'</bpmn:scriptTask><bpmn:sequenceFlow id="f8" sourceRef="stamp" targetRef="end" />'
).replace(b'<bpmn:endEvent id="end"><bpmn:incoming>f7</bpmn:incoming>',
          b'<bpmn:endEvent id="end"><bpmn:incoming>f8</bpmn:incoming>')
V3 = V1.replace(  # the panel's view is gone: the split goes straight to the join
    b'<bpmn:userTask id="panel_view" name="Panel view"><bpmn:incoming>f2</bpmn:incoming>'
    b'<bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>', b"").replace(
    b'<bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="panel_view" />',
    b'<bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="join" />').replace(
    b'<bpmn:sequenceFlow id="f4" sourceRef="panel_view" targetRef="join" />', b"").replace(
    b"<bpmn:flowNodeRef>panel_view</bpmn:flowNodeRef>", b"").replace(
    b"<bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming>",
    b"<bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f5</bpmn:incoming>").replace(
    b"<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing>",
    b"<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing>")


def deploy(client: TestClient, content: bytes) -> int:
    response = client.post("/api/v1/deployments", files=[
        ("files", ("parallel_review.bpmn", content, "application/xml"))])
    assert response.status_code == 201, response.text
    return response.json()["processes"][0]["version"]


def start(client: TestClient) -> dict:
    return client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()


def complete(client: TestClient, instance_id: str, bpmn_id: str) -> dict:
    body = client.get(f"/api/v1/instances/{instance_id}").json()
    task = next(t for t in body["ready_tasks"] if t["bpmn_id"] == bpmn_id)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    assert response.status_code == 200, response.text
    return response.json()


def test_history_shows_who_deployed_what_and_the_changes(client: TestClient) -> None:
    deploy(client, V1)
    deploy(client, V2)
    history = client.get("/api/v1/definitions/parallel_review/versions").json()
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["changes_from_previous"] is None
    assert history[1]["deployed_by"] == "tester"
    changes = history[1]["changes_from_previous"]
    assert changes["added"] == ["stamp"]
    assert changes["removed"] == []
    assert "sign_off" in changes["changed"]
    diff = client.get("/api/v1/definitions/parallel_review/diff",
                      params={"from": 1, "to": 2}).json()
    assert diff == changes
    assert client.get("/api/v1/definitions/parallel_review/diff",
                      params={"from": 1, "to": 9}).status_code == 404


def test_compatible_instance_migrates_and_runs_the_new_version(client: TestClient) -> None:
    deploy(client, V1)
    old = start(client)
    complete(client, old["id"], "panel_view")
    deploy(client, V2)
    dry = client.post(f"/api/v1/instances/{old['id']}/migrate", json={"dry_run": True}).json()
    assert dry == {"instance_id": old["id"], "from_version": 1, "to_version": 2,
                   "blockers": [], "migrated": False}
    moved = client.post(f"/api/v1/instances/{old['id']}/migrate", json={})
    assert moved.status_code == 200, moved.text
    assert moved.json()["migrated"] is True
    after = client.get(f"/api/v1/instances/{old['id']}").json()
    assert after["version"] == 2
    assert [t["bpmn_id"] for t in after["ready_tasks"]] == ["chair_view"]
    complete(client, old["id"], "chair_view")
    final = complete(client, old["id"], "sign_off")
    assert final["status"] == "completed" and final["data"]["stamped"] is True
    events = client.get(f"/api/v1/instances/{old['id']}/timeline").json()
    [migrated] = [e for e in events if e["type"] == "migrated"]
    assert migrated["detail"] == {"from_version": 1, "to_version": 2}
    again = client.post(f"/api/v1/instances/{old['id']}/migrate", json={})
    assert again.status_code == 409  # completed


def test_incompatible_instance_is_refused_with_the_blocking_elements(
        client: TestClient) -> None:
    deploy(client, V1)
    waiting = start(client)  # panel_view is ready
    done_panel = start(client)
    complete(client, done_panel["id"], "panel_view")  # panel_view has run
    untouched = start(client)
    complete(client, untouched["id"], "chair_view")
    deploy(client, V3)
    refused = client.post(f"/api/v1/instances/{waiting['id']}/migrate", json={})
    assert refused.status_code == 409
    assert refused.json()["blockers"] == ["panel_view"]
    assert "panel_view" in refused.json()["detail"]
    assert client.get(f"/api/v1/instances/{waiting['id']}").json()["version"] == 1

    dry = client.post("/api/v1/definitions/parallel_review/migrate", json={}).json()
    assert dry["dry_run"] is True and dry["migrated"] == 0 and dry["blocked"] == 3
    assert all(r["blockers"] == ["panel_view"] for r in dry["results"])
    same = client.post(f"/api/v1/instances/{waiting['id']}/migrate", json={"to_version": 1})
    assert same.status_code == 422 and same.json()["field"] == "to_version"


def test_bulk_migration_moves_what_can_move(client: TestClient) -> None:
    deploy(client, V1)
    ids = [start(client)["id"] for _ in range(3)]
    deploy(client, V2)
    result = client.post("/api/v1/definitions/parallel_review/migrate",
                         json={"dry_run": False, "from_version": 1}).json()
    assert result["migrated"] == 3 and result["blocked"] == 0
    assert {r["instance_id"] for r in result["results"]} == set(ids)
    for instance_id in ids:
        assert client.get(f"/api/v1/instances/{instance_id}").json()["version"] == 2
