"""Every scenario in processes/scenarios passes; failures and bad scenarios are reported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.conftest import PROCESSES, ROOT, route_files, upload

SCENARIOS = sorted((PROCESSES / "scenarios").glob("*.yaml"))


def scenario(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_passes_against_the_deployed_routes(client: TestClient, path: Path) -> None:
    upload(client, *route_files())
    body = scenario(path)
    response = client.post(f"/api/v1/definitions/{body['process']}/simulate", json=body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["failures"] == [] and report["passed"] is True
    assert report["path"]
    assert client.get("/api/v1/instances").json()["total"] == 0  # nothing was stored


def test_failed_expectations_are_listed(client: TestClient) -> None:
    upload(client, *route_files())
    body = scenario(PROCESSES / "scenarios" / "demo_triage.yaml")
    body["expect"] = {"status": "waiting", "path": ["no_such_element"],
                      "decisions": {"grade_referral": {"grade": "low"}}}
    body["steps"].append({"task": "not_a_task", "data": {}})
    report = client.post("/api/v1/definitions/demo_triage/simulate", json=body).json()
    assert report["passed"] is False
    failures = "\n".join(report["failures"])
    assert "step 3: task 'not_a_task' is not ready" in failures
    assert "expected status waiting, got completed" in failures
    assert "no_such_element" in failures
    assert "grade = 'low', got 'severe'" in failures


def test_form_errors_fail_the_step(client: TestClient) -> None:
    upload(client, *route_files())
    body = scenario(PROCESSES / "scenarios" / "demo_triage.yaml")
    body["steps"][0]["data"] = {"review_needed": True}
    report = client.post("/api/v1/definitions/demo_triage/simulate", json=body).json()
    assert report["passed"] is False
    assert "rejects the answer: reason" in report["failures"][0]


def test_bad_scenarios_and_unknown_process(client: TestClient) -> None:
    upload(client, *route_files())
    bad = client.post("/api/v1/definitions/demo_triage/simulate",
                      json={"steps": [{"task": "a", "wait": "P1D"}], "colour": 1})
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert "colour" in fields and any(f.startswith("steps.0") for f in fields)
    assert client.post("/api/v1/definitions/nope/simulate", json={}).status_code == 404


def test_cli_simulates_files_before_deployment(tmp_path: Path) -> None:
    env = {**os.environ, "REVIEWFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    path = PROCESSES / "scenarios" / "referral_declined_scr.yaml"
    ok = subprocess.run([sys.executable, "-m", "app.cli", "simulate", "referral", str(path)],
                        capture_output=True, text=True, cwd=ROOT, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "send_reasons" in ok.stdout and "passed" in ok.stdout
    broken = tmp_path / "broken.yaml"
    body = scenario(path)
    body["expect"]["status"] = "running"
    broken.write_text(yaml.safe_dump(body))
    failed = subprocess.run([sys.executable, "-m", "app.cli", "simulate", "referral",
                             str(broken)], capture_output=True, text=True, cwd=ROOT, env=env)
    assert failed.returncode == 1
    assert "FAILED: expected status running" in failed.stdout
    (tmp_path / "notyaml.yaml").write_text("steps: [")
    invalid = subprocess.run([sys.executable, "-m", "app.cli", "simulate", "referral",
                              str(tmp_path / "notyaml.yaml")], capture_output=True, text=True,
                             cwd=ROOT, env=env)
    assert invalid.returncode == 1 and "not valid YAML" in invalid.stderr
