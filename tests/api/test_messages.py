"""Messages from outside, and failures in steps that no caller waits for."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, upload


def start_waiting(client: TestClient, key: str = "CASE-1") -> dict:
    upload(client, FIXTURES / "message_wait.bpmn")
    response = client.post("/api/v1/instances", json={"process_key": "message_wait",
                                                      "business_key": key})
    assert response.status_code == 201
    return response.json()


def send(client: TestClient, key: str = "CASE-1", name: str = "agency_response", **data: object):
    return client.post("/api/v1/messages", json={"name": name, "business_key": key, "data": data})


def test_message_is_delivered_and_payload_lands_in_data(client: TestClient) -> None:
    body = start_waiting(client)
    assert body["status"] == "waiting" and body["ready_tasks"] == []
    response = send(client, answer_count=4, agency="police")
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["id"] == body["id"]
    assert after["status"] == "running"
    assert after["data"]["agency"] == "police"
    assert after["data"]["per_record"] == 25
    assert [t["bpmn_id"] for t in after["ready_tasks"]] == ["read_answer"]
    types = [e["type"] for e in client.get(f"/api/v1/instances/{body['id']}/timeline").json()]
    assert types == ["started", "message_received", "task_ready"]
    assert send(client, answer_count=1).status_code == 404


def test_message_with_no_waiting_instance_is_404(client: TestClient) -> None:
    start_waiting(client)
    for key, name in (("CASE-2", "agency_response"), ("CASE-1", "other")):
        response = send(client, key=key, name=name, answer_count=1)
        assert response.status_code == 404
        assert name in response.json()["detail"]
    assert client.post("/api/v1/messages", json={"name": "", "business_key": "x"}).status_code \
        == 422


def test_failure_after_message_parks_instance_in_error_and_retry_fixes(
        client: TestClient) -> None:
    body = start_waiting(client)
    response = send(client, answer_count=0)
    assert response.status_code == 200
    failed = response.json()
    assert failed["status"] == "error"
    assert failed["error"]["element_id"] == "check_answer"
    assert "division by zero" in failed["error"]["message"]
    assert "Traceback" not in response.text
    listed = client.get("/api/v1/instances", params={"status": "error"}).json()
    assert [i["id"] for i in listed["items"]] == [body["id"]]

    still = client.post(f"/api/v1/instances/{body['id']}/retry")
    assert still.status_code == 422
    assert still.json()["element_id"] == "check_answer"
    assert client.get(f"/api/v1/instances/{body['id']}").json()["status"] == "error"

    fixed = client.post(f"/api/v1/instances/{body['id']}/retry",
                        json={"data": {"answer_count": 2}})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "running"
    assert fixed.json()["error"] is None
    assert fixed.json()["data"]["per_record"] == 50
    types = [e["type"] for e in client.get(f"/api/v1/instances/{body['id']}/timeline").json()]
    assert types == ["started", "message_received", "error", "error", "retried", "task_ready"]
    again = client.post(f"/api/v1/instances/{body['id']}/retry")
    assert again.status_code == 409
