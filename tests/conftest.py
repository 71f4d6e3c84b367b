"""Shared fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

Set REVIEWFLOW_TEST_POSTGRES_URL (for example postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
to add PostgreSQL; each test run creates its own database there and drops it afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.auth import secrets, tokens
from app.clock import ManualClock
from app.db.migrate import upgrade
from app.db.models import Base
from app.main import create_app
from app.services.context import ServiceContext, build_context
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROCESSES = ROOT / "processes"
POSTGRES_ENV = "REVIEWFLOW_TEST_POSTGRES_URL"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2 at its cheapest in every test: tests make many tokens and users, and the hash's
    cost is not under test (verification still goes through argon2 with the parameters in the
    hash). A test of timing sets `secrets._HASHER` back to `PasswordHasher()` itself."""
    monkeypatch.setattr(secrets, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024,
                                                           parallelism=1))
    yield


@pytest.fixture(scope="session")
def _sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database that each test copies (`database_url`)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'reviewflow.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def _postgresql_url() -> Iterator[str]:
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"reviewflow_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # Durability is not under test; without a flush to disk per commit the suite runs faster.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database on each backend. The audit log refuses to be emptied, as
    in production: SQLite gets a fresh copy of the migrated database, and PostgreSQL's tables
    are truncated with triggers off (replica role, which the test server's superuser may take).
    """
    url: str = request.getfixturevalue(f"_{request.param}_url")
    if request.param == "sqlite":
        copy = tmp_path / "database.sqlite3"
        with contextlib.closing(sqlite3.connect(make_url(url).database)) as template, \
                contextlib.closing(sqlite3.connect(copy)) as fresh:
            template.backup(fresh)
        return f"sqlite:///{copy}"
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def ctx(database_url: str, clock: ManualClock) -> Iterator[ServiceContext]:
    context = build_context(Settings(database_url=database_url, processes_dir=PROCESSES),
                            clock=clock)
    yield context
    context.close()


STAFF_ROLES = ["board_manager", "chair", "panel_member", "reviewer", "designer", "auditor",
               "admin"]
"""The default test client holds every role but agency_lead (agency tasks need an agency)."""

ClientFactory = Callable[..., TestClient]


def token_for(ctx: ServiceContext, *roles: str, agency: str | None = None,
              name: str | None = None) -> str:
    with ctx.uow() as uow:
        token = tokens.create(uow.session, name or f"test-{'-'.join(roles)}-{agency or 'all'}",
                              list(roles), agency, ctx.clock.now())
        uow.commit()
    return token


@pytest.fixture
def make_client(ctx: ServiceContext) -> Iterator[ClientFactory]:
    """Clients of one app, each authenticated as a caller with the given roles."""
    app = create_app(context=ctx)
    opened: list[TestClient] = []

    def make(*roles: str, agency: str | None = None, name: str | None = None) -> TestClient:
        token = token_for(ctx, *roles, agency=agency, name=name)
        test_client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield make
    for test_client in opened:
        test_client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client(*STAFF_ROLES, name="tester")


def upload(client: TestClient, *paths: Path) -> dict:
    """Deploy files through the API and return the response body (asserting success)."""
    files = [("files", (path.name, path.read_bytes(), "application/xml")) for path in paths]
    response = client.post("/api/v1/deployments", files=files)
    assert response.status_code == 201, response.text
    return response.json()


def demo_files() -> list[Path]:
    """The small demo process: a user task, a gateway and a DMN business rule task."""
    return [PROCESSES / "demo_triage.bpmn", PROCESSES / "demo_grading.dmn",
            *sorted((PROCESSES / "forms").glob("demo_*.json"))]


def route_files() -> list[Path]:
    """Everything under processes/: the Board's routes, the grading DMN and every form."""
    return [*sorted(PROCESSES.glob("*.bpmn")), *sorted(PROCESSES.glob("*.dmn")),
            *sorted((PROCESSES / "forms").glob("*.json"))]
