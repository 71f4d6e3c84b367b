"""Access control, audit and hostile-input tests; shared helpers live here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

PROBE_LANES = ("board_manager", "chair", "panel_member", "reviewer", "agency_lead")


def _lane_probe_bpmn() -> bytes:
    """A process that opens one task in every lane at once (`work_<lane>`, no forms).

    The agency lane's task belongs to the agency in the instance's `agency` data, so a test
    gets fresh tasks for any lane, and for any agency, with one POST /api/v1/instances.
    """
    lanes = "".join(f'<bpmn:lane id="lane_{lane}" name="{lane}">'
                    f"<bpmn:flowNodeRef>work_{lane}</bpmn:flowNodeRef></bpmn:lane>"
                    for lane in PROBE_LANES)
    tasks = "".join(
        f'<bpmn:userTask id="work_{lane}" name="Work as {lane}">'
        f"<bpmn:incoming>in_{lane}</bpmn:incoming><bpmn:outgoing>out_{lane}</bpmn:outgoing>"
        f"</bpmn:userTask>"
        f'<bpmn:sequenceFlow id="in_{lane}" sourceRef="split" targetRef="work_{lane}"/>'
        f'<bpmn:sequenceFlow id="out_{lane}" sourceRef="work_{lane}" targetRef="join"/>'
        for lane in PROBE_LANES)
    outgoing = "".join(f"<bpmn:outgoing>in_{lane}</bpmn:outgoing>" for lane in PROBE_LANES)
    incoming = "".join(f"<bpmn:incoming>out_{lane}</bpmn:incoming>" for lane in PROBE_LANES)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
  targetNamespace="http://reviewflow.example/tests">
  <bpmn:process id="lane_probe" name="One task in every lane" isExecutable="true">
    <bpmn:laneSet id="lanes">{lanes}</bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:parallelGateway id="split"><bpmn:incoming>f1</bpmn:incoming>{outgoing}
    </bpmn:parallelGateway>
    {tasks}
    <bpmn:parallelGateway id="join">{incoming}<bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
    <bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


LANE_PROBE_BPMN = _lane_probe_bpmn()

LEAK_MARKERS = ("Traceback", 'File "', "sqlalchemy", "SELECT ", "psycopg")
"""What no response body may contain: a stack trace, SQL or the database driver's name."""


def assert_no_leak(response: Any) -> None:
    body = response.text
    leaked = [marker for marker in LEAK_MARKERS if marker in body]
    leaked += [name for name in ("sqlalchemy", "psycopg") if name in body.lower()
               and name not in leaked]
    assert not leaked, f"{response.request.method} {response.request.url} -> " \
                       f"{response.status_code} leaks {leaked}: {body[:500]}"


def post_files(client: TestClient, *named: tuple[str, bytes], **params: Any) -> Any:
    """POST /api/v1/deployments with the given (file name, content) pairs."""
    return client.post("/api/v1/deployments", params=params or None,
                       files=[("files", (name, content, "application/xml"))
                              for name, content in named])


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every /api/v1 route and /health, however the routers are nested."""
    try:
        from fastapi.routing import iter_route_contexts
        routes: Any = iter_route_contexts(app.routes)
    except ImportError:  # older FastAPI: included routers are flattened into app.routes
        routes = app.routes
    found = set()
    for route in routes:
        path = getattr(route, "path", None)
        if path is None or not (path.startswith("/api/v1") or path == "/health"):
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, path))
    return found

