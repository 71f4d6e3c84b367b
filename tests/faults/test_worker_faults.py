"""The timer worker never dies silently: an instance whose stored state is corrupt becomes an
incident a board manager sees, is backed off, and the other instances' timers still fire; each
poll is a heartbeat, and /health says degraded once a worker stops polling."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.clock import ManualClock
from app.db.models import ProcessInstance
from app.services import incidents
from app.services.context import ServiceContext
from app.worker import Worker
from tests.conftest import FIXTURES, ClientFactory, upload

HOUR = dt.timedelta(hours=1)


def start_three(client: TestClient) -> list[str]:
    """Three instances of a start, an hour's timer and an end."""
    upload(client, FIXTURES / "one_timer.bpmn")
    return [client.post("/api/v1/instances", json={"process_key": "one_timer",
                                                   "business_key": f"CASE-{n}"}).json()["id"]
            for n in range(3)]


def corrupt(ctx: ServiceContext, instance_id: str) -> str:
    """Cut the instance's stored state in half, as a bad manual edit or restore would; return
    the state as it was."""
    with ctx.uow() as uow:
        state = uow.session.scalars(select(ProcessInstance.state).where(
            ProcessInstance.id == instance_id)).one()
        uow.session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                            .values(state=state[: len(state) // 2]))
        uow.commit()
    return state


def stored(ctx: ServiceContext, instance_id: str) -> ProcessInstance:
    """The instance's row (the API answers 409 for an instance whose state does not load)."""
    with ctx.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id)
        assert instance is not None
        return instance


def status(ctx: ServiceContext, instance_id: str) -> str:
    return stored(ctx, instance_id).status


def open_incidents(client: TestClient) -> list[dict]:
    response = client.get("/api/v1/incidents")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_corrupt_instance_is_an_incident_and_the_others_still_fire(
        client: TestClient, make_client: ClientFactory, ctx: ServiceContext,
        clock: ManualClock) -> None:
    first, poisoned, last = start_three(client)
    original = corrupt(ctx, poisoned)
    worker = Worker(ctx, poll_seconds=2)
    clock.advance(2 * HOUR)

    assert worker.poll_once() == 3  # no exception escapes the poll
    assert status(ctx, first) == status(ctx, last) == "completed"
    row = stored(ctx, poisoned)
    assert row.status == "waiting" and row.next_timer_at == clock.now() + incidents.FIRST_DELAY
    assert row.error and row.error["incident_id"]
    assert "timer worker failed" in row.error["message"]
    [incident] = open_incidents(client)
    assert incident["instance_id"] == poisoned and incident["source"] == "timer worker"
    assert incident["attempts"] == 1 and incident["error_type"]
    assert "Traceback" not in incident["message"]
    assert incident["retry_at"] == (clock.now() + incidents.FIRST_DELAY).isoformat() \
        .replace("+00:00", "Z")

    police = make_client("agency_lead", agency="police")
    refused = police.get("/api/v1/incidents")
    assert refused.status_code == 403 and "a board manager" in refused.json()["detail"]

    # Backed off: not tried again before its delay, then with doubling delays, then parked.
    assert worker.poll_once() == 0
    for attempt in range(2, incidents.ATTEMPTS + 1):
        clock.advance(incidents.FIRST_DELAY * 2 ** (attempt - 2) - dt.timedelta(seconds=1))
        assert worker.poll_once() == 0, attempt
        clock.advance(dt.timedelta(seconds=1))
        assert worker.poll_once() == 1, attempt
        assert open_incidents(client)[0]["attempts"] == attempt
    [incident] = open_incidents(client)
    assert incident["retry_at"] is None
    assert status(ctx, poisoned) == "error" and stored(ctx, poisoned).next_timer_at is None
    clock.advance(24 * HOUR)
    assert worker.poll_once() == 0
    assert open_incidents(client)[0]["attempts"] == incidents.ATTEMPTS

    # The operator repairs the state and retries: the timer fires and the incident is closed.
    with ctx.uow() as uow:
        uow.session.execute(update(ProcessInstance).where(ProcessInstance.id == poisoned)
                            .values(state=original))
        uow.commit()
    retried = client.post(f"/api/v1/instances/{poisoned}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "completed" and retried.json()["error"] is None
    assert open_incidents(client) == []


def test_an_incident_closes_when_its_instance_fires_again(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    _first, poisoned, _last = start_three(client)
    original = corrupt(ctx, poisoned)
    worker = Worker(ctx, poll_seconds=2)
    clock.advance(2 * HOUR)
    worker.poll_once()
    assert len(open_incidents(client)) == 1
    with ctx.uow() as uow:  # the state is restored before the worker tries again
        uow.session.execute(update(ProcessInstance).where(ProcessInstance.id == poisoned)
                            .values(state=original))
        uow.commit()
    clock.advance(incidents.FIRST_DELAY)
    assert worker.poll_once() == 1
    assert status(ctx, poisoned) == "completed"
    assert open_incidents(client) == []
    assert client.get(f"/api/v1/instances/{poisoned}").json()["error"] is None


def test_an_incident_can_be_resolved_by_hand(client: TestClient, make_client: ClientFactory,
                                             ctx: ServiceContext, clock: ManualClock) -> None:
    _first, poisoned, _last = start_three(client)
    corrupt(ctx, poisoned)
    clock.advance(2 * HOUR)
    Worker(ctx, poll_seconds=2).poll_once()
    [incident] = open_incidents(client)
    path = f"/api/v1/incidents/{incident['id']}/resolve"

    auditor = make_client("auditor")
    assert len(open_incidents(auditor)) == 1  # auditors read ...
    assert auditor.post(path).status_code == 403  # ... and never write
    resolved = client.post(path)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolved_by"] == "tester"
    assert resolved.json()["resolved_at"] is not None
    assert open_incidents(client) == []
    again = client.post(path)
    assert again.status_code == 409 and "tester" in again.json()["detail"]
    missing = client.post("/api/v1/incidents/999999/resolve")
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]
    assert client.post("/api/v1/incidents/0/resolve").status_code == 422


def test_health_reports_each_worker_and_degrades_when_one_stops(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["workers"] == []  # none recorded

    worker = Worker(ctx, poll_seconds=2)
    assert worker.poll_once() == 0
    body = client.get("/health").json()
    assert body["status"] == "ok"
    [seen] = body["workers"]
    assert seen["name"] == "timer" and seen["process"] == worker.process
    assert seen["age_seconds"] == 0 and seen["stale"] is False and seen["last_error"] is None
    assert seen["last_success_at"] == clock.now().isoformat().replace("+00:00", "Z")

    clock.advance(dt.timedelta(seconds=ctx.settings.worker_stale_seconds))
    assert client.get("/health").json()["status"] == "ok"
    clock.advance(dt.timedelta(seconds=1))
    stale = client.get("/health")
    assert stale.status_code == 200
    assert stale.json()["status"] == "degraded"
    assert stale.json()["workers"][0]["stale"] is True
    assert stale.json()["workers"][0]["age_seconds"] == ctx.settings.worker_stale_seconds + 1

    worker.poll_once()
    assert client.get("/health").json()["status"] == "ok"

    # A worker that died leaves its heartbeat stale; the one started after it forgets it, and
    # one stopping on purpose removes its own.
    clock.advance(dt.timedelta(seconds=ctx.settings.worker_stale_seconds + 1))
    assert client.get("/health").json()["status"] == "degraded"
    replacement = Worker(ctx, poll_seconds=2)
    replacement.process = "another-host:1"
    replacement.stop()
    replacement.run()  # stopped already: forgets the stale heartbeat, polls nothing
    assert client.get("/health").json() == {
        "status": "ok", "database": ctx.engine.dialect.name, "workers": []}


def test_a_corrupt_instance_answers_409_naming_why_not_500(client: TestClient,
                                                           ctx: ServiceContext) -> None:
    [poisoned, *_others] = start_three(client)
    corrupt(ctx, poisoned)
    for method, path in (("GET", ""), ("POST", "/terminate")):
        response = client.request(method, f"/api/v1/instances/{poisoned}{path}")
        assert response.status_code == 409, (path, response.text)
        body = response.json()
        assert body["code"] == "state_unreadable" and body["instance_id"] == poisoned
        assert "saved state cannot be read" in body["detail"]
