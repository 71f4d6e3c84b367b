"""How a request reaches the database: a step command's writes (step and audit entry) commit in
one transaction, every request leaves one audit entry (even one that fails unexpectedly), and
the endpoints are plain FastAPI: dependency overrides and `response_model_*` options work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import event, func, select

from app.api import serving
from app.api.deps import AuditDep, PrincipalDep, caller
from app.auth.principal import Principal
from app.db.models import AuditEntry
from app.main import create_app
from app.services.context import ServiceContext
from tests.conftest import FIXTURES, token_for, upload

WRITES = ("INSERT", "UPDATE", "DELETE")


def test_a_step_command_writes_in_one_transaction(client: TestClient,
                                                  ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()
    pending: dict[int, list[str]] = {}
    committed: list[list[str]] = []

    def before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        pending.setdefault(id(conn), []).append(statement)

    def on_commit(conn: Any) -> None:
        committed.append(pending.pop(id(conn), []))

    event.listen(ctx.engine, "before_cursor_execute", before)
    event.listen(ctx.engine, "commit", on_commit)
    try:
        response = client.post(f"/api/v1/tasks/{body['ready_tasks'][0]['id']}/complete",
                               json={"data": {"a": 1}})
    finally:
        event.remove(ctx.engine, "before_cursor_execute", before)
        event.remove(ctx.engine, "commit", on_commit)
    assert response.status_code == 200, response.text
    writing = [statements for statements in committed
               if any(statement.startswith(WRITES) for statement in statements)]
    assert len(writing) == 1
    [statements] = writing
    for table in ("UPDATE process_instance", "UPDATE human_task", "INSERT INTO event",
                  "INSERT INTO audit_log"):
        assert any(statement.startswith(table) for statement in statements), table


def _entries(ctx: ServiceContext, action: str) -> list[tuple[int, str | None]]:
    with ctx.uow() as uow:
        return list(uow.session.execute(select(AuditEntry.status, AuditEntry.actor).where(
            AuditEntry.action == action)).all())


def test_every_request_leaves_one_audit_entry(client: TestClient, ctx: ServiceContext) -> None:
    upload(client, FIXTURES / "parallel_review.bpmn")
    body = client.post("/api/v1/instances", json={"process_key": "parallel_review"}).json()
    task_id = body["ready_tasks"][0]["id"]
    assert client.get("/api/v1/tasks").status_code == 200
    assert client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}}).status_code == 200
    assert client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {}}).status_code == 409
    assert client.get("/api/v1/tasks/nothing-here").status_code == 404
    assert [status for status, _actor in _entries(ctx, "list_tasks")] == [200]
    assert sorted(status for status, _actor in _entries(ctx, "complete_task")) == [200, 409]
    assert [status for status, _actor in _entries(ctx, "get_task")] == [404]
    with ctx.uow() as uow:
        starts = uow.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "start_instance"))
    assert starts == 1


def test_an_unexpected_failure_is_audited_as_500(ctx: ServiceContext) -> None:
    app = create_app(context=ctx)

    @app.get("/api/v1/instances-broken", name="broken_route")
    def broken() -> None:
        raise RuntimeError("a bug")

    token = token_for(ctx, "admin", name="admin-1")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/instances-broken",
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert "a bug" not in response.text and "Traceback" not in response.text
    with ctx.uow() as uow:
        [entry] = uow.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "broken_route"))
    assert (entry.status, entry.outcome, entry.method) == (500, "failed", "GET")


def test_an_answer_that_fails_after_its_entry_is_audited_as_500_too(
        ctx: ServiceContext) -> None:
    app = create_app(context=ctx)

    class Strict(BaseModel):
        count: int

    @app.get("/api/v1/instances-bad-answer", name="bad_answer", response_model=Strict)
    async def bad_answer(principal: PrincipalDep, audit: AuditDep) -> Any:
        return await serving.answer(audit, lambda: {"count": "not a number"})

    token = token_for(ctx, "admin", name="admin-1")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/instances-bad-answer",
                              headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert sorted(status for status, _actor in _entries(ctx, "bad_answer")) == [200, 500]


def test_the_caller_can_be_overridden_in_tests(ctx: ServiceContext) -> None:
    app = create_app(context=ctx)
    app.dependency_overrides[caller] = lambda: Principal("stand-in",
                                                         frozenset({"board_manager"}))
    with TestClient(app) as client:  # no token at all
        response = client.get("/api/v1/tasks")
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0


def test_response_model_options_behave_as_documented(ctx: ServiceContext) -> None:
    app = create_app(context=ctx)
    router = APIRouter()

    class Sparse(BaseModel):
        name: str
        note: str | None = None

    @router.get("/api/v1/instances-sparse", response_model=Sparse,
                response_model_exclude_none=True)
    async def sparse(principal: PrincipalDep, audit: AuditDep) -> Sparse:
        return await serving.answer(audit, lambda: Sparse(name=principal.name))

    app.include_router(router)
    token = token_for(ctx, "auditor", name="reader-1")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/v1/instances-sparse").json() == {"name": "reader-1"}
