"""A database that is down or frozen is a 503 with Retry-After, fast, on every route; once it is
back requests succeed, nothing half-written is left and the refused requests are audited.

Most tests run on a PostgreSQL server of their own (`tests.faults.pg_server`), stopped, frozen
with SIGSTOP and brought back; the last runs on both backends, with a database that refuses
connections (PostgreSQL no longer allows them, SQLite's file is moved away).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from app.auth import users
from app.clock import ManualClock
from app.db.faults import is_unavailable
from app.db.migrate import upgrade
from app.db.models import AuditEntry, ProcessInstance
from app.main import create_app
from app.services.context import ServiceContext, build_context
from app.settings import Settings
from app.web.session import LOGIN_CSRF_COOKIE
from tests.conftest import FIXTURES, POSTGRES_ENV, PROCESSES, STAFF_ROLES, START, token_for, upload
from tests.faults.pg_server import PostgresServer, postgres_server

PASSWORD = "a long enough test password"
RETRY_AFTER = "7"
FAST = 4.0
"""A stopped server refuses connections at once: a 503 well within the connect timeout."""
FROZEN_BOUND = 12.0
"""A frozen one answers nothing: the watchdog cuts a pooled connection after the statement plus
the connect timeout (1 s + 1 s), then a new connection times out (2 s, libpq's least)."""


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with postgres_server() as pg:
        upgrade(pg.url)
        yield pg


@dataclass
class Service:
    ctx: ServiceContext
    api: TestClient
    browser: TestClient
    user: str

    def count(self, model: Any) -> int:
        with self.ctx.session_factory() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0

    def last_entry(self) -> int:
        with self.ctx.session_factory() as session:
            return session.scalar(select(func.max(AuditEntry.id))) or 0

    def refused_entries(self, after: int) -> list[AuditEntry]:
        with self.ctx.session_factory() as session:
            return list(session.scalars(select(AuditEntry).where(
                AuditEntry.id > after, AuditEntry.status == 503).order_by(AuditEntry.id)))


@contextlib.contextmanager
def serving(url: str) -> Iterator[Service]:
    """An API client with every staff role and a signed-in page user, on short timeouts."""
    settings = Settings(database_url=url, processes_dir=PROCESSES,
                        database_connect_timeout_seconds=1,
                        database_statement_timeout_seconds=1,
                        retry_after_seconds=int(RETRY_AFTER))
    ctx = build_context(settings, clock=ManualClock(START))
    app = create_app(context=ctx)
    name = f"user-{uuid.uuid4().hex[:8]}"
    token = token_for(ctx, *STAFF_ROLES, name=name)
    with ctx.uow() as uow:
        users.create(uow.session, name, PASSWORD, ["board_manager"], None, ctx.clock.now())
        uow.commit()
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as api, \
            TestClient(app, base_url="https://testserver") as browser:
        upload(api, FIXTURES / "parallel_review.bpmn")
        browser.get("/ui/login")
        signed_in = browser.post("/ui/login", follow_redirects=False, data={
            "name": name, "password": PASSWORD, "csrf_token": browser.cookies[LOGIN_CSRF_COOKIE]})
        assert signed_in.status_code == 303, signed_in.text
        yield Service(ctx, api, browser, name)
    ctx.close()


@pytest.fixture
def service(server: PostgresServer) -> Iterator[Service]:
    with serving(server.url) as running:
        yield running


def answer_within(bound: float, call: Callable[[], httpx.Response]) -> httpx.Response:
    """The response of `call`, asserting it came within `bound` seconds (it runs on a thread
    of its own, so a hanging request fails the test instead of stopping it)."""
    answers: list[httpx.Response | BaseException] = []

    def run() -> None:
        try:
            answers.append(call())
        except BaseException as exc:  # reported by the test thread
            answers.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(bound)
    took = time.monotonic() - started
    assert answers, f"no answer within {bound} s: the request hangs"
    answer = answers[0]
    if isinstance(answer, BaseException):
        raise answer
    assert took < bound
    return answer


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == RETRY_AFTER
    if response.request.url.path.startswith("/ui/"):
        assert response.headers["content-type"].startswith("text/html")
        assert "The service is unavailable" in response.text
    else:
        assert response.json()["code"] == "unavailable"


def outage_requests(service: Service) -> dict[str, Callable[[], httpx.Response]]:
    """A read, a write and a page, each by a known caller (the token and session are checked
    in the database first), and a caller whose token the database would have to look up."""
    stranger = {"Authorization": "Bearer rf_" + "x" * 40}
    return {
        "read": lambda: service.api.get("/api/v1/instances"),
        "write": lambda: service.api.post("/api/v1/instances",
                                          json={"process_key": "parallel_review"}),
        "page": lambda: service.browser.get("/ui/inbox"),
        "unknown token": lambda: service.api.get("/api/v1/instances", headers=stranger),
    }


def assert_back_and_audited(service: Service, instances_before: int, entries_before: int,
                            refused: int) -> None:
    """Requests succeed again, the refused write left nothing, the refusals are audited."""
    assert service.api.get("/api/v1/instances").status_code == 200
    assert service.browser.get("/ui/inbox").status_code == 200
    assert service.count(ProcessInstance) == instances_before
    entries = service.refused_entries(after=entries_before)
    assert len(entries) == refused
    assert all(entry.detail.get("written_late") for entry in entries)
    assert {(entry.method, entry.path) for entry in entries} >= {
        ("GET", "/api/v1/instances"), ("POST", "/api/v1/instances"), ("GET", "/ui/inbox")}
    created = service.api.post("/api/v1/instances", json={"process_key": "parallel_review"})
    assert created.status_code == 201, created.text


def test_a_stopped_database_is_a_fast_503_with_retry_after(
        server: PostgresServer, service: Service) -> None:
    assert service.api.get("/api/v1/instances").status_code == 200
    before, entries_before = service.count(ProcessInstance), service.last_entry()
    with TestClient(service.api.app, base_url="https://testserver") as newcomer:
        assert newcomer.get("/ui/login").status_code == 200
        server.stop()
        try:
            for call in outage_requests(service).values():
                assert_unavailable(answer_within(FAST, call))
            assert_unavailable(answer_within(FAST, lambda: newcomer.post("/ui/login", data={
                "name": service.user, "password": PASSWORD,
                "csrf_token": newcomer.cookies[LOGIN_CSRF_COOKIE]})))
            assert answer_within(FAST, lambda: service.api.get("/health")).status_code == 503
        finally:
            server.start()
    assert_back_and_audited(service, before, entries_before, len(outage_requests(service)) + 1)


def test_a_frozen_database_fails_requests_instead_of_hanging_them(
        server: PostgresServer, service: Service) -> None:
    assert service.api.get("/api/v1/instances").status_code == 200  # a pooled connection
    before, entries_before = service.count(ProcessInstance), service.last_entry()
    server.freeze()
    try:
        for call in outage_requests(service).values():
            assert_unavailable(answer_within(FROZEN_BOUND, call))
    finally:
        server.thaw()
    assert_back_and_audited(service, before, entries_before, len(outage_requests(service)))


def test_connections_lost_while_idle_are_replaced_unseen(
        server: PostgresServer, service: Service) -> None:
    """The pool pings a connection before lending it: after a restart no one sees the dead
    connections it held."""
    for _ in range(3):  # several connections in the pool, each used
        assert service.api.get("/api/v1/instances").status_code == 200
    server.stop()
    server.start()
    assert service.api.get("/api/v1/instances").status_code == 200
    assert service.browser.get("/ui/inbox").status_code == 200


@contextlib.contextmanager
def refusing(url: str, service: Service, tmp_path: Path) -> Iterator[None]:
    """The database refuses every connection until the block ends: on PostgreSQL it no longer
    allows connections and its backends are ended (the pool's connections with them); SQLite's
    file is moved away and the pool emptied."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database and Path(parsed.database).parent == tmp_path / "store"
        service.ctx.engine.dispose()
        (tmp_path / "store").rename(tmp_path / "away")
        try:
            yield
        finally:
            (tmp_path / "away").rename(tmp_path / "store")
        return
    admin = create_engine(os.environ[POSTGRES_ENV], isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{parsed.database}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"),
                         {"n": parsed.database})
        try:
            yield
        finally:
            with admin.connect() as conn:
                conn.execute(text(
                    f'ALTER DATABASE "{parsed.database}" WITH ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()


def test_a_database_refusing_connections_is_a_503_on_both_backends(
        database_url: str, tmp_path: Path) -> None:
    url = database_url
    if make_url(url).get_backend_name() == "sqlite":  # a folder of its own, to move away
        (tmp_path / "store").mkdir()
        copy = shutil.copy(str(make_url(url).database), tmp_path / "store" / "db.sqlite3")
        url = f"sqlite:///{copy}"
    with serving(url) as service:
        before, entries_before = service.count(ProcessInstance), service.last_entry()
        with refusing(url, service, tmp_path):
            for call in outage_requests(service).values():
                assert_unavailable(answer_within(FAST, call))
        assert_back_and_audited(service, before, entries_before, len(outage_requests(service)))


def _programming_error(raised_while: BaseException | None) -> ProgrammingError:
    try:
        try:
            if raised_while is not None:
                raise raised_while
        finally:
            raise psycopg.ProgrammingError("can't change 'autocommit' now: connection in "
                                           "transaction status ACTIVE")
    except psycopg.ProgrammingError as orig:
        return ProgrammingError("SELECT 1", None, orig)


def test_an_error_raised_while_the_driver_handles_a_lost_connection_is_unavailable() -> None:
    """SQLAlchemy's pre-ping on psycopg, finding the socket closed, tries to reset autocommit
    on the dead connection; psycopg's refusal must still be a 503, not a 500."""
    assert is_unavailable(_programming_error(psycopg.OperationalError("socket closed")))
    assert not is_unavailable(_programming_error(None))  # a programming error on its own
