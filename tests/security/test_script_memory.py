"""Scripts and decisions have a memory ceiling (issue 17, point 8).

A script that doubles a list in a loop, a DMN expression that builds rows of zeros (in a
business rule task and through POST /api/v1/decisions/{id}/evaluate, which any role may call):
each is stopped with a 422 naming the element, the server's memory comes back (its resident set
size, read from /proc, is measured before and after), nothing of the step is kept, and a normal
request works afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import ProcessInstance
from app.engine import memory_guard
from app.engine.sandbox import SandboxedEnvironment, ScriptMemoryExceeded
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, ClientFactory
from tests.security import post_files

BPMN = ("script_memory.bpmn", (FIXTURES / "script_memory.bpmn").read_bytes())
DMN = ("memory_rows.dmn", (FIXTURES / "memory_rows.dmn").read_bytes())
LIMIT = memory_guard.DEFAULT_LIMIT
MARGIN = 32 * 1024 * 1024
"""How far above the resident set size before a stopped run the server may stay."""
HUGE_ROWS = 5_000
"""Rows of 100,000 zeros: about 4 GB if nothing stopped the expression."""

pytestmark = pytest.mark.skipif(memory_guard.rss_bytes() is None,
                                reason="the resident set size is read from /proc")


def _rss() -> int:
    memory_guard.release()
    rss = memory_guard.rss_bytes()
    assert rss is not None
    return rss


@pytest.fixture
def deployed(client: TestClient) -> TestClient:
    response = post_files(client, BPMN, DMN)
    assert response.status_code == 201, response.text
    return client


def _waiting(client: TestClient) -> tuple[str, str]:
    started = client.post("/api/v1/instances", json={"process_key": "script_memory"})
    assert started.status_code == 201, started.text
    return started.json()["id"], started.json()["ready_tasks"][0]["id"]


def _row(ctx: ServiceContext, instance_id: str) -> tuple[Any, ...]:
    with ctx.uow() as uow:
        found = uow.session.scalars(select(ProcessInstance)
                                    .where(ProcessInstance.id == instance_id)).one()
        return found.status, found.lock_version, found.state


def _complete(client: TestClient, task_id: str, data: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data})


def _warm(client: TestClient) -> None:
    """One normal run of each path first, so code loaded on first use is not counted."""
    _instance, task = _waiting(client)
    assert _complete(client, task, {"mode": "small", "rows": 2}).status_code == 200
    assert client.post("/api/v1/decisions/memory_rows/evaluate",
                       json={"data": {"rows": 2}}).status_code == 200


@pytest.mark.parametrize(("mode", "element"), [("double", "double_list"),
                                               ("decision", "grade_rows")])
def test_a_step_past_the_memory_limit_is_422_and_leaves_nothing(
        deployed: TestClient, ctx: ServiceContext, mode: str, element: str) -> None:
    client = deployed
    _warm(client)
    instance_id, task_id = _waiting(client)
    before = _row(ctx, instance_id)
    rss_before = _rss()
    response = _complete(client, task_id, {"mode": mode, "rows": HUGE_ROWS})
    grown = _rss() - rss_before
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "step_failed"
    assert body["element_id"] == element, body
    assert "memory limit of 64 MB" in body["detail"], body
    assert grown < MARGIN, f"the server kept {grown / 2**20:.0f} MB"
    assert _row(ctx, instance_id) == before  # the instance is as it was
    task = client.get(f"/api/v1/tasks/{task_id}")
    assert task.status_code == 200 and task.json()["state"] == "ready", task.text
    done = _complete(client, task_id, {"mode": "small", "rows": 2})
    assert done.status_code == 200, done.text
    assert [t["bpmn_id"] for t in done.json()["ready_tasks"]] == ["check"]


def test_the_evaluate_endpoint_stops_a_decision_for_any_role(
        deployed: TestClient, make_client: ClientFactory) -> None:
    _warm(deployed)
    agency = make_client("agency_lead", agency="police")
    rss_before = _rss()
    response = agency.post("/api/v1/decisions/memory_rows/evaluate",
                           json={"data": {"rows": HUGE_ROWS}})
    grown = _rss() - rss_before
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["element_id"] == "memory_rows", body
    assert "memory limit" in body["detail"] and "rule_build_rows" in body["detail"], body
    assert grown < MARGIN, f"the server kept {grown / 2**20:.0f} MB"
    normal = agency.post("/api/v1/decisions/memory_rows/evaluate", json={"data": {"rows": 3}})
    assert normal.status_code == 200, normal.text
    assert normal.json()["outputs"] == {"cells": 300_000}


@pytest.mark.parametrize("script", [
    "items = [1]\nwhile True:\n    items.extend(items)",
    "rows = []\nwhile True:\n    rows.append([0] * 500000)",
    "items = [1]\n" + "items.extend(items)\n" * 40,  # straight-line: no loop ticks
    "items = [1]\ntry:\n    while True:\n        items.extend(items)\nexcept:\n    pass\n"
    "kept = items",  # a bare except cannot keep what was built
])
def test_the_sandbox_stops_growth_and_restores_the_data(script: str) -> None:
    environment = SandboxedEnvironment({}, time_limit=30)
    data: dict[str, Any] = {"reason": "kept"}
    rss_before = _rss()
    with pytest.raises(ScriptMemoryExceeded) as stopped:
        environment.execute(script, data)
    assert "memory limit of 64 MB" in str(stopped.value)
    assert data == {"reason": "kept"}
    assert _rss() - rss_before < MARGIN


def test_a_smaller_limit_is_honoured_and_normal_scripts_pass() -> None:
    environment = SandboxedEnvironment({}, memory_limit=8 * 1024 * 1024)
    data: dict[str, Any] = {}
    environment.execute("rows = [[0] * 1000 for i in range(100)]", data)
    assert len(data["rows"]) == 100
    with pytest.raises(ScriptMemoryExceeded, match="8 MB"):
        environment.execute("rows = [[0] * 100000 for i in range(1000)]", {})
    assert environment.evaluate("len([0] * 1000) + 1", {}) == 1001
