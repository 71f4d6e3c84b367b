"""Validation reports every problem at once: file, line, element and a plain reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, ROOT, demo_files

BROKEN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
  targetNamespace="http://reviewflow.example/tests">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:laneSet id="lanes"><bpmn:lane id="lane_chair" name="chair">
      <bpmn:flowNodeRef>laned</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="laneless" name="No lane">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="missing.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="choose" name="Which?">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:scriptTask id="bad_script" name="Escape">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:script>import os</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:callActivity id="call_nowhere" name="Call" calledElement="nowhere">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:serviceTask id="no_operator" name="Service">
      <bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f7</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:complexGateway id="complex" name="Complex">
      <bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f8</bpmn:outgoing>
    </bpmn:complexGateway>
    <bpmn:userTask id="laned" name="With lane">
      <bpmn:incoming>f7</bpmn:incoming><bpmn:incoming>f8</bpmn:incoming>
      <bpmn:outgoing>f9</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f9</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="laneless" />
    <bpmn:sequenceFlow id="f2" sourceRef="laneless" targetRef="choose" />
    <bpmn:sequenceFlow id="f3" sourceRef="choose" targetRef="bad_script">
      <bpmn:conditionExpression>x ==</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="choose" targetRef="call_nowhere" />
    <bpmn:sequenceFlow id="f5" sourceRef="bad_script" targetRef="no_operator" />
    <bpmn:sequenceFlow id="f6" sourceRef="call_nowhere" targetRef="complex" />
    <bpmn:sequenceFlow id="f7" sourceRef="no_operator" targetRef="laned" />
    <bpmn:sequenceFlow id="f8" sourceRef="complex" targetRef="laned" />
    <bpmn:sequenceFlow id="f9" sourceRef="laned" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""

EXPECTED = {
    "laneless": "is in no lane",
    "choose": "without a condition",
    "f3": "does not compile",
    "bad_script": "import statements are not allowed",
    "call_nowhere": "calls 'nowhere'",
    "no_operator": "names no operator",
    "complex": "complex gateways",
}


def dry_run(client: TestClient, *named: tuple[str, bytes]) -> dict:
    response = client.post("/api/v1/deployments", params={"dry_run": "true"},
                           files=[("files", (n, c, "application/xml")) for n, c in named])
    assert response.status_code == 200, response.text
    return response.json()


def test_dry_run_reports_every_problem_and_deploys_nothing(client: TestClient) -> None:
    report = dry_run(client, ("broken.bpmn", BROKEN), ("bad.schema.json", b'{"type": 5}'))
    assert report["valid"] is False
    files = {f["file"]: f for f in report["files"]}
    assert files["broken.bpmn"]["deployable"] is False
    assert files["broken.bpmn"]["processes"] == ["broken"]
    problems = files["broken.bpmn"]["problems"]
    for element_id, words in EXPECTED.items():
        matching = [p for p in problems if p["element_id"] == element_id and words in p["reason"]]
        assert matching, f"no problem for {element_id} ({words}) in {problems}"
        assert matching[0]["line"] is not None
    assert any("missing.schema.json" in p["reason"] for p in problems)
    assert "JSON Schema" in files["bad.schema.json"]["problems"][0]["reason"]
    assert client.get("/api/v1/definitions").json() == []

    refused = client.post("/api/v1/deployments",
                          files=[("files", ("broken.bpmn", BROKEN, "application/xml"))])
    assert refused.status_code == 422
    assert len(refused.json()["problems"]) >= len(EXPECTED)


def test_dry_run_of_good_files_is_valid(client: TestClient) -> None:
    report = dry_run(client, *[(p.name, p.read_bytes()) for p in demo_files()])
    assert report["valid"] is True
    [bpmn] = [f for f in report["files"] if f["file"] == "demo_triage.bpmn"]
    assert bpmn["deployable"] is True and bpmn["problems"] == []
    assert client.get("/api/v1/definitions").json() == []


def test_schema_errors_and_unknown_operators(client: TestClient) -> None:
    bad = (FIXTURES / "timers.bpmn").read_bytes().replace(
        b'<spiffworkflow:serviceTaskOperator id="notify"',
        b'<spiffworkflow:serviceTaskOperator id="send_fax"').replace(
        b"<bpmn:endEvent id=\"end\">", b"<bpmn:endEvent id=\"end\"><bpmn:bogus/>")
    report = dry_run(client, ("timers.bpmn", bad))
    reasons = [p["reason"] for p in report["files"][0]["problems"]]
    assert any("send_fax" in r and "does not exist" in r for r in reasons)
    assert any("BPMN schema" in r and "bogus" in r for r in reasons)


def test_cli_validate_reports_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "broken.bpmn").write_bytes(BROKEN)
    (tmp_path / "divide.bpmn").write_bytes((FIXTURES / "divide.bpmn").read_bytes())
    env = {**os.environ, "REVIEWFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run([sys.executable, "-m", "app.cli", "validate", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, env=env)
    assert result.returncode == 1
    assert "broken.bpmn:" in result.stdout and "[call_nowhere]" in result.stdout
    table = result.stdout.split("file ")[1]
    assert "divide.bpmn" in table and "broken.bpmn" in table
    assert "deployable" in result.stdout
    good = subprocess.run([sys.executable, "-m", "app.cli", "validate", "processes"],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert good.returncode == 0, good.stdout
    assert "0 problem(s)" in good.stdout


def test_flows_to_nowhere_are_reported_with_every_other_problem(client: TestClient) -> None:
    broken = BROKEN.replace(b'targetRef="end"', b'targetRef="nowhere"')
    report = dry_run(client, ("broken.bpmn", broken))
    problems = report["files"][0]["problems"]
    assert any(p["element_id"] == "f9" and "nowhere" in p["reason"] for p in problems)
    assert any(p["element_id"] == "laneless" for p in problems)
