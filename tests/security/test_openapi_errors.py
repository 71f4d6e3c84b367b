"""The OpenAPI document is honest about errors: each operation documents the errors its edges
send (401, 403, 404, 413, 422, 503), the operations said to be open to every role answer no
role with 403, and date parameters accept only the ISO 8601 text they are documented as."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.api.openapi_errors import EVERY_ROLE
from app.main import create_app
from tests.conftest import ClientFactory, route_files

ROLES = ("board_manager", "chair", "panel_member", "reviewer", "agency_lead", "designer",
         "auditor", "admin")
ERROR = "#/components/schemas/ErrorPublic"


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    paths = create_app().openapi()["paths"]
    return [(method, path, operation) for path, item in paths.items()
            for method, operation in item.items()]


def test_every_operation_documents_the_errors_its_edges_send() -> None:
    missing: list[str] = []
    for method, path, operation in operations():
        responses = operation["responses"]
        expected = {"503"}
        if path.startswith("/api/"):
            assert operation.get("security"), f"{method} {path} needs no token?"
            expected |= {"401"} | ({"403"} if (method, path) not in EVERY_ROLE else set())
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"413", "422"}
        if operation.get("parameters"):
            expected.add("422")
        missing += [f"{status} on {method.upper()} {path}"
                    for status in sorted(expected - set(responses))]
        for status in expected & {"401", "403", "413"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ERROR}, f"{status} on {method} {path}: {schema}"
        if path.startswith("/api/"):
            assert "Retry-After" in responses["503"]["headers"], f"503 on {method} {path}"
    assert not missing, "undocumented: " + ", ".join(missing)


def test_every_role_list_names_real_operations() -> None:
    assert {(method, path) for method, path, _ in operations()} >= EVERY_ROLE


def _call(client: TestClient, method: str, path: str) -> int:
    url = (path.replace("{key}", "referral").replace("{version}", "1")
           .replace("{decision_id}", "grading"))
    params = {"from": 1, "to": 1} if url.endswith("/diff") else None
    body = {"data": {}} if method == "post" else None
    return client.request(method, url, params=params, json=body).status_code


def test_operations_open_to_every_role_refuse_no_role(make_client: ClientFactory) -> None:
    designer = make_client("designer")
    files = [("files", (p.name, p.read_bytes(), "application/xml")) for p in route_files()]
    assert designer.post("/api/v1/deployments", files=files).status_code == 201
    answers = {role: {(method, path): _call(client, method, path)
                      for method, path in sorted(EVERY_ROLE)}
               for role, client in ((role, make_client(role, agency="police"
                                                        if role == "agency_lead" else None))
                                    for role in ROLES)}
    refused = {role: [op for op, status in ops.items() if status == 403]
               for role, ops in answers.items()}
    assert not any(refused.values()), refused
    # the calls were real: each reached its resource
    assert all(status < 400 for status in answers["designer"].values()), answers["designer"]


LOOSE = [  # what pydantic alone would read as a date or a time, and the document does not
    ("/api/v1/tasks", "due_before", "0.5"),
    ("/api/v1/tasks", "due_after", "1677"),
    ("/api/v1/tasks", "due_before", "2026-04-02"),
    ("/api/v1/audit", "since", "1677"),
    ("/api/v1/audit", "until", "tomorrow"),
    ("/api/v1/actions", "due_before", "1677"),
    ("/api/v1/actions", "due_before", "2026-04-02T00:00:00Z"),
    ("/api/v1/actions", "due_before", "2026-02-30"),
]
ISO = [
    ("/api/v1/tasks", "due_before", "2026-04-02T12:00:00Z"),
    ("/api/v1/tasks", "due_after", "2026-04-02T12:00:00.5+01:00"),
    ("/api/v1/audit", "since", "2026-03-02T09:00:00+00:00"),
    ("/api/v1/actions", "due_before", "2026-04-02"),
]


def test_a_date_parameter_takes_only_iso_8601(make_client: ClientFactory) -> None:
    client = make_client("board_manager", "auditor")
    for path, name, value in LOOSE:
        response = client.get(path, params={name: value})
        assert response.status_code == 422, (path, name, value, response.text)
        assert [error["field"] for error in response.json()["errors"]] == [name]
    for path, name, value in ISO:
        response = client.get(path, params={name: value})
        assert response.status_code == 200, (path, name, value, response.text)

    referral = {"child_pseudonym": "Child A", "agencies": ["police"], "summary": "Hurt.",
                "facts": {"abuse_or_neglect": True, "seriously_harmed": True}}
    for value in (0, "86400", "2026-02-20T00:00:00Z"):  # a date in a body: the same rule
        response = client.post("/api/v1/referrals", json={**referral, "incident_date": value})
        assert response.status_code == 422, (value, response.text)
        assert [error["field"] for error in response.json()["errors"]] == ["incident_date"]
    response = client.post("/api/v1/referrals", json={**referral, "incident_date": "2026-02-20"})
    assert response.status_code == 404, response.text  # valid: on to "no referral process"
