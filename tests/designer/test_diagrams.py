"""Diagrams as SVG: an instance's progress, and the heat view of a process."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import etree

from tests.conftest import demo_files, upload
from tests.routes.driver import CaseDriver


def group(svg: bytes, element_id: str, kind: str = "el") -> etree._Element:
    root = etree.fromstring(svg)
    [found] = root.xpath("//*[@id=$id]", id=f"{kind}-{element_id}")
    return found


def test_instance_diagram_highlights_progress(client: TestClient) -> None:
    upload(client, *demo_files())
    body = client.post("/api/v1/instances", json={
        "process_key": "demo_triage",
        "data": {"child_died": False, "seriously_harmed": True}}).json()
    task = body["ready_tasks"][0]
    client.post(f"/api/v1/tasks/{task['id']}/complete",
                json={"data": {"review_needed": True, "reason": "r"}})
    response = client.get(f"/api/v1/instances/{body['id']}/diagram.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "completed" in group(response.content, "screen_referral").get("class")
    assert "completed" in group(response.content, "grade_referral").get("class")
    assert "active" in group(response.content, "endorse_review").get("class")
    assert "completed" not in group(response.content, "end_no_review").get("class")
    assert client.get("/api/v1/instances/nope/diagram.svg").status_code == 404


def test_definition_diagram_counts_waiting_instances(client: TestClient) -> None:
    upload(client, *demo_files())
    for _ in range(3):
        client.post("/api/v1/instances", json={
            "process_key": "demo_triage", "data": {"child_died": True, "seriously_harmed": False}})
    assert client.get("/api/v1/definitions/demo_triage/heat").json() == {"screen_referral": 3}
    svg = client.get("/api/v1/definitions/demo_triage/diagram.svg").content
    badge = group(svg, "screen_referral", kind="badge")
    assert "3" in "".join(badge.itertext())
    versioned = client.get("/api/v1/definitions/demo_triage/diagram.svg",
                           params={"version": 1})
    assert versioned.status_code == 200
    assert client.get("/api/v1/definitions/demo_triage/diagram.svg",
                      params={"version": 7}).status_code == 404


def test_a_review_route_called_by_the_referral_counts_its_own_tasks(
        client: TestClient) -> None:
    """The review routes run as call activities of the referral: their waiting tasks show on
    their own diagrams, not on the referral's."""
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    driver.endorse()
    waiting = "agree_terms_of_reference"
    assert waiting in driver.ready_ids(), driver.ready_ids()
    concise = client.get("/api/v1/definitions/concise_review/heat").json()
    assert concise.get(waiting) == 1, concise
    assert waiting not in client.get("/api/v1/definitions/referral/heat").json()
    svg = client.get("/api/v1/definitions/concise_review/diagram.svg").content
    assert "1" in "".join(group(svg, waiting, kind="badge").itertext())
