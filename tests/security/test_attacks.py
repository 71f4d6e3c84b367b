"""Hostile input through the HTTP API: XML attacks, sandbox escapes, oversized and ill-typed
bodies, out-of-range values. None may harm the server or leak a stack trace, SQL or the driver."""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import Deployment, ProcessInstance
from app.main import create_app
from app.services.context import ServiceContext, build_context
from app.settings import Settings
from tests.conftest import (
    FIXTURES,
    PROCESSES,
    STAFF_ROLES,
    ClientFactory,
    demo_files,
    route_files,
    token_for,
    upload,
)
from tests.security import LANE_PROBE_BPMN, assert_no_leak, post_files

DIVIDE = (FIXTURES / "divide.bpmn").read_text()
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
PASSWD_MARKERS = ("root:x:", "root:*:", "/bin/bash", "/usr/sbin/nologin")


def _with_doctype(document: str, doctype: str) -> str:
    assert document.startswith(DECLARATION)
    return document.replace(DECLARATION, f"{DECLARATION}\n{doctype}", 1)


def _billion_laughs(root: str) -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return f'<?xml version="1.0"?>\n<!DOCTYPE lolz [{"".join(entities)}]>\n{root}'


XXE = '<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
BPMN_ROOT = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
             'targetNamespace="http://x"><bpmn:process id="laughs" name="&lol9;" '
             'isExecutable="true"/></bpmn:definitions>')
GRADING_DMN = (PROCESSES / "demo_grading.dmn").read_text()
DMN_ROOT = ('<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="x" '
            'namespace="http://x"><decision id="laughs" name="&lol9;"/></definitions>')

XML_ATTACKS: dict[str, tuple[str, bytes]] = {
    "xxe in an attribute": ("xxe_attribute.bpmn", _with_doctype(DIVIDE, XXE).replace(
        'name="Divide by what the reviewer enters"', 'name="&xxe;"').encode()),
    "xxe in text": ("xxe_text.bpmn", _with_doctype(DIVIDE, XXE).replace(
        "<bpmn:script>result = 10 / divisor</bpmn:script>",
        "<bpmn:script>result = '&xxe;'</bpmn:script>").encode()),
    "external DTD over the network": ("remote_dtd.bpmn", _with_doctype(
        DIVIDE, '<!DOCTYPE bpmn:definitions SYSTEM "http://127.0.0.1:9/evil.dtd">').encode()),
    "parameter entity": ("parameter_entity.bpmn", _with_doctype(
        DIVIDE, '<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>').encode()),
    "billion laughs": ("laughs.bpmn", _billion_laughs(BPMN_ROOT).encode()),
    "quadratic blowup": ("quadratic.bpmn", _with_doctype(
        DIVIDE, f'<!DOCTYPE x [<!ENTITY a "{"a" * 50_000}">]>').replace(
        'name="Divide by what the reviewer enters"', f'name="{"&a;" * 2_000}"').encode()),
    "dmn with xxe": ("xxe_grading.dmn", _with_doctype(
        GRADING_DMN, '<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')
        .replace('name="Demo grading">', 'name="&xxe;">').encode()),
    "dmn billion laughs": ("laughs.dmn", _billion_laughs(DMN_ROOT).encode()),
}


def _deployments(ctx: ServiceContext) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Deployment)) or 0


