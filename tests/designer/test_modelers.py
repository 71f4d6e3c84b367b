"""Files from the common modelers deploy and run; every MIWG model is reported, none crashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, ROOT

MIWG = ROOT.parent / "shared" / "bpmn-miwg"
BPMN_NS = b'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'


def original() -> bytes:
    return (FIXTURES / "divide.bpmn").read_bytes()


def prefixed(prefix: bytes) -> bytes:
    return original().replace(b"bpmn:", prefix + b":").replace(b"xmlns:bpmn=",
                                                              b"xmlns:" + prefix + b"=")


def default_namespace() -> bytes:
    return original().replace(BPMN_NS, b'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"') \
        .replace(b"<bpmn:", b"<").replace(b"</bpmn:", b"</")


def latin1() -> bytes:
    return original().replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"').replace(
        b"Enter a divisor", "Saisir le diviseur é".encode("iso-8859-1"))


def vendor_extensions() -> bytes:
    return original().replace(BPMN_NS, BPMN_NS + (
        b' xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
        b' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
        b' xmlns:signavio="http://www.signavio.com"')).replace(
        b'<bpmn:userTask id="enter_divisor" name="Enter a divisor">',
        b'<bpmn:userTask id="enter_divisor" name="Enter a divisor" camunda:asyncBefore="true"'
        b' camunda:assignee="someone"><bpmn:extensionElements>'
        b'<camunda:inputOutput><camunda:inputParameter name="x">1</camunda:inputParameter>'
        b'</camunda:inputOutput><zeebe:taskDefinition type="worker" />'
        b'<signavio:signavioMetaData metaKey="bgcolor" metaValue="#ffffff" />'
        b'</bpmn:extensionElements>')


VARIANTS = {
    "bpmn2-prefix": lambda: prefixed(b"bpmn2"),
    "semantic-prefix": lambda: prefixed(b"semantic"),
    "default-namespace": default_namespace,
    "iso-8859-1": latin1,
    "camunda-zeebe-signavio-extensions": vendor_extensions,
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_modeler_variant_deploys_and_runs(client: TestClient, variant: str) -> None:
    content = VARIANTS[variant]()
    response = client.post("/api/v1/deployments",
                           files=[("files", (f"{variant}.bpmn", content, "application/xml"))])
    assert response.status_code == 201, response.text
    started = client.post("/api/v1/instances", json={"process_key": "divide"}).json()
    [task] = started["ready_tasks"]
    assert task["lane"] == "reviewer"
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"divisor": 5}})
    assert done.status_code == 200
    assert done.json()["data"]["result"] == 2


MIWG_FILES = sorted(MIWG.rglob("*.bpmn")) if MIWG.is_dir() else []


@pytest.mark.skipif(not MIWG_FILES, reason="../shared/bpmn-miwg is not present")
@pytest.mark.parametrize("path", MIWG_FILES, ids=lambda p: str(p.relative_to(MIWG)))
def test_miwg_model_deploys_or_is_reported(client: TestClient, path: Path) -> None:
    files = [("files", (path.name, path.read_bytes(), "application/xml"))]
    report = client.post("/api/v1/deployments", params={"dry_run": "true"}, files=files)
    assert report.status_code == 200, report.text
    [file_report] = [f for f in report.json()["files"] if f["file"] == path.name]
    deploy = client.post("/api/v1/deployments", files=files)
    if file_report["deployable"]:
        assert deploy.status_code == 201, deploy.text
    else:
        assert deploy.status_code == 422
        assert file_report["problems"]
        for problem in file_report["problems"]:
            assert problem["reason"]
            assert problem["element_id"] or problem["line"] or "isExecutable" in \
                problem["reason"] or "process" in problem["reason"], problem
    assert client.get("/health").status_code == 200
