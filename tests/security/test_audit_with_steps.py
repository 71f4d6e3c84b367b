"""A command that advances an instance commits its audit entry in the step's own transaction:
exactly one entry per request, whatever the outcome, with the status the caller received."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import AuditEntry, Event
from app.engine import runner
from app.main import create_app
from app.services.context import ServiceContext
from tests.api.test_concurrency import THREADS, race
from tests.conftest import FIXTURES, token_for, upload


def entries(ctx: ServiceContext, action: str) -> list[AuditEntry]:
    with ctx.uow() as uow:
        return list(uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                        .order_by(AuditEntry.id)))


def test_one_entry_per_completion_in_a_race(client: TestClient, ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()
    task = body["ready_tasks"][0]
    path = f"/api/v1/tasks/{task['id']}/complete"
    codes = race(client, [(path, {"data": {"n": n}}) for n in range(THREADS)])
    assert sorted(codes) == [200] + [409] * (THREADS - 1)
    logged = entries(ctx, "complete_task")
    assert Counter(entry.status for entry in logged) == Counter(codes)
    assert all(entry.path == path and entry.actor == "tester" for entry in logged)
    [started] = entries(ctx, "start_instance")
    assert (started.status, started.outcome, started.target_type) == (201, "allowed", "instance")
    assert started.target_id == body["id"]  # a start names the instance it created
    assert {entry.detail["instance_id"] for entry in logged if entry.status == 200} == \
        {body["id"]}  # a task's entry names the task, and the instance its step changed


def test_a_failed_step_is_logged_once_with_its_422(client: TestClient,
                                                  ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "divide.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "divide"}).json()
    task = body["ready_tasks"][0]
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete",
                          json={"data": {"divisor": 0}})
    assert refused.status_code == 422
    [entry] = entries(ctx, "complete_task")
    assert (entry.status, entry.outcome, entry.target_id) == (422, "failed", task["id"])
    with ctx.uow() as uow:  # the error event was kept although the step was rolled back
        assert uow.session.scalar(select(Event.element_id).where(
            Event.instance_id == body["id"], Event.type == "error")) == "divide_step"

    assert client.post(f"/api/v1/tasks/{task['id']}/complete",
                       json={"data": {"divisor": 4}}).status_code == 200
    assert [entry.status for entry in entries(ctx, "complete_task")] == [422, 200]


def test_a_command_refused_before_its_step_is_logged_once(client: TestClient,
                                                         ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "divide.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "divide"}).json()
    task = body["ready_tasks"][0]
    path = f"/api/v1/tasks/{task['id']}/complete"
    assert client.post(path, json={"data": {"divisor": 2}}).status_code == 200
    assert client.post(path, json={"data": {"divisor": 2}}).status_code == 409
    unknown = client.post("/api/v1/instances", json={"process_key": "no_such_process"})
    assert unknown.status_code == 404
    assert [entry.status for entry in entries(ctx, "complete_task")] == [200, 409]
    assert [entry.status for entry in entries(ctx, "start_instance")] == [201, 404]


def test_an_answer_that_cannot_be_built_commits_nothing_and_is_logged_once(
        ctx: ServiceContext, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    upload(client, FIXTURES / "message_wait.bpmn")
    started = client.post("/api/v1/instances", json={
        "process_key": "message_wait", "business_key": "BK-1"})
    assert started.status_code == 201

    def broken(workflow: object) -> dict[str, object]:
        raise RuntimeError("a bug while building the answer")

    monkeypatch.setattr(runner, "data", broken)  # the answer is built before the commit
    token = token_for(ctx, "board_manager", name="agency-system")
    with TestClient(create_app(context=ctx), raise_server_exceptions=False) as caller:
        response = caller.post("/api/v1/messages", json={
            "name": "agency_response", "business_key": "BK-1", "data": {"answer_count": 4}},
            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    monkeypatch.undo()
    instance = client.get(f"/api/v1/instances/{started.json()['id']}").json()
    assert instance["status"] == started.json()["status"] == "waiting"
    assert "answer_count" not in instance["data"]  # the step was not committed
    assert [(entry.status, entry.detail.get("after_commit"))
            for entry in entries(ctx, "send_message")] == [(500, None)]