def _server_still_answers(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/api/v1/definitions").status_code == 200


@pytest.mark.parametrize("attack", list(XML_ATTACKS))
def test_xml_attack_is_rejected_naming_the_file(attack: str, client: TestClient,
                                                ctx: ServiceContext) -> None:
    name, content = XML_ATTACKS[attack]
    started = time.monotonic()
    response = post_files(client, (name, content))
    assert time.monotonic() - started < 5, "the parser did the work the attack asked for"
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid"
    assert name in {problem["file"] for problem in body.get("problems", [])} \
        or name in body["detail"], body
    assert not any(marker in response.text for marker in PASSWD_MARKERS)
    assert_no_leak(response)
    assert _deployments(ctx) == 0
    assert client.get("/api/v1/definitions").json() == []
    assert client.post("/api/v1/decisions/demo_grading/evaluate",
                       json={"data": {}}).status_code == 404
    _server_still_answers(client)
    upload(client, *demo_files())  # and it still deploys honest files


def test_dry_run_reports_the_attack_without_resolving_it(client: TestClient,
                                                        ctx: ServiceContext) -> None:
    name, content = XML_ATTACKS["xxe in text"]
    response = post_files(client, (name, content), dry_run="true")
    assert response.status_code in (200, 422), response.text
    assert not any(marker in response.text for marker in PASSWD_MARKERS)
    assert name in response.text
    if response.status_code == 200:
        assert response.json()["valid"] is False
    assert_no_leak(response)
    assert _deployments(ctx) == 0


def test_oversize_file_is_rejected_naming_the_file(client: TestClient,
                                                  ctx: ServiceContext) -> None:
    limit = ctx.settings.max_upload_bytes
    padding = b"<!--" + b"x" * (limit + 1 - len(DIVIDE) - 7) + b"-->"
    content = DIVIDE.encode() + b"\n" + padding
    assert len(content) > limit
    response = post_files(client, ("huge.bpmn", content))
    assert response.status_code == 422, response.text[:500]
    body = response.json()
    assert "huge.bpmn" in body["detail"]
    assert [p["file"] for p in body["problems"]] == ["huge.bpmn"]
    assert_no_leak(response)
    assert _deployments(ctx) == 0
    _server_still_answers(client)


def test_upload_body_over_the_total_limit_is_413(database_url: str, ctx: ServiceContext) -> None:
    """The whole multipart body has a limit too (20 files' worth); a small one makes it cheap."""
    settings = Settings(database_url=database_url, processes_dir=PROCESSES,
                        max_upload_bytes=10_000)
    small = build_context(settings, clock=ctx.clock)
    try:
        token = token_for(small, "designer", name="designer")
        with TestClient(create_app(context=small),
                        headers={"Authorization": f"Bearer {token}"}) as client:
            files = [(f"f{i}.bpmn", b"<x/>" + b" " * 9_000) for i in range(25)]
            response = post_files(client, *files)
            assert response.status_code == 413, response.text[:300]
            assert response.json()["code"] == "too_large"
            assert_no_leak(response)
            assert client.get("/health").status_code == 200
    finally:
        small.close()
    assert _deployments(ctx) == 0


# ---- sandbox escapes ---------------------------------------------------------------------

SCRIPT_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="http://reviewflow.example/tests">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="escape_step" name="Escape attempt"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="escape_step" />
    <bpmn:sequenceFlow id="f2" sourceRef="escape_step" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""

# Each script would create MARKER (or leak /etc/passwd into the process data) if it ran.
ESCAPES: dict[str, str] = {
    "import": "import os\nos.makedirs(MARKER)",
    "open": "leaked = open('/etc/passwd').read()\nopen(MARKER, 'w').write(leaked)",
    "subclasses": ("classes = ().__class__.__bases__[0].__subclasses__()\n"
                   "popen = [c for c in classes if c.__name__ == 'Popen'][0]\n"
                   "popen(['mkdir', MARKER])"),
    "eval": "eval(\"__import__('os').makedirs(MARKER)\")",
    "exec": "exec('import os; os.makedirs(MARKER)')",
    "function globals": ("def f():\n    pass\n"
                         "g = getattr(f, '__globals__')\n"
                         "g['__builtins__']['__import__']('os').makedirs(MARKER)"),
    "format string": "leaked = '{0.__class__.__mro__}'.format(1)",
    "dunder import": "__import__('os').makedirs(MARKER)",
    "builtins via getattr": "getattr(getattr(len, '__self__'), 'open')(MARKER, 'w')",
    "endless loop": "while True:\n    pass\nopen(MARKER, 'w')",
}
CLEAR_WORDS = ("not allowed", "time limit", "private", "reserved")


def _script_process(key: str, script: str, marker: Path) -> bytes:
    code = f"MARKER = {str(marker)!r}\n{script}"
    return SCRIPT_PROCESS.format(key=key, script=html.escape(code)).encode()


def _instances(ctx: ServiceContext, key: str) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.process_key == key)) or 0


