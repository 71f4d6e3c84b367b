"""Helpers shared by the benchmarks: throw-away databases, deployment, in-process HTTP, stats.

Every benchmark database is temporary: SQLite lives in a temporary directory, PostgreSQL gets a
database named `reviewflow_bench_<random>` that is dropped at the end, even after a failure.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.auth import tokens
from app.auth.principal import SYSTEM, Principal
from app.db.migrate import upgrade
from app.engine.definitions import SourceFile
from app.services import deployments
from app.services.context import ServiceContext, build_context
from app.services.errors import Invalid
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CLIENT_KINDS = ("asgi", "testclient")


def process_files(only_demo: bool = False) -> list[SourceFile]:
    """What `reviewflow deploy processes` reads: *.bpmn, *.dmn and forms/*.json under processes/.

    With `only_demo`, just the demo process and what it uses (demo_*.bpmn, demo_*.dmn,
    forms/demo_*.json).
    """
    prefix = "demo_" if only_demo else ""
    paths = [*sorted(PROCESSES.rglob(f"{prefix}*.bpmn")),
             *sorted(PROCESSES.rglob(f"{prefix}*.dmn")),
             *sorted(PROCESSES.rglob(f"forms/{prefix}*.json"))]
    return [SourceFile(path.name, path.read_bytes()) for path in paths]


@contextlib.contextmanager
def deployed_context(url: str) -> Iterator[ServiceContext]:
    """A service context on `url` with processes/ deployed; closed afterwards.

    The benchmarks use only demo_triage. Should the rest of processes/ not deploy (a process
    being written), the demo files are deployed alone, with a note.
    """
    ctx = build_context(Settings(database_url=url, processes_dir=PROCESSES))
    try:
        try:
            deployments.deploy(ctx, SYSTEM, process_files())
        except Invalid as exc:
            problems = "; ".join(f"{p.get('file')}: {p.get('reason')}"
                                 for p in exc.detail.get("problems", [])[:3])
            print(f"  note: processes/ does not deploy ({problems}); deploying only the demo "
                  "files", flush=True)
            deployments.deploy(ctx, SYSTEM, process_files(only_demo=True))
        yield ctx
    finally:
        ctx.close()


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    """A migrated SQLite database in a temporary file; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="reviewflow_bench_") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        yield url


def postgres_problem(admin_url: str) -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{exc.__class__.__name__}: {first_line}"
    finally:
        engine.dispose()
    return None


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A migrated temporary PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"reviewflow_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"),
                             {"name": name})
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def principal(name: str, *roles: str) -> Principal:
    """A caller for the use cases, as the API would build it from a token."""
    return Principal(name, frozenset(roles))


def api_token(ctx: ServiceContext, name: str, *roles: str) -> str:
    """Store an API token for a caller with these roles; returns the bearer token."""
    with ctx.uow() as uow:
        token = tokens.create(uow.session, name, list(roles), None, ctx.clock.now())
        uow.commit()
    return token


def machine_load() -> str:
    """CPUs and load average: other work on a small machine moves these figures."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min), {five:.2f} (5 min)"


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


Requester = Callable[..., Awaitable[httpx.Response]]


@contextlib.asynccontextmanager
async def open_client(app: FastAPI, kind: str = "asgi") -> AsyncIterator[Requester]:
    """Call the app in process: `await request(method, path, json=..., params=..., token=...)`.

    `asgi` (the default) sends each request through `httpx.ASGITransport` on the running event
    loop: the app runs its sync endpoints and dependencies in anyio's thread pool, as under
    uvicorn, and the harness costs only httpx building and reading the messages. Run all the
    requests inside one `asyncio.run()`, so the pool's worker threads live as long as the run.

    `testclient` uses FastAPI's `TestClient`, which hands every ASGI message to a portal thread
    and back; on a small machine that alone adds milliseconds to each request.

    `token` is sent as `Authorization: Bearer <token>`.
    """

    def headers(token: str | None) -> dict[str, str] | None:
        return {"Authorization": f"Bearer {token}"} if token else None

    if kind == "asgi":
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://reviewflow.bench") as client:

            async def request(method: str, path: str, *, json: Any = None,
                              params: dict[str, Any] | None = None,
                              token: str | None = None) -> httpx.Response:
                return await client.request(method, path, json=json, params=params,
                                            headers=headers(token))

            yield request
    elif kind == "testclient":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # starlette: "use httpx2 with the TestClient"
            from fastapi.testclient import TestClient
        with TestClient(app) as test_client:

            async def request_sync(method: str, path: str, *, json: Any = None,
                                   params: dict[str, Any] | None = None,
                                   token: str | None = None) -> httpx.Response:
                return test_client.request(method, path, json=json, params=params,
                                           headers=headers(token))

            yield request_sync
    else:
        raise ValueError(f"unknown client kind {kind!r}")
