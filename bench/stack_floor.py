"""What the stack costs a case before any of Reviewflow's own work: a floor for the API runner.

`engine_overhead.py` plays it beside the other runners (for information). A floor case makes
the three requests an API case makes, to a minimal FastAPI app called the same in-process way
(`AsgiCaller`): an endpoint taking a bearer token and a JSON body model, among 60 routes, that
does its blocking work in one trip to the thread pool, as the API's routes do (FastAPI's own
sync endpoints take two: one for the endpoint, one to validate its answer). There, with the
bare driver, it does the least a persisted step needs: read the caller's token, read the
instance's state, write a new state of the size the demo process saves and commit; then it
builds the JSON answer. There is no SpiffWorkflow, no SQLAlchemy and no Reviewflow code in it.

So `3 x raw - floor` is what the target leaves for the engine and the whole service layer on
the machine the benchmark runs on.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from typing import Any

from _support import AsgiCaller
from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

STATE = "s" * 3600
"""About the size of the demo process's saved state (without its spec)."""
ROUTES = 60
TOKEN = "floor-token"


class StepBody(BaseModel):
    data: dict[str, Any]


class FloorDatabase:
    """The three round trips of a step, on the driver alone: read the token, read the instance's
    state, write the new state and commit. PostgreSQL through psycopg with prepared statements,
    the reads outside a transaction and the write committing by itself (no BEGIN or COMMIT round
    trip, as the service's steps do); SQLite through sqlite3. The database is the floor's own
    (a temporary one), so nothing is dropped afterwards."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._lock = threading.Lock()  # one connection, used from the pool's threads
        self.postgres = parsed.get_backend_name() == "postgresql"
        if self.postgres:
            import psycopg

            self._connection: Any = psycopg.connect(
                parsed.set(drivername="postgresql").render_as_string(hide_password=False),
                autocommit=True)
            marker = "%s"
        else:
            self._connection = sqlite3.connect(parsed.database or ":memory:",
                                               check_same_thread=False)
            marker = "?"
        self._connection.execute("CREATE TABLE floor_token (lookup varchar(64) PRIMARY KEY, "
                                 "name text)")
        self._connection.execute("CREATE TABLE floor_state (id varchar(36) PRIMARY KEY, "
                                 "state text)")
        self._connection.execute(f"INSERT INTO floor_token VALUES ({marker}, {marker})",
                                 (TOKEN, "floor"))
        self._instance = str(uuid.uuid4())
        self._connection.execute(f"INSERT INTO floor_state VALUES ({marker}, {marker})",
                                 (self._instance, STATE))
        self._connection.commit()
        # psycopg takes the SQL already encoded (it would encode it again on every execution).
        queries = (f"SELECT name FROM floor_token WHERE lookup = {marker}",
                   f"SELECT state FROM floor_state WHERE id = {marker}",
                   f"UPDATE floor_state SET state = {marker} WHERE id = {marker}")
        self._token_query, self._state_query, self._write = (
            tuple(query.encode() for query in queries) if self.postgres else queries)

    def _run(self, query: str | bytes, parameters: tuple[Any, ...]) -> Any:
        if self.postgres:
            return self._connection.execute(query, parameters, prepare=True)
        return self._connection.execute(query, parameters)

    def step(self, token: str) -> None:
        with self._lock:
            if self._run(self._token_query, (token,)).fetchone() is None:
                raise RuntimeError("floor: the token is unknown")
            if self._run(self._state_query, (self._instance,)).fetchone() is None:
                raise RuntimeError("floor: the state is missing")
            self._run(self._write, (STATE, self._instance))
            if not self.postgres:
                self._connection.commit()

    def close(self) -> None:
        self._connection.close()


def minimal_app(step: Callable[[str], None]) -> FastAPI:
    bearer = HTTPBearer()
    router = APIRouter(prefix="/api/v1/tasks")

    def answer(token: str, task_id: str, data: dict[str, Any]) -> Response:
        step(token)
        return JSONResponse({"id": task_id, "status": "running", "data": data,
                             "ready_tasks": [{"id": str(uuid.uuid4()), "bpmn_id": "next"}]})

    async def complete(task_id: str, body: StepBody,
                       credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> Response:
        return await run_in_threadpool(answer, credentials.credentials, task_id, body.data)

    for number in range(ROUTES):  # the real API has about this many routes to match against
        router.add_api_route(f"/{{task_id}}/action{number}", complete, methods=["POST"])
    app = FastAPI()
    app.include_router(router)
    return app


class FloorRunner:
    """A case's three requests to the minimal app, each with its three round trips."""

    name = "floor"

    def __init__(self, url: str) -> None:
        self.database = FloorDatabase(url)
        self.caller = AsgiCaller(minimal_app(self.database.step))
        self.path = f"/api/v1/tasks/{uuid.uuid4()}/action{ROUTES - 1}"

    async def case(self) -> None:
        for _ in range(3):
            response = await self.caller.request("POST", self.path, json={"data": {"x": 1}},
                                                 token=TOKEN)
            if response.status_code != 200:
                raise RuntimeError(f"floor: answered {response.status_code}: {response.text}")
            response.json()

    async def play(self, count: int) -> None:
        for _ in range(count):
            await self.case()

    def close(self) -> None:
        self.database.close()