@pytest.mark.parametrize("escape", list(ESCAPES))
def test_script_escape_fails_the_step_and_runs_nothing(escape: str, client: TestClient,
                                                      ctx: ServiceContext,
                                                      tmp_path: Path) -> None:
    """Deploying may work (today nothing checks scripts at deployment) or be refused naming the
    element; running fails the step with 422 naming the element and saying what is not allowed
    (or that the time limit was hit); the script's effect never happens."""
    key = "escape_" + "".join(ch if ch.isalnum() else "_" for ch in escape)
    marker = tmp_path / "escaped"
    deployed = post_files(client, (f"{key}.bpmn", _script_process(key, ESCAPES[escape], marker)))
    assert_no_leak(deployed)
    if deployed.status_code == 422:  # refused at validation: acceptable, if it says why
        problem = deployed.json()["problems"][0]
        assert problem["element_id"] == "escape_step", problem
        assert any(word in problem["reason"] for word in CLEAR_WORDS), problem
    else:
        assert deployed.status_code == 201, deployed.text
        started = time.monotonic()
        response = client.post("/api/v1/instances", json={"process_key": key})
        assert time.monotonic() - started < 15
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "step_failed"
        assert body["element_id"] == "escape_step"
        assert body["element_name"] == "Escape attempt"
        assert any(word in body["message"] for word in CLEAR_WORDS), body
        assert "Escape attempt" in body["detail"]
        assert not any(marker_text in response.text for marker_text in PASSWD_MARKERS)
        assert "<class" not in response.text
        assert_no_leak(response)
        assert _instances(ctx, key) == 0
    assert not marker.exists(), "the script ran"
    _server_still_answers(client)


GATEWAY_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="http://reviewflow.example/tests">
  <bpmn:process id="escape_gateway" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="choose" name="Choose" default="f3">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_a"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_b"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="choose" />
    <bpmn:sequenceFlow id="f2" sourceRef="choose" targetRef="end_a">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="choose" targetRef="end_b" />
  </bpmn:process>
