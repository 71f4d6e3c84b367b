"""SQLite's one write lock: a transaction that may write takes it when it begins, one that only
reads (`ctx.uow(read_only=True)`: a GET's use case, a password check) takes none (see
`app.db.session`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from app.auth import users
from app.auth.tokens import TokenVerifier
from app.db.models import ApiToken
from app.main import create_app
from app.services.context import ServiceContext
from app.web.session import LOGIN_CSRF_COOKIE
from tests.conftest import token_for


@pytest.fixture
def sqlite_ctx(ctx: ServiceContext) -> ServiceContext:
    if ctx.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    return ctx


@pytest.fixture
def other_writer(sqlite_ctx: ServiceContext) -> Iterator[sqlite3.Connection]:
    """Another connection to the same file that gives up at once when the lock is taken."""
    connection = sqlite3.connect(str(sqlite_ctx.engine.url.database), timeout=0,
                                 isolation_level=None, check_same_thread=False)
    yield connection
    connection.close()


def lock_is_free(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    connection.execute("ROLLBACK")
    return True


def test_a_unit_of_work_takes_the_write_lock_at_its_first_read(
        sqlite_ctx: ServiceContext, other_writer: sqlite3.Connection) -> None:
    assert lock_is_free(other_writer)
    with sqlite_ctx.uow() as uow:
        uow.session.scalars(select(ApiToken)).all()
        assert not lock_is_free(other_writer)
    assert lock_is_free(other_writer)


def test_a_unit_of_work_that_only_reads_takes_no_lock(
        sqlite_ctx: ServiceContext, other_writer: sqlite3.Connection) -> None:
    with sqlite_ctx.uow(read_only=True) as uow:
        uow.session.scalars(select(ApiToken)).all()
        assert lock_is_free(other_writer)
    with sqlite_ctx.uow() as uow:  # the next unit of work chooses again
        uow.session.scalars(select(ApiToken)).all()
        assert not lock_is_free(other_writer)


def test_a_token_check_takes_no_lock(sqlite_ctx: ServiceContext,
                                     other_writer: sqlite3.Connection,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A request's caller is checked in a statement of its own, before its use case begins."""
    lock_after_token_check: list[bool] = []
    authenticate = TokenVerifier.authenticate

    def watched(self: TokenVerifier, *args: Any) -> Any:
        principal = authenticate(self, *args)
        lock_after_token_check.append(lock_is_free(other_writer))
        return principal

    monkeypatch.setattr(TokenVerifier, "authenticate", watched)
    token = token_for(sqlite_ctx, "board_manager")
    with TestClient(create_app(context=sqlite_ctx),
                    headers={"Authorization": f"Bearer {token}"}) as api:
        assert api.get("/api/v1/tasks").status_code == 200
        assert api.post("/api/v1/instances", json={"process_key": "none"}).status_code == 404
    assert lock_after_token_check == [True, True]


def test_get_requests_and_password_checks_leave_the_lock_to_writers(
        sqlite_ctx: ServiceContext, other_writer: sqlite3.Connection,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A password check runs argon2 for a good part of a second: holding the write lock
    meanwhile, failed logins alone could keep every step waiting."""
    with sqlite_ctx.uow() as uow:
        users.create(uow.session, "a.chair", "the right password", ["chair"], None,
                     sqlite_ctx.clock.now())
        uow.commit()
    lock_during_check: list[bool] = []
    verify = users.verify_secret

    def watched_verify(*args: Any) -> bool:
        lock_during_check.append(lock_is_free(other_writer))
        return verify(*args)

    monkeypatch.setattr(users, "verify_secret", watched_verify)
    with TestClient(create_app(context=sqlite_ctx), base_url="https://testserver") as browser:
        page = browser.get("/ui/login")
        assert page.status_code == 200
        token = browser.cookies[LOGIN_CSRF_COOKIE]
        for password, status in (("wrong", 401), ("the right password", 303)):
            response = browser.post("/ui/login", follow_redirects=False, data={
                "name": "a.chair", "password": password, "csrf_token": token})
            assert response.status_code == status
        assert browser.get("/ui/inbox").status_code == 200
    assert lock_during_check == [True, True]


def test_through_the_api_a_get_reads_without_the_lock_and_a_post_takes_it(
        sqlite_ctx: ServiceContext, other_writer: sqlite3.Connection) -> None:
    """Seen at each read of the use case (tasks for the GET, deployments for the POST)."""
    lock_free: dict[str, list[bool]] = {"human_task": [], "process_version": []}

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        for table, seen in lock_free.items():
            if statement.startswith("SELECT") and f"FROM {table}" in statement:
                seen.append(lock_is_free(other_writer))

    token = token_for(sqlite_ctx, "board_manager")
    event.listen(sqlite_ctx.engine, "before_cursor_execute", before)
    try:
        with TestClient(create_app(context=sqlite_ctx),
                        headers={"Authorization": f"Bearer {token}"}) as api:
            assert api.get("/api/v1/tasks").status_code == 200
            assert api.post("/api/v1/instances",
                            json={"process_key": "none"}).status_code == 404
    finally:
        event.remove(sqlite_ctx.engine, "before_cursor_execute", before)
    assert lock_free["human_task"] and all(lock_free["human_task"])
    assert lock_free["process_version"] and not any(lock_free["process_version"])
