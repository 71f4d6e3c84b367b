"""Optimistic locking: when people act on one instance at once, exactly one wins per task."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import Event, HumanTask, ProcessInstance
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, upload

THREADS = 8


def race(client: TestClient, calls: list[tuple[str, dict]]) -> list[int]:
    """Fire every call at once from its own thread; return the status codes."""
    barrier = threading.Barrier(len(calls))
    codes: list[int] = [0] * len(calls)

    def run(index: int, path: str, body: dict) -> None:
        barrier.wait()
        codes[index] = client.post(path, json=body).status_code

    threads = [threading.Thread(target=run, args=(i, path, body))
               for i, (path, body) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


def assert_consistent(ctx: ServiceContext, instance_id: str, client: TestClient) -> None:
    """The task index, the timeline and the saved state agree."""
    state = client.get(f"/api/v1/instances/{instance_id}").json()
    with ctx.uow() as uow:
        ready = set(uow.session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.state == "ready")))
        completed = list(uow.session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.state == "completed")))
        completions = list(uow.session.scalars(select(Event.task_id).where(
            Event.instance_id == instance_id, Event.type == "task_completed")))
        readies = Counter(uow.session.scalars(select(Event.task_id).where(
            Event.instance_id == instance_id, Event.type == "task_ready")))
        version = uow.session.scalar(select(ProcessInstance.lock_version).where(
            ProcessInstance.id == instance_id))
        saves = uow.session.scalar(select(func.count()).select_from(Event).where(
            Event.instance_id == instance_id, Event.type.in_(("started", "task_completed"))))
    assert {t["id"] for t in state["ready_tasks"]} == ready
    assert sorted(completed) == sorted(completions)
    assert all(count == 1 for count in readies.values())
    assert version == saves  # one write per command: the start inserts, each completion updates


@pytest.mark.parametrize("attempt", range(3))
def test_same_task_completed_at_once_has_one_winner(client: TestClient, ctx: ServiceContext,
                                                    attempt: int) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()
    task = body["ready_tasks"][0]
    codes = race(client, [(f"/api/v1/tasks/{task['id']}/complete", {"data": {"n": n}})
                          for n in range(THREADS)])
    assert sorted(codes) == [200] + [409] * (THREADS - 1)
    assert_consistent(ctx, body["id"], client)


def test_different_tasks_of_one_instance_at_once(client: TestClient,
                                                 ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()
    first, second = body["ready_tasks"]
    codes = race(client, [(f"/api/v1/tasks/{first['id']}/complete", {"data": {"a": 1}}),
                          (f"/api/v1/tasks/{second['id']}/complete", {"data": {"b": 2}})])
    assert 200 in codes
    assert set(codes) <= {200, 409}
    assert_consistent(ctx, body["id"], client)
    for task, code in zip((first, second), codes, strict=True):
        if code == 409:
            retry = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
            assert retry.status_code == 200
    final = client.get(f"/api/v1/instances/{body['id']}").json()
    assert [t["bpmn_id"] for t in final["ready_tasks"]] == ["sign_off"]
    assert_consistent(ctx, body["id"], client)


@pytest.mark.parametrize("attempt", range(3))
def test_tasks_of_different_instances_at_once_all_succeed(client: TestClient,
                                                          ctx: ServiceContext,
                                                          attempt: int) -> None:
    """People working on different cases never get in each other's way, on either backend."""
    upload(client, FIXTURES / "parallel_review.bpmn")
    started = [client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()
               for _ in range(THREADS)]
    codes = race(client, [(f"/api/v1/tasks/{body['ready_tasks'][0]['id']}/complete",
                           {"data": {"n": n}}) for n, body in enumerate(started)])
    assert codes == [200] * THREADS
    for body in started:
        assert_consistent(ctx, body["id"], client)