</bpmn:definitions>"""


def test_gateway_condition_escape_fails_the_step(client: TestClient, ctx: ServiceContext,
                                                tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    condition = html.escape(f"__import__('os').makedirs({str(marker)!r}) or True")
    deployed = post_files(client, ("gateway.bpmn",
                                   GATEWAY_PROCESS.format(condition=condition).encode()))
    assert_no_leak(deployed)
    if deployed.status_code == 201:
        response = client.post("/api/v1/instances", json={"process_key": "escape_gateway"})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "step_failed"
        assert response.json()["element_id"] in ("choose", "f2")
        assert "not allowed" in response.json()["message"]
        assert_no_leak(response)
        assert _instances(ctx, "escape_gateway") == 0
    else:
        assert deployed.status_code == 422, deployed.text
        assert "not allowed" in deployed.text
    assert not marker.exists()


def test_dmn_expression_escape_fails_the_evaluation(client: TestClient,
                                                    tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    evil = GRADING_DMN.replace('id="demo_grading"', 'id="evil_grading"').replace(
        "<text>child_died</text>",
        f"<text>{html.escape(f'__import__(chr(111) + chr(115)).makedirs({str(marker)!r})')}"
        " or child_died</text>")
    deployed = post_files(client, ("evil_grading.dmn", evil.encode()))
    assert_no_leak(deployed)
    if deployed.status_code == 201:
        response = client.post("/api/v1/decisions/evil_grading/evaluate",
                               json={"data": {"child_died": True}})
        assert response.status_code == 422, response.text
        assert "evil_grading" in response.json()["detail"]
        assert "not allowed" in response.text
        assert_no_leak(response)
    else:
        assert deployed.status_code == 422, deployed.text
        assert "evil_grading.dmn" in deployed.text
    assert not marker.exists()


# ---- request bodies -------------------------------------------------------------------------

REFERRAL = {"child_pseudonym": "Child A", "agencies": ["police"], "incident_date": "2026-02-20",
            "summary": "Admitted to hospital.", "facts": {}}


def _cases(client: TestClient) -> int:
    return int(client.get("/api/v1/cases").json()["total"])


def test_too_large_json_body_is_413(client: TestClient, ctx: ServiceContext) -> None:
    upload(client, *route_files())
    limit = ctx.settings.max_request_bytes
    big = {**REFERRAL, "summary": "a" * (limit + 10)}
    response = client.post("/api/v1/referrals", json=big)
    assert response.status_code == 413, response.text[:300]
    assert response.json()["code"] == "too_large"
    assert_no_leak(response)

    def chunks() -> Any:  # no Content-Length: the limit holds while the body streams in
        yield b'{"child_pseudonym": "Child A", "summary": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    streamed = client.post("/api/v1/referrals", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413, streamed.text[:300]
    assert_no_leak(streamed)
    assert _cases(client) == 0
    assert client.post("/api/v1/referrals", json=REFERRAL).status_code == 201


def test_wrong_types_are_422_naming_each_field(client: TestClient) -> None:
    response = client.post("/api/v1/referrals", json={
        "child_pseudonym": 5, "agencies": "police", "incident_date": "not a date",
        "summary": ["x"], "facts": {"child_died": "maybe", "interagency_concern": "lots"},
        "smuggled": True})
    assert response.status_code == 422, response.text
    body = response.json()
    fields = {error["field"] for error in body["errors"]}
    expected = {"child_pseudonym", "agencies", "incident_date", "summary", "facts.child_died",
                "facts.interagency_concern", "smuggled"}
    assert expected <= fields, fields
    for field in expected:
        assert field in body["detail"]
    assert all(error["message"] for error in body["errors"])
    assert_no_leak(response)

    instance = client.post("/api/v1/instances", json={"process_key": 1, "data": [1, 2]})
    assert instance.status_code == 422
    assert {e["field"] for e in instance.json()["errors"]} >= {"process_key", "data"}
    query = client.get("/api/v1/tasks", params={"limit": "many", "due_before": "yesterday",
                                                "state": "asleep"})
    assert query.status_code == 422
    assert {e["field"] for e in query.json()["errors"]} >= {"limit", "due_before", "state"}
    not_json = client.post("/api/v1/instances", content=b'{"process_key": ',
                           headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422, not_json.text
    for reply in (instance, query, not_json):
        assert_no_leak(reply)


# ---- out-of-range values and other hostile strings ----------------------------------------

HUGE = str(2**64)  # beyond SQLite's INTEGER and PostgreSQL's bigint
INT32 = str(2**31)  # beyond PostgreSQL's integer (process versions)


def test_hostile_values_are_client_errors_never_5xx(ctx: ServiceContext,
                                                    make_client: ClientFactory) -> None:
    app = make_client("designer", name="designer").app

    def caller(*roles: str) -> TestClient:  # a 500 comes back as a response, not an exception
        token = token_for(ctx, *roles, name="-".join(roles))
        return TestClient(app, raise_server_exceptions=False,
                          headers={"Authorization": f"Bearer {token}"})

    client, auditor = caller(*STAFF_ROLES), caller("auditor")
    assert post_files(client, ("lane_probe.bpmn", LANE_PROBE_BPMN)).status_code == 201
    started = client.post("/api/v1/instances", json={"process_key": "lane_probe"})
    assert started.status_code == 201, started.text
    instance = started.json()["id"]
    requests: list[tuple[TestClient, str, str, dict[str, Any] | None]] = [
        (client, "GET", f"/api/v1/definitions/lane_probe/versions/{HUGE}/xml", None),
        (client, "GET", f"/api/v1/definitions/lane_probe/versions/{INT32}/xml", None),
        (client, "GET", f"/api/v1/definitions/lane_probe/diagram.svg?version={HUGE}", None),
        (client, "GET", f"/api/v1/definitions/lane_probe/heat?version={INT32}", None),
        (client, "GET", f"/api/v1/definitions/lane_probe/diff?from=1&to={INT32}", None),
        (client, "POST", "/api/v1/definitions/lane_probe/migrate", {"to_version": 2**64}),
        (client, "POST", f"/api/v1/instances/{instance}/migrate", {"to_version": 2**64}),
        (client, "GET", f"/api/v1/tasks?offset={HUGE}", None),
        (client, "GET", f"/api/v1/cases?offset={HUGE}", None),
        (client, "GET", f"/api/v1/instances?offset={HUGE}", None),
        (client, "GET", f"/api/v1/instances/{instance}/timeline?after_id={HUGE}", None),
        (auditor, "GET", f"/api/v1/audit?offset={HUGE}", None),
        (client, "GET", "/api/v1/cases/LIR-2026-%00", None),
        (client, "GET", "/api/v1/tasks/%00", None),
        (client, "GET", "/api/v1/tasks?business_key=%00", None),
        (client, "GET", "/api/v1/cases/' OR 1=1 --", None),
        (client, "POST", "/api/v1/instances", {"process_key": "lane\x00probe"}),
        (client, "POST", "/api/v1/messages", {"name": "x", "business_key": "\x00"}),
        (client, "GET", "/api/v1/definitions/%00", None),
        (client, "POST", "/api/v1/referrals", {**REFERRAL, "child_pseudonym": "Child\x00A"}),
    ]
    failures = []
    for caller, method, url, body in requests:
        response = caller.request(method, url, json=body)
        assert_no_leak(response)
        if response.status_code >= 500:
            failures.append(f"{method} {url} {body or ''} -> {response.status_code} "
                            f"{response.text[:200]}")
    assert not failures, "\n".join(failures)
    _server_still_answers(client)
