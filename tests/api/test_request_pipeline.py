"""How a request reaches the database: one transaction for a step command (token check, step
and audit entry together), and an audit entry even for a request that fails unexpectedly."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from app.api.deps import ContextDep, PrincipalDep, get_context
from app.api.routing import ServiceRoute
from app.db.models import AuditEntry
from app.main import create_app
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, token_for, upload


def test_a_step_command_is_one_transaction(client: TestClient, ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()
    begun: list[Any] = []

    def on_begin(connection: Any) -> None:
        begun.append(connection)

    event.listen(ctx.engine, "begin", on_begin)
    try:
        response = client.post(f"/api/v1/tasks/{body['ready_tasks'][0]['id']}/complete",
                               json={"data": {"a": 1}})
    finally:
        event.remove(ctx.engine, "begin", on_begin)
    assert response.status_code == 200, response.text
    assert len(begun) == 1


def test_an_unexpected_failure_is_audited_as_500(ctx: ServiceContext) -> None:
    app = create_app(context=ctx)

    @app.get("/api/v1/instances-broken", name="broken_route")
    def broken() -> None:
        raise RuntimeError("a bug")

    token = token_for(ctx, "admin", name="admin-1")
    with TestClient(app, raise_server_exceptions=False) as caller:
        response = caller.get("/api/v1/instances-broken",
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert "a bug" not in response.text and "Traceback" not in response.text
    with ctx.uow() as uow:
        [entry] = uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "broken_route"))
    assert (entry.status, entry.outcome, entry.method) == (500, "failed", "GET")


def test_a_caller_on_a_route_that_would_not_check_it_fails_closed(ctx: ServiceContext) -> None:
    app = create_app(context=ctx)

    @app.get("/api/v1/instances-unchecked")
    def unchecked(principal: PrincipalDep) -> dict[str, str]:
        return {"name": str(getattr(principal, "name", "?"))}

    token = token_for(ctx, "admin", name="admin-1")
    with TestClient(app, raise_server_exceptions=False) as caller:
        response = caller.get("/api/v1/instances-unchecked",
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert "admin-1" not in response.text


def test_the_context_comes_with_the_caller_not_from_a_dependency(
        ctx: ServiceContext) -> None:
    """An endpoint taking both the context and the caller gets the caller's context from its
    route; one without a caller still has FastAPI resolve the context."""
    app = create_app(context=ctx)
    router = APIRouter(route_class=ServiceRoute)

    @router.get("/api/v1/instances-with-context")
    def with_caller(context: ContextDep, principal: PrincipalDep) -> dict[str, bool]:
        return {"same": context is ctx, "caller": principal.name == "reader-1"}

    @router.get("/api/v1/instances-context-only")
    def without_caller(context: ContextDep) -> dict[str, bool]:
        return {"same": context is ctx}

    app.include_router(router)
    solved = {route.path: [dependency.call for dependency in route.dependant.dependencies]
              for route in router.routes if isinstance(route, ServiceRoute)}
    assert get_context not in solved["/api/v1/instances-with-context"]
    assert get_context in solved["/api/v1/instances-context-only"]
    token = token_for(ctx, "auditor", name="reader-1")
    with TestClient(app) as caller:
        assert caller.get("/api/v1/instances-with-context",
                          headers={"Authorization": f"Bearer {token}"}).json() == {
            "same": True, "caller": True}
        assert caller.get("/api/v1/instances-context-only").json() == {"same": True}
