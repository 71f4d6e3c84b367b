"""Helpers shared by the benchmarks: throw-away databases, deployment, in-process HTTP, stats.

Every benchmark database is temporary: SQLite lives in a temporary directory, PostgreSQL gets a
database named `reviewflow_bench_<random>` that is dropped at the end, even after a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as json_module
import math
import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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
CLIENT_KINDS = ("asgi", "httpx", "testclient")


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


def process_cpu_seconds(pid: int | str, ended_children: bool = False) -> float | None:
    """CPU seconds (user + system) used so far by a local process, from Linux's /proc, with
    those of its ended children when asked; None when it cannot be read (another system, or the
    process ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(value) for value in fields[11:15 if ended_children else 13])
    except (OSError, ValueError, IndexError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def database_server_cpu() -> float | None:
    """CPU seconds used so far by the PostgreSQL server's processes on this machine, or None when
    none can be read. With the server on the same machine, a benchmark can tell the database
    server's work from its own process's. Backends that ended count through the postmaster,
    which waited for them."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    seconds = [process_cpu_seconds(entry.name, ended_children=True) for entry in proc.iterdir()
               if entry.name.isdigit() and _process_name(entry) == "postgres"]
    known = [value for value in seconds if value is not None]
    return sum(known) if known else None


def _process_name(entry: Path) -> str | None:
    try:
        return (entry / "comm").read_text().strip()
    except OSError:  # the process ended meanwhile, or is not ours to read
        return None


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


Requester = Callable[..., Awaitable[Any]]
"""`await request(method, path, json=..., params=..., token=...)`: an answer with `status_code`,
`text` and `json()`."""


@contextlib.asynccontextmanager
async def open_client(app: FastAPI, kind: str = "asgi") -> AsyncIterator[Requester]:
    """Call the app in process: `await request(method, path, json=..., params=..., token=...)`.

    `asgi` (the default) calls the app the way an ASGI server such as uvicorn does, on the
    running event loop: the request's scope and body in, the response's messages out, and no
    more (see `AsgiCaller`). The app runs its sync endpoints in anyio's thread pool, as under
    uvicorn. Run all the requests inside one `asyncio.run()`, so the pool's worker threads live
    as long as the run.

    `httpx` sends each request through `httpx.AsyncClient` over `httpx.ASGITransport`: the same
    calls into the app, plus httpx building every request (URL parsing, header and cookie
    merging) and reading every response, about 0.8 ms a request on a small machine, which the
    service itself never pays.

    `testclient` uses FastAPI's `TestClient`, which hands every ASGI message to a portal thread
    and back; on a small machine that alone adds milliseconds to each request.

    `token` is sent as `Authorization: Bearer <token>`.
    """

    def headers(token: str | None) -> dict[str, str] | None:
        return {"Authorization": f"Bearer {token}"} if token else None

    if kind == "asgi":
        yield AsgiCaller(app).request
    elif kind == "httpx":
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


@dataclass(frozen=True)
class AsgiResponse:
    """What the app sent back, with the parts of `httpx.Response` the benchmarks read."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json_module.loads(self.content)


class AsgiCaller:
    """Calls an ASGI app as an ASGI server would, without a network or an HTTP client.

    Each request gets the scope a server builds from the request line and headers, its body in
    one `http.request` message, and `http.disconnect` once the response is complete; the
    response's status and body are collected from the messages the app sends.
    """

    def __init__(self, app: FastAPI, host: str = "reviewflow.bench") -> None:
        self.app = app
        self.host = host.encode()

    async def request(self, method: str, path: str, *, json: Any = None,
                      params: dict[str, Any] | None = None,
                      token: str | None = None) -> AsgiResponse:
        body = b"" if json is None else json_module.dumps(json).encode()
        headers = [(b"host", self.host), (b"content-length", str(len(body)).encode())]
        if json is not None:
            headers.append((b"content-type", b"application/json"))
        if token:
            headers.append((b"authorization", b"Bearer " + token.encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1", "method": method, "scheme": "http", "path": path,
            "raw_path": path.encode(), "query_string": urlencode(params or {}, doseq=True)
            .encode(), "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
            "server": (self.host.decode(), 80), "state": {},
        }
        unread = [{"type": "http.request", "body": body, "more_body": False}]
        finished = asyncio.Event()
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            if unread:
                return unread.pop()
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished.set()

        await self.app(scope, receive, send)
        finished.set()
        return AsgiResponse(status, b"".join(chunks))
