"""The task index: filters, sorting, pagination, detail, completion rules."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db.models import HumanTask
from app.services.context import ServiceContext
from tests.api.test_instances import start
from tests.conftest import FIXTURES, demo_files, upload


def test_task_detail_has_form_instructions_and_data(client: TestClient) -> None:
    upload(client, *demo_files())
    task = start(client)["ready_tasks"][0]
    detail = client.get(f"/api/v1/tasks/{task['id']}").json()
    assert detail["title"] == "Screen the referral"
    assert detail["lane"] == "panel_member"
    assert detail["instructions"].startswith("Read the referral")
    assert detail["form_schema"]["required"] == ["review_needed", "reason"]
    assert detail["data"]["grade"] == "severe"


def test_form_errors_name_each_field_and_keep_task_ready(client: TestClient) -> None:
    upload(client, *demo_files())
    task = start(client)["ready_tasks"][0]
    response = client.post(f"/api/v1/tasks/{task['id']}/complete",
                           json={"data": {"review_needed": "maybe"}})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"review_needed", "reason"}
    assert client.get(f"/api/v1/tasks/{task['id']}").json()["state"] == "ready"


def test_completing_twice_is_409_and_unknown_is_404(client: TestClient) -> None:
    upload(client, *demo_files())
    task = start(client)["ready_tasks"][0]
    data = {"data": {"review_needed": False, "reason": "none"}}
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json=data).status_code == 200
    second = client.post(f"/api/v1/tasks/{task['id']}/complete", json=data)
    assert second.status_code == 409
    assert "completed" in second.json()["detail"]
    assert client.post("/api/v1/tasks/nope/complete", json=data).status_code == 404
    assert client.get("/api/v1/tasks/nope").status_code == 404
    done = client.get(f"/api/v1/tasks/{task['id']}").json()
    assert done["state"] == "completed" and done["completed_by"] == "tester"
    assert done["completed_at"] is not None


def test_filters_sort_and_paginate(client: TestClient, ctx: ServiceContext) -> None:
    upload(client, *demo_files())
    upload(client, FIXTURES / "parallel_review.bpmn")
    triage = [start(client, business_key=f"LIR-{n}") for n in range(3)]
    par = client.post("/api/v1/instances", json={"process_key": "parallel_review",
                                                   "business_key": "LIR-9"}).json()
    base = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    with ctx.uow() as uow:
        for n, instance in enumerate(triage):
            uow.session.execute(update(HumanTask).where(
                HumanTask.instance_id == instance["id"]).values(due_at=base + dt.timedelta(days=n)))
        uow.commit()

    def ids(**params: object) -> list[str]:
        response = client.get("/api/v1/tasks", params=params)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    triage_tasks = [i["ready_tasks"][0]["id"] for i in triage]
    assert ids(lane="panel_member", process_key="demo_triage", sort="due_at") == triage_tasks
    assert ids(lane="panel_member", process_key="demo_triage", sort="-due_at") == \
        triage_tasks[::-1]
    assert ids(business_key="LIR-9", sort="title") == [
        t["id"] for t in sorted(par["ready_tasks"], key=lambda t: t["title"])]
    assert ids(instance_id=par["id"], lane="chair") == [
        t["id"] for t in par["ready_tasks"] if t["lane"] == "chair"]
    assert ids(due_before="2026-04-02T12:00:00Z", sort="due_at") == triage_tasks[:2]
    assert ids(due_after="2026-04-01T12:00:00Z", sort="due_at") == triage_tasks[1:]
    assert ids(state="completed") == []
    page = client.get("/api/v1/tasks", params={"limit": 2, "offset": 1, "sort": "due_at"}).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    bad = client.get("/api/v1/tasks", params={"sort": "colour", "limit": 0})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"sort", "limit"}
    naive = client.get("/api/v1/tasks", params={"due_before": "2026-04-02T12:00:00"})
    assert naive.status_code == 422
    assert naive.json()["field"] == "due_before"


def test_parallel_tasks_and_join(client: TestClient) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()
    assert sorted(t["bpmn_id"] for t in body["ready_tasks"]) == ["chair_view", "panel_view"]
    first, second = body["ready_tasks"]
    after = client.post(f"/api/v1/tasks/{first['id']}/complete",
                        json={"data": {"a": 1}}).json()
    assert [t["id"] for t in after["ready_tasks"]] == [second["id"]]
    after = client.post(f"/api/v1/tasks/{second['id']}/complete",
                        json={"data": {"b": 2}}).json()
    assert [t["bpmn_id"] for t in after["ready_tasks"]] == ["sign_off"]
