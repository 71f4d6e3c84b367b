"""Deploying files: versions only on change, definitions, XML, and clear errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, demo_files, upload


def post_files(client: TestClient, *named: tuple[str, bytes]):
    return client.post("/api/v1/deployments",
                       files=[("files", (name, content, "application/xml"))
                              for name, content in named])


def test_deploy_creates_version_once_per_content(client: TestClient) -> None:
    first = upload(client, *demo_files())
    assert first["processes"] == [{"key": "demo_triage", "version": 1,
                                   "name": "Demo triage of a referral", "created": True}]
    again = upload(client, *demo_files())
    assert again["processes"][0]["version"] == 1
    assert again["processes"][0]["created"] is False
    assert again["deployment_id"] is None

    changed = (FIXTURES.parent.parent / "processes" / "demo_triage.bpmn").read_bytes().replace(
        b'name="Screen the referral"', b'name="Screen the referral now"')
    forms = [(p.name, p.read_bytes()) for p in demo_files() if p.suffix != ".bpmn"]
    response = post_files(client, ("demo_triage.bpmn", changed), *forms)
    assert response.status_code == 201, response.text
    assert response.json()["processes"][0]["version"] == 2

    listed = client.get("/api/v1/definitions").json()
    assert [(d["process_key"], d["version"], d["versions"]) for d in listed] == [
        ("demo_triage", 2, 2)]
    versions = client.get("/api/v1/definitions/demo_triage").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    xml = client.get("/api/v1/definitions/demo_triage/versions/2/xml")
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/xml")
    assert xml.content == changed
    old = client.get("/api/v1/definitions/demo_triage/versions/1/xml")
    assert b"Screen the referral now" not in old.content


def test_changed_form_makes_a_new_version(client: TestClient) -> None:
    upload(client, *demo_files())
    files = [(p.name, p.read_bytes()) for p in demo_files()]
    files = [(name, content.replace(b"Reason for the recommendation", b"Why?"))
             if name == "demo_screening.schema.json" else (name, content)
             for name, content in files]
    response = post_files(client, *files)
    assert response.json()["processes"][0]["version"] == 2


def test_unknown_definition_is_404(client: TestClient) -> None:
    for path in ("/api/v1/definitions/nope", "/api/v1/definitions/nope/versions/1/xml"):
        response = client.get(path)
        assert response.status_code == 404
        assert "nope" in response.json()["detail"]


def test_missing_flow_target_names_file_and_flow(client: TestClient) -> None:
    bad = (FIXTURES / "divide.bpmn").read_bytes().replace(
        b'targetRef="check_result"', b'targetRef="no_such_task"')
    response = post_files(client, ("broken.bpmn", bad))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    problem = body["problems"][0]
    assert problem["file"] == "broken.bpmn"
    assert problem["element_id"] == "f3"
    assert "no_such_task" in problem["reason"]
    assert problem["line"] is not None
    assert client.get("/api/v1/definitions").json() == []


def test_malformed_xml_is_422_with_line(client: TestClient) -> None:
    response = post_files(client, ("bad.bpmn", b"<?xml version='1.0'?>\n<definitions>\n<oops"))
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["file"] == "bad.bpmn"
    assert "well-formed" in problem["reason"]
    assert problem["line"] is not None


def test_unknown_decision_reference_names_task(client: TestClient) -> None:
    bpmn = next(p for p in demo_files() if p.suffix == ".bpmn").read_bytes()
    forms = [(p.name, p.read_bytes()) for p in demo_files() if p.suffix == ".json"]
    response = post_files(client, ("demo_triage.bpmn", bpmn), *forms)
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["element_id"] == "grade_referral"
    assert "demo_grading" in problem["reason"]


def test_missing_form_is_reported(client: TestClient) -> None:
    files = [(p.name, p.read_bytes()) for p in demo_files()
             if p.name != "demo_endorsement.schema.json"]
    response = post_files(client, *files)
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["element_id"] == "endorse_review"
    assert "demo_endorsement.schema.json" in problem["reason"]


def test_invalid_form_schema_is_reported(client: TestClient) -> None:
    files = [(p.name, p.read_bytes()) for p in demo_files()
             if p.name != "demo_endorsement.schema.json"]
    files.append(("demo_endorsement.schema.json", b'{"type": "no-such-type"}'))
    response = post_files(client, *files)
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["file"] == "demo_endorsement.schema.json"
    assert "JSON Schema" in problem["reason"]


def test_unsupported_file_type_and_no_files(client: TestClient) -> None:
    response = post_files(client, ("notes.txt", b"hello"))
    assert response.status_code == 422
    assert response.json()["problems"][0]["file"] == "notes.txt"
    response = client.post("/api/v1/deployments")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "files"


def test_iso_8859_1_file_deploys(client: TestClient) -> None:
    latin = (FIXTURES / "divide.bpmn").read_text().replace(
        'encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        "Divide by what the reviewer enters", "Révision du diviseur")
    response = post_files(client, ("latin.bpmn", latin.encode("iso-8859-1")))
    assert response.status_code == 201, response.text
    assert response.json()["processes"][0]["name"] == "Révision du diviseur"
