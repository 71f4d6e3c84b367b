"""A failing script rolls the whole step back and tells the caller which element failed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, upload


def test_script_failure_rolls_back_and_is_recorded(client: TestClient) -> None:
    upload(client, FIXTURES / "divide.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "divide"}).json()
    task = body["ready_tasks"][0]
    before = client.get(f"/api/v1/instances/{body['id']}").json()

    response = client.post(f"/api/v1/tasks/{task['id']}/complete",
                           json={"data": {"divisor": 0}})
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "step_failed"
    assert error["element_id"] == "divide_step"
    assert error["element_name"] == "Divide"
    assert "division by zero" in error["message"]
    assert "Traceback" not in response.text and "File \"" not in response.text

    after = client.get(f"/api/v1/instances/{body['id']}").json()
    assert after["status"] == "running"
    assert after["data"] == before["data"]
    assert [t["id"] for t in after["ready_tasks"]] == [task["id"]]
    assert client.get(f"/api/v1/tasks/{task['id']}").json()["state"] == "ready"
    events = client.get(f"/api/v1/instances/{body['id']}/timeline").json()
    assert [e["type"] for e in events] == ["started", "task_ready", "error"]
    assert events[-1]["element_id"] == "divide_step"
    assert events[-1]["task_id"] == task["id"]

    ok = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"divisor": 4}})
    assert ok.status_code == 200
    assert ok.json()["data"]["result"] == 2.5


AT_START = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="http://reviewflow.example/tests">
  <bpmn:process id="divide_at_start" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="divide_step" name="Divide"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>result = 10 / divisor</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="divide_step" />
    <bpmn:sequenceFlow id="f2" sourceRef="divide_step" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


def test_failure_at_start_creates_nothing(client: TestClient) -> None:
    response = client.post("/api/v1/deployments",
                           files=[("files", ("at_start.bpmn", AT_START, "application/xml"))])
    assert response.status_code == 201, response.text
    start = client.post("/api/v1/instances", json={"process_key": "divide_at_start",
                                                   "data": {"divisor": 0}})
    assert start.status_code == 422
    assert start.json()["element_id"] == "divide_step"
    assert client.get("/api/v1/instances").json()["total"] == 0
    done = client.post("/api/v1/instances", json={"process_key": "divide_at_start",
                                                  "data": {"divisor": 5}})
    assert done.status_code == 201
    assert done.json()["status"] == "completed"
    assert done.json()["data"]["result"] == 2


def test_data_that_cannot_be_saved_is_a_step_error(client: TestClient) -> None:
    bpmn = AT_START.replace(b"result = 10 / divisor", b"result = range(3)").replace(
        b'id="divide_at_start"', b'id="set_maker"')
    response = client.post("/api/v1/deployments",
                           files=[("files", ("sets.bpmn", bpmn, "application/xml"))])
    assert response.status_code == 201, response.text
    start = client.post("/api/v1/instances", json={"process_key": "set_maker"})
    assert start.status_code == 422
    assert "cannot be saved" in start.json()["detail"]
    assert client.get("/api/v1/instances").json()["total"] == 0
