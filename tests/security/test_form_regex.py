"""Form validation cannot block the service (issue 17, point 2).

`pattern`, `patternProperties` and the `date` format run on RE2, so a value that makes Python's
`re` backtrack for minutes is answered at once; a pattern RE2 cannot run is refused when the form
is deployed; a submission that takes longer than the time budget to check is a 422 naming the
field; and while one request is being checked, `/health` still answers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.engine.definitions import SourceFile
from app.main import create_app
from app.services.context import ServiceContext
from app.services.form_limits import DEFAULT_BUDGET_SECONDS
from app.services.forms import parse_form_files, validate_submission
from app.services.validation import validate
from tests.conftest import FIXTURES, STAFF_ROLES, route_files, token_for
from tests.security import post_files

BPMN = ("form_regex.bpmn", (FIXTURES / "form_regex.bpmn").read_bytes())
FORM_PATH = FIXTURES / "forms" / "form_regex.schema.json"
FORM = ("form_regex.schema.json", FORM_PATH.read_bytes())
HOSTILE = "a" * 30 + "!"
"""Python's re takes about 2**30 steps to refuse this against `^(a+)+$`."""
OUTLINE_DEPTH = 24
"""Each level of the outline is checked twice (`allOf` of the same `$ref` twice): 2**24 checks."""
HEALTH_LIMIT = 0.2


def _outline(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _start(client: httpx.Client) -> tuple[str, str]:
    """Deploy the fixture, start an instance; (instance id, its one task id)."""
    deployed = post_files(client, BPMN, FORM)  # type: ignore[arg-type]
    assert deployed.status_code == 201, deployed.text
    started = client.post("/api/v1/instances", json={"process_key": "form_regex"})
    assert started.status_code == 201, started.text
    body = started.json()
    return body["id"], body["ready_tasks"][0]["id"]


def _still_ready(client: TestClient, instance_id: str, task_id: str) -> None:
    instance = client.get(f"/api/v1/instances/{instance_id}").json()
    assert instance["status"] == "running"
    assert [task["id"] for task in instance["ready_tasks"]] == [task_id]


def _fields(response: httpx.Response) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def test_backtracking_values_are_answered_at_once(client: TestClient) -> None:
    instance_id, task_id = _start(client)
    began = time.monotonic()
    response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {
        "code": HOSTILE, "tags": {"t" * 40 + "!": 1}, "seen_on": "2026-02-30"}})
    took = time.monotonic() - began
    assert response.status_code == 422, response.text
    fields = _fields(response)
    assert "does not match '^(a+)+$'" in fields["code"]
    assert "does not match any of the regexes" in fields["tags"]
    assert "is not a 'date'" in fields["seen_on"]
    assert took < 1.0, f"the hostile values took {took:.2f} s"
    _still_ready(client, instance_id, task_id)
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {
        "code": "aaaa", "letters": "Zoë", "tags": {"ttt": 3}, "seen_on": "2026-02-28"}})
    assert done.status_code == 200, done.text


@pytest.mark.parametrize(("pattern", "where"), [
    (r"^(\w+)\s\1$", "pattern"),
    (r"^(?=.*\d)[a-z0-9]+$", "pattern"),
    (r"(?<!x)y", "pattern"),
    (r"(?!a)b", "patternProperties"),
])
def test_a_pattern_re2_cannot_run_is_a_deploy_error(client: TestClient, pattern: str,
                                                     where: str) -> None:
    field: dict[str, Any] = {"type": "string", "pattern": pattern} if where == "pattern" \
        else {"type": "object", "patternProperties": {pattern: {"type": "string"}}}
    schema = {"type": "object", "properties": {"code": field}}
    response = post_files(client, BPMN, ("form_regex.schema.json", json.dumps(schema).encode()))
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert [p["file"] for p in problems] == ["form_regex.schema.json"], problems
    assert repr(pattern) in problems[0]["reason"]
    assert f"/properties/code/{where}" in problems[0]["reason"]
    assert client.get("/api/v1/definitions").json() == []


def test_unevaluated_properties_beside_pattern_properties_is_a_deploy_error() -> None:
    schema = {"type": "object", "patternProperties": {"^x": {}}, "unevaluatedProperties": False}
    forms, problems = parse_form_files([SourceFile("forms/f.schema.json",
                                                   json.dumps(schema).encode())])
    assert forms == {}
    assert ["unevaluatedProperties" in p.reason for p in problems] == [True]


def test_the_shipped_processes_have_no_problem() -> None:
    files = [SourceFile(path.name, path.read_bytes()) for path in route_files()]
    assert validate(files).problems == []


def test_the_budget_names_the_field_where_time_ran_out() -> None:
    schema = json.loads(FORM_PATH.read_text())
    began = time.monotonic()
    errors = validate_submission(schema, {"code": "aaa", "outline": _outline(OUTLINE_DEPTH)},
                                 time_budget=0.05)
    took = time.monotonic() - began
    assert len(errors) == 1, errors
    assert errors[0]["field"].startswith("outline.0"), errors
    assert "0.05 s" in errors[0]["message"]
    assert took < 1.0
    assert validate_submission(schema, {"outline": _outline(3)}, time_budget=0.05) == []


def test_a_submission_past_the_budget_is_422_naming_the_field(client: TestClient) -> None:
    instance_id, task_id = _start(client)
    began = time.monotonic()
    response = client.post(f"/api/v1/tasks/{task_id}/complete",
                           json={"data": {"outline": _outline(OUTLINE_DEPTH)}})
    took = time.monotonic() - began
    assert response.status_code == 422, response.text
    [(field, message)] = _fields(response).items()
    assert field.startswith("outline.0") and "longer than the limit" in message
    assert DEFAULT_BUDGET_SECONDS <= took < DEFAULT_BUDGET_SECONDS + 2.0
    _still_ready(client, instance_id, task_id)


@pytest.fixture
def served(ctx: ServiceContext) -> Any:
    """The app on a real uvicorn server in a thread; yields its base URL. The socket listens
    before the server starts, so requests queue until it accepts them: no wait is needed."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(context=ctx), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listening.close()


def test_health_answers_while_a_hostile_value_is_checked(ctx: ServiceContext,
                                                        served: str) -> None:
    headers = {"Authorization": f"Bearer {token_for(ctx, *STAFF_ROLES, name='tester')}"}
    with httpx.Client(base_url=served, headers=headers, timeout=30) as http:
        _instance_id, task_id = _start(http)
        answered: dict[str, httpx.Response] = {}

        def hostile() -> None:
            answered["complete"] = http.post(f"/api/v1/tasks/{task_id}/complete", json={
                "data": {"code": HOSTILE, "outline": _outline(OUTLINE_DEPTH)}})

        worker = threading.Thread(target=hostile)
        timings: list[float] = []
        with httpx.Client(base_url=served, timeout=5) as probe:
            assert probe.get("/health").status_code == 200  # the connection, before timing
            worker.start()
            while worker.is_alive():
                began = time.monotonic()
                health = probe.get("/health")
                timings.append(time.monotonic() - began)
                assert health.status_code == 200, health.text
            worker.join()
    assert answered["complete"].status_code == 422, answered["complete"].text
    assert len(timings) >= 3, "the hostile request ended before /health was asked"
    assert max(timings) < HEALTH_LIMIT, f"/health took {sorted(timings)}"
