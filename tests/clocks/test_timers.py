"""Timers fire at the right moment with a moved clock, exactly once, and catch up in due order."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from app.clock import ManualClock
from app.services import timers
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, upload

HOUR = dt.timedelta(hours=1)


def types(client: TestClient, instance_id: str) -> list[str]:
    return [e["type"] for e in client.get(f"/api/v1/instances/{instance_id}/timeline").json()]


def test_every_kind_of_timer_fires_on_time(client: TestClient, ctx: ServiceContext,
                                           clock: ManualClock) -> None:
    upload(client, FIXTURES / "timers.bpmn")
    started = client.post("/api/v1/instances", json={"process_key": "timer_kinds"}).json()
    iid = started["id"]
    assert started["status"] == "waiting"

    clock.advance(2 * HOUR - dt.timedelta(seconds=1))
    assert timers.fire_due(ctx) == 0
    clock.advance(dt.timedelta(seconds=1))  # Monday 2 March 11:00
    assert timers.fire_due(ctx) == 1
    assert timers.fire_due(ctx) == 0
    body = client.get(f"/api/v1/instances/{iid}").json()
    [task] = body["ready_tasks"]
    assert task["bpmn_id"] == "write_report"
    assert task["due_at"] == "2026-03-09T11:00:00Z"  # five working days
    assert types(client, iid)[-2:] == ["timer_fired", "task_ready"]

    clock.set(dt.datetime(2026, 3, 5, 10, 59, tzinfo=dt.UTC))
    assert timers.fire_due(ctx) == 0
    clock.set(dt.datetime(2026, 3, 5, 11, 0, tzinfo=dt.UTC))  # three working days: reminder
    assert timers.fire_due(ctx) == 1
    events = client.get(f"/api/v1/instances/{iid}/timeline").json()
    assert [e["type"] for e in events[-2:]] == ["timer_fired", "notification_sent"]
    assert events[-2]["element_id"] == "remind" and events[-2]["actor"] == "timer"
    assert [t["bpmn_id"] for t in client.get(f"/api/v1/instances/{iid}").json()
            ["ready_tasks"]] == ["write_report"]
    assert client.get("/api/v1/tasks", params={"overdue": "true"}).json()["total"] == 0

    clock.set(dt.datetime(2026, 3, 9, 11, 1, tzinfo=dt.UTC))  # seven days: escalation
    assert timers.fire_due(ctx) == 1
    overdue = client.get("/api/v1/tasks", params={"overdue": "true"}).json()["items"]
    assert [t["bpmn_id"] for t in overdue] == ["write_report"]
    ready = client.get(f"/api/v1/instances/{iid}").json()["ready_tasks"]
    assert sorted((t["bpmn_id"], t["lane"]) for t in ready) == [
        ("chase_report", "board_manager"), ("write_report", "reviewer")]
    for task in ready:
        assert client.post(f"/api/v1/tasks/{task['id']}/complete",
                           json={"data": {}}).status_code == 200
    body = client.get(f"/api/v1/instances/{iid}").json()
    assert body["status"] == "waiting" and body["ready_tasks"] == []

    clock.set(dt.datetime(2026, 4, 1, 8, 59, tzinfo=dt.UTC))
    assert timers.fire_due(ctx) == 0
    clock.set(dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC))  # the literal date
    assert timers.fire_due(ctx) == 1
    assert [t["bpmn_id"] for t in client.get(f"/api/v1/instances/{iid}").json()
            ["ready_tasks"]] == ["after_date"]
    assert types(client, iid).count("timer_fired") == 4


def test_completed_task_cancels_its_boundary_timers(client: TestClient, ctx: ServiceContext,
                                                    clock: ManualClock) -> None:
    upload(client, FIXTURES / "timers.bpmn")
    iid = client.post("/api/v1/instances", json={"process_key": "timer_kinds"}).json()["id"]
    clock.advance(2 * HOUR)
    timers.fire_due(ctx)
    task = client.get(f"/api/v1/instances/{iid}").json()["ready_tasks"][0]
    client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
    clock.set(dt.datetime(2026, 3, 20, tzinfo=dt.UTC))
    assert timers.fire_due(ctx) == 0
    assert "notification_sent" not in types(client, iid)


def test_catch_up_after_downtime_fires_in_due_order(client: TestClient, ctx: ServiceContext,
                                                    clock: ManualClock) -> None:
    upload(client, FIXTURES / "timers.bpmn")
    ids = []
    for _ in range(4):
        ids.append(client.post("/api/v1/instances",
                               json={"process_key": "timer_kinds"}).json()["id"])
        clock.advance(dt.timedelta(minutes=10))
    clock.set(dt.datetime(2026, 3, 20, tzinfo=dt.UTC))  # the worker was down for weeks
    fired: list[str] = []
    seen: set[str] = set()
    while (instance_id := timers.fire_one(ctx, seen)) is not None:
        fired.append(instance_id)
    assert fired == ids
    for iid in ids:
        events = types(client, iid)
        # the overdue two-hour wait fired once; the report task's own timers start from now
        assert events.count("timer_fired") == 1
        assert events[-1] == "task_ready"
    assert timers.fire_due(ctx) == 0


def test_failing_timer_step_parks_the_instance_and_retry_runs_it(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    bpmn = (FIXTURES / "timers.bpmn").read_bytes().replace(
        b'value="\'reviewer\'"', b'value="1 / 0"').replace(
        b'id="timer_kinds"', b'id="timer_failing"')
    response = client.post("/api/v1/deployments",
                           files=[("files", ("failing.bpmn", bpmn, "application/xml"))])
    assert response.status_code == 201
    iid = client.post("/api/v1/instances", json={"process_key": "timer_failing"}).json()["id"]
    clock.advance(2 * HOUR)
    timers.fire_due(ctx)
    clock.set(dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC))
    assert timers.fire_due(ctx) == 1
    body = client.get(f"/api/v1/instances/{iid}").json()
    assert body["status"] == "error"
    assert body["error"]["element_id"] == "send_reminder"
    assert "division by zero" in body["error"]["message"]
    assert timers.fire_due(ctx) == 0
    retried = client.post(f"/api/v1/instances/{iid}/retry")
    assert retried.status_code == 422
    assert client.get(f"/api/v1/instances/{iid}").json()["status"] == "error"
