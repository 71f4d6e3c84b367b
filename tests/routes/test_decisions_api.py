"""The grading decision on its own, through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.routes.driver import CaseDriver


def test_evaluate_reports_outputs_and_the_rule(client: TestClient) -> None:
    CaseDriver(client).deploy()
    response = client.post("/api/v1/decisions/grading/evaluate",
                           json={"data": {"suspected_suicide": True,
                                          "abuse_or_neglect": True}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 1
    assert body["outputs"]["grade"] == "catastrophic"
    assert body["outputs"]["statutory"] is True
    assert body["matched_rules"][0]["id"] == \
        "grading_catastrophic_suspected_suicide_abuse_neglect"
    assert body["matched_rules"][0]["description"]


def test_unknown_decision_and_bad_body(client: TestClient) -> None:
    CaseDriver(client).deploy()
    assert client.post("/api/v1/decisions/nope/evaluate", json={"data": {}}).status_code == 404
    bad = client.post("/api/v1/decisions/grading/evaluate", json={"data": [1]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "data"


def test_redeploying_an_unchanged_dmn_keeps_its_version(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.deploy()
    body = client.post("/api/v1/decisions/grading/evaluate", json={"data": {}}).json()
    assert body["version"] == 1
    assert body["outputs"]["grade"] == "low"
