"""Health, body size limits, and no stack traces."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.main import create_app
from app.services.context import build_context
from app.settings import Settings


def test_health_reports_database(client: TestClient, database_url: str) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": database_url.split(":")[0].split("+")[0],
                               "workers": []}


def test_health_reports_unreachable_database() -> None:
    context = build_context(Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    try:
        with TestClient(create_app(context=context)) as client:
            response = client.get("/health")
    finally:
        context.close()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_oversize_body_is_413(client: TestClient) -> None:
    big = {"process_key": "x", "data": {"blob": "a" * 2_000_000}}
    response = client.post("/api/v1/instances", json=big)
    assert response.status_code == 413
    assert "larger" in response.json()["detail"]


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["code"] == "http_error"
