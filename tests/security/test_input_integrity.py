"""No value can corrupt a case: text that cannot be stored or sent back (a lone UTF-16
surrogate, NUL, bytes that are not UTF-8) and data nested past `max_data_depth` are a 422 naming
the field, and nothing is saved; the instance, its timeline and its tasks keep answering."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import Event, ProcessInstance, ReviewCase
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, upload
from tests.forms import start_keywords
from tests.forms.test_task_page import _form as task_form
from tests.forms.test_task_page import pages  # noqa: F401  (a fixture)
from tests.grading.test_referral_page import browser  # noqa: F401  (a fixture)
from tests.grading.test_referral_page import form_of as referral_form
from tests.routes.driver import CaseDriver

LONE = '"\\ud800"'  # JSON for a lone high surrogate: valid JSON, not valid text
PAIR = '"\\ud83d\\ude00"'  # a surrogate pair: one real character


def _raw(client: TestClient, path: str, body: str | bytes) -> Any:
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


def _events(ctx: ServiceContext) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Event)) or 0


@pytest.fixture
def started(client: TestClient) -> dict[str, Any]:
    upload(client, FIXTURES / "parallel_review.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "parallel_review",
                                                  "business_key": "BK-1"})
    assert body.status_code == 201
    return dict(body.json())


@pytest.mark.parametrize(("value", "message"), [
    (LONE, "lone UTF-16 surrogate"), ('"before\\u0000after"', "NUL character")])
def test_text_that_cannot_be_stored_is_refused_and_nothing_changes(
        client: TestClient, ctx: ServiceContext, started: dict[str, Any], value: str,
        message: str) -> None:
    task = started["ready_tasks"][0]
    before = _events(ctx)
    refused = _raw(client, f"/api/v1/tasks/{task['id']}/complete",
                   '{"data": {"view": {"reason": VALUE}}}'.replace("VALUE", value))
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["field"] == "data.view.reason" and message in body["errors"][0]["message"]
    assert _events(ctx) == before
    # everything about the instance still answers, and the task can still be done
    instance_id = started["id"]
    assert client.get(f"/api/v1/instances/{instance_id}").status_code == 200
    assert client.get(f"/api/v1/instances/{instance_id}/timeline").status_code == 200
    assert client.get(f"/api/v1/tasks/{task['id']}").json()["state"] == "ready"
    done = _raw(client, f"/api/v1/tasks/{task['id']}/complete",
                '{"data": {"view": {"reason": VALUE}}}'.replace("VALUE", PAIR))
    assert done.status_code == 200, done.text
    assert done.json()["data"]["view"]["reason"] == "\U0001F600"


def test_a_name_that_cannot_be_stored_is_refused(client: TestClient,
                                                 started: dict[str, Any]) -> None:
    task = started["ready_tasks"][0]
    refused = _raw(client, f"/api/v1/tasks/{task['id']}/complete",
                   '{"data": {"bad\\u0000name": 1}}')
    assert refused.status_code == 422
    assert refused.json()["field"] == "data.bad\\0name"


def test_bytes_that_are_not_utf8_are_refused(client: TestClient, ctx: ServiceContext,
                                             started: dict[str, Any]) -> None:
    task = started["ready_tasks"][0]
    before = _events(ctx)
    refused = _raw(client, f"/api/v1/tasks/{task['id']}/complete",
                   b'{"data": {"reason": "\xff\xfe"}}')
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body"
    assert _events(ctx) == before


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": True}
    for _ in range(levels - 1):
        value = {"next": value}
    return value


@pytest.mark.parametrize("levels", [32, 300])
def test_data_nested_too_deeply_is_refused(client: TestClient, ctx: ServiceContext,
                                           levels: int) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    # the body is one level and `data` another: 30 levels of data fit in the default 32
    fits = client.post("/api/v1/instances", json={"process_key": "parallel_review",
                                                  "data": {"deep": _nested(29)}})
    assert fits.status_code == 201, fits.text
    refused = _raw(client, "/api/v1/instances", json.dumps(
        {"process_key": "parallel_review", "data": {"deep": _nested(levels)}}))
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"].startswith("data.deep.next.next")
    assert "nested more than 32 levels" in refused.json()["detail"]
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProcessInstance)) == 1


def test_the_depth_limit_is_a_setting(client: TestClient, ctx: ServiceContext,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    monkeypatch.setattr(ctx.settings, "max_data_depth", 3)
    body = {"process_key": "parallel_review", "data": {"a": {"b": {"c": 1}}}}
    refused = client.post("/api/v1/instances", json=body)
    assert refused.status_code == 422
    assert refused.json()["field"] == "data.a.b"
    monkeypatch.setattr(ctx.settings, "max_data_depth", 4)
    assert client.post("/api/v1/instances", json=body).status_code == 201


def test_query_and_message_values_are_checked_too(client: TestClient,
                                                 started: dict[str, Any]) -> None:
    listed = client.get("/api/v1/instances", params={"business_key": "BK\x00"})
    assert listed.status_code == 422 and listed.json()["field"] == "business_key"
    upload(client, FIXTURES / "message_wait.bpmn")
    sent = _raw(client, "/api/v1/messages",
                '{"name": "agency_response", "business_key": "BK-1", "data": {"a": LONE}}'
                .replace("LONE", LONE))
    assert sent.status_code == 422 and sent.json()["field"] == "data.a"


def test_a_referral_with_a_nul_creates_no_case(client: TestClient, ctx: ServiceContext) -> None:
    CaseDriver(client).deploy()
    refused = client.post("/api/v1/referrals", json={
        "child_pseudonym": "Child A", "agencies": ["police"], "incident_date": "2026-02-20",
        "summary": "Admitted\x00 to hospital.", "facts": {"abuse_or_neglect": True}})
    assert refused.status_code == 422 and refused.json()["field"] == "summary"
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ReviewCase)) == 0


def test_a_script_that_writes_a_lone_surrogate_fails_the_step_and_saves_nothing(
        client: TestClient, ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "lone_surrogate.bpmn")
    started = client.post("/api/v1/instances", json={"process_key": "lone_surrogate"}).json()
    task = started["ready_tasks"][0]
    before = _events(ctx)
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"broken": True}})
    assert refused.status_code == 422
    assert refused.json()["field"] == "data.label"
    assert _events(ctx) == before
    assert client.get(f"/api/v1/instances/{started['id']}/timeline").status_code == 200
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"broken": False}})
    assert done.status_code == 200 and done.json()["data"]["label"] == "whole"


def test_the_task_page_refuses_a_nul_and_saves_nothing(
        pages: tuple[TestClient, TestClient]) -> None:  # noqa: F811
    page, api = pages
    task_id = start_keywords(api)["ready_tasks"][0]["id"]
    for action in ("save", "submit"):
        values = dict(task_form(page, task_id).form_values())
        values.update({"f.reason": "The reason\x00", "_action": action})
        response = page.post(f"/ui/tasks/{task_id}", data=values, follow_redirects=False)
        assert response.status_code == 422, response.text
        assert "NUL character" in response.text
        task = api.get(f"/api/v1/tasks/{task_id}").json()
        assert task["state"] == "ready" and not task.get("draft")


def test_the_referral_page_refuses_a_nul_and_creates_no_case(
        browser: TestClient, ctx: ServiceContext) -> None:  # noqa: F811
    values = dict(referral_form(browser).form_values())
    values.update({"child_pseudonym": "Child A", "agencies": "police",
                   "incident_date": "2026-02-20", "summary": "Hurt\x00 badly."})
    response = browser.post("/ui/referrals/new", data=values, follow_redirects=False)
    assert response.status_code == 422
    assert "NUL character" in response.text
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ReviewCase)) == 0
