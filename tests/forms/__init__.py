"""The Board's form keywords and agency register, through the real app and database.

`start_keywords` deploys `fixtures/form_keywords.bpmn`: a script sets the process data the
keywords compare with (`scr_publication_limit` 2026-09-01, `readership` whole), then two board
manager tasks, `answer` (keywords_test.schema.json) and `name_agencies` (agencies_test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import upload

FIXTURES = Path(__file__).resolve().parent / "fixtures"
KEYWORD_FILES = [FIXTURES / "form_keywords.bpmn", FIXTURES / "keywords_test.schema.json",
                 FIXTURES / "agencies_test.schema.json"]


def start_keywords(client: TestClient) -> dict[str, Any]:
    """A new instance of the fixture process; its body (with `ready_tasks`)."""
    upload(client, *KEYWORD_FILES)
    response = client.post("/api/v1/instances", json={"process_key": "form_keywords",
                                                      "business_key": "FORMS-1"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def complete(client: TestClient, task_id: str, data: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data})


def errors_of(response: Any) -> dict[str, list[str]]:
    """A 422's errors by field."""
    assert response.status_code == 422, response.text
    grouped: dict[str, list[str]] = {}
    for error in response.json()["errors"]:
        grouped.setdefault(error["field"], []).append(error["message"])
    return grouped
