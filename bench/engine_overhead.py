"""How much the service costs on top of bare SpiffWorkflow, per review case.

A case is the demo triage process run to its end: start `demo_triage` with
{"child_died": false, "seriously_harmed": true} (the DMN grades it), complete "Screen the referral"
with {"review_needed": true, "reason": "x"}, then the chair's "Endorse ..." task with
{"endorsed": true}.

Up to four runners play the same cases, interleaved round by round in one process so that they
see the same machine state:

* raw: bare SpiffWorkflow in memory. The specs are parsed once from processes/demo_triage.bpmn
  and processes/demo_grading.dmn with `SpiffBpmnParser`; every step serializes the workflow with
  the standard `BpmnWorkflowSerializer` configured with `SPIFF_CONFIG` (the full default
  serialization, spec included) and every task completion starts by deserializing it, so the raw
  runner pays for persistence-shaped work too, without a database.
* API: the real HTTP app, `create_app(context=...)` on a freshly migrated database with
  processes/ deployed, as one caller holding the board_manager, panel_member and chair roles
  with a bearer token: POST /api/v1/instances, then POST /api/v1/tasks/{id}/complete twice. It
  is called in process the way an ASGI server such as uvicorn calls it: each request's scope
  (method, path, headers with the token) and JSON body go in, the response's messages come out
  (`AsgiCaller` in _support.py). Everything the service does is measured: routing, validation,
  the token check, the use case, serialization and the audit entry; each request checks its
  token in one statement, then loads, steps and saves the instance, its task index, its
  timeline and its audit entry in one transaction: two trips to the thread pool. With --client
  httpx or testclient the verdict is taken through those clients instead.
* API/httpx (for information): the same app and database called through httpx's AsyncClient
  over ASGITransport. The difference from API is httpx's own work in the benchmark's process,
  building each request and reading each response (about 0.8 ms a request here), which a
  deployed service does not pay; --no-httpx leaves it out.
* API/TCP (for information): `reviewflow serve` (uvicorn) in a process of its own, on a
  database of its own, called over real TCP by a keep-alive httpx client in the benchmark's
  process (`over_tcp.py`); --no-tcp leaves it out.
* service (for information): the same use cases called directly (`instances.start`,
  `tasks.complete`) by a principal with the same roles, on a database of its own; this splits
  the API's cost into database+engine work and HTTP/authentication/audit work.
* engine (for information): Reviewflow's engine layer alone (`app.engine.runner`), doing for
  each step what the service does without a database: create or load the workflow (specs from
  the deployed version, the sandboxed script engine), run it, list its ready tasks and dump its
  state.
* floor (for information): what the stack costs before any of Reviewflow's own work, on a
  database of its own: a minimal FastAPI app answering the same three requests, each reading a
  token and a state and writing a state with the bare driver (`stack_floor.py`). The table
  shows how much of the target's budget (3 x raw) it takes, and what is left for the engine and
  the service layer.

Throughput is in cases per second for every runner. Where each runner's time went is printed
too: CPU in this process (all its threads) and, on PostgreSQL, CPU in the server's processes on
this machine; the rest of the wall time was spent waiting.

Target: API/raw >= 0.30 on SQLite and >= 0.15 on PostgreSQL (the service on public APIs of its
libraries only), against bare SpiffWorkflow with full serialization. It runs on SQLite (a
temporary file) and on PostgreSQL (a temporary `reviewflow_bench_<random>` database, dropped at
the end; skipped with a note when the server cannot be reached).

    .venv/bin/python bench/engine_overhead.py [--cases 200] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from _support import (
    CLIENT_KINDS,
    DEFAULT_POSTGRES_URL,
    PROCESSES,
    Requester,
    api_token,
    database_server_cpu,
    deployed_context,
    machine_load,
    open_client,
    postgres_database,
    postgres_problem,
    principal,
    sqlite_database,
)
from over_tcp import served, tcp_client
from overhead_report import (
    HTTPX,
    TCP,
    Result,
    RoundTrips,
    Timing,
    print_table,
    with_httpx,
)
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import TaskState
from sqlalchemy import Engine, event
from stack_floor import FloorRunner

from app.engine import runner as engine
from app.main import create_app
from app.services import deployments, instances, steps, tasks
from app.services.context import ServiceContext

PROCESS_KEY = "demo_triage"
START_DATA: dict[str, Any] = {"child_died": False, "seriously_harmed": True}
SCREEN_DATA: dict[str, Any] = {"review_needed": True, "reason": "x"}
ENDORSE_DATA: dict[str, Any] = {"endorsed": True}
CALLER_ROLES = ("board_manager", "panel_member", "chair")  # start, screen, endorse


class RawRunner:
    """Bare SpiffWorkflow: create/deserialize, complete, run engine steps, serialize."""

    name = "raw"

    def __init__(self) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(PROCESSES / "demo_triage.bpmn"))
        parser.add_dmn_file(str(PROCESSES / "demo_grading.dmn"))
        self.spec = parser.get_spec(PROCESS_KEY)
        self.subprocess_specs = parser.get_subprocess_specs(PROCESS_KEY)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    @staticmethod
    def _ready_task(workflow: BpmnWorkflow, bpmn_id: str) -> UUID:
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if len(ready) != 1 or ready[0].task_spec.bpmn_id != bpmn_id:
            raise RuntimeError(f"raw: expected {bpmn_id} to be ready, found "
                               f"{[task.task_spec.bpmn_id for task in ready]}")
        return ready[0].id

    def _complete(self, state: str, task_id: UUID, data: dict[str, Any]) -> BpmnWorkflow:
        workflow = self.serializer.deserialize_json(state)
        task = workflow.get_task_from_id(task_id)
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        return workflow

    def case(self) -> None:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(START_DATA)
        workflow.do_engine_steps()
        state = self.serializer.serialize_json(workflow)
        screen = self._ready_task(workflow, "screen_referral")

        workflow = self._complete(state, screen, SCREEN_DATA)
        state = self.serializer.serialize_json(workflow)
        endorse = self._ready_task(workflow, "endorse_review")

        workflow = self._complete(state, endorse, ENDORSE_DATA)
        state = self.serializer.serialize_json(workflow)
        if not workflow.is_completed() or workflow.data.get("decision") != "review":
            raise RuntimeError("raw: the case did not end with decision == 'review'")

    async def play(self, count: int) -> None:
        for _ in range(count):
            self.case()


class ApiRunner:
    """The HTTP API, in process (see `open_client` for the ways of calling it)."""

    def __init__(self, request: Requester, token: str, name: str = "API") -> None:
        self.request = request
        self.token = token
        self.name = name

    async def _post(self, path: str, body: dict[str, Any], expected: int) -> dict[str, Any]:
        response = await self.request("POST", path, json=body, token=self.token)
        if response.status_code != expected:
            raise RuntimeError(f"API: POST {path} answered {response.status_code}: "
                               f"{response.text}")
        result: dict[str, Any] = response.json()
        return result

    @staticmethod
    def _ready_task(body: dict[str, Any], bpmn_id: str) -> str:
        ready = body["ready_tasks"]
        if len(ready) != 1 or ready[0]["bpmn_id"] != bpmn_id:
            raise RuntimeError(f"API: expected {bpmn_id} to be ready, found "
                               f"{[task['bpmn_id'] for task in ready]}")
        task_id: str = ready[0]["id"]
        return task_id

    async def case(self) -> None:
        body = await self._post("/api/v1/instances",
                                {"process_key": PROCESS_KEY, "data": START_DATA}, 201)
        screen = self._ready_task(body, "screen_referral")
        body = await self._post(f"/api/v1/tasks/{screen}/complete", {"data": SCREEN_DATA}, 200)
        endorse = self._ready_task(body, "endorse_review")
        body = await self._post(f"/api/v1/tasks/{endorse}/complete", {"data": ENDORSE_DATA},
                                200)
        if body["status"] != "completed" or body["data"].get("decision") != "review":
            raise RuntimeError(f"API: the case did not complete as expected: {body}")

    async def play(self, count: int) -> None:
        for _ in range(count):
            await self.case()


class ServiceRunner:
    """The use cases called directly: database and engine work without HTTP."""

    name = "service"

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.caller = principal("bench-service", *CALLER_ROLES)

    @staticmethod
    def _ready_task(state: instances.InstanceState, bpmn_id: str) -> str:
        ready = state.ready_tasks
        if len(ready) != 1 or ready[0].bpmn_id != bpmn_id:
            raise RuntimeError(f"service: expected {bpmn_id} to be ready, found "
                               f"{[task.bpmn_id for task in ready]}")
        return ready[0].id

    def case(self) -> None:
        state = instances.start(self.ctx, self.caller, PROCESS_KEY, None, START_DATA)
        state = tasks.complete(self.ctx, self.caller, self._ready_task(state, "screen_referral"),
                               SCREEN_DATA)
        state = tasks.complete(self.ctx, self.caller, self._ready_task(state, "endorse_review"),
                               ENDORSE_DATA)
        if state.instance.status != "completed" or state.data.get("decision") != "review":
            raise RuntimeError("service: the case did not complete as expected")

    async def play(self, count: int) -> None:
        for _ in range(count):
            self.case()


class EngineRunner:
    """Reviewflow's engine layer without a database: what the service's engine work costs."""

    name = "engine"

    def __init__(self, ctx: ServiceContext) -> None:
        with ctx.uow() as uow:
            version = deployments.latest_ref(uow, PROCESS_KEY)
            self.spec, self.subprocess_specs = steps.spec_bundle(ctx, uow, version.id)
        self.env = ctx.engine_env

    def _step(self, state: str, ready: list[engine.ReadyTask], bpmn_id: str,
              data: dict[str, Any]) -> tuple[str, list[engine.ReadyTask], BpmnWorkflow]:
        """Complete the ready task `bpmn_id` (known from the last step, as the service knows it
        from its task index) in the saved `state`; the new state and ready tasks."""
        if len(ready) != 1 or ready[0].bpmn_id != bpmn_id:
            raise RuntimeError(f"engine: expected {bpmn_id} to be ready, found "
                               f"{[task.bpmn_id for task in ready]}")
        workflow = engine.load(state, self.spec, self.subprocess_specs, self.env)
        engine.complete_task(workflow, ready[0].id, data)
        _status, ready = engine.status_and_ready(workflow)
        return engine.dump(workflow), ready, workflow

    def case(self) -> None:
        workflow = engine.create(self.spec, self.subprocess_specs, START_DATA, self.env)
        engine.run_engine(workflow)
        _status, ready = engine.status_and_ready(workflow)
        state = engine.dump(workflow)
        state, ready, workflow = self._step(state, ready, "screen_referral", SCREEN_DATA)
        state, ready, workflow = self._step(state, ready, "endorse_review", ENDORSE_DATA)
        if engine.data(workflow).get("decision") != "review":
            raise RuntimeError("engine: the case did not end with decision == 'review'")

    async def play(self, count: int) -> None:
        for _ in range(count):
            self.case()


Runner = RawRunner | ApiRunner | ServiceRunner | EngineRunner | FloorRunner


@dataclass(frozen=True)
class Spent:
    """What playing some cases cost: wall time, this process's CPU and the database server's."""

    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float | None


async def run_cases(runner: Runner, count: int, watch_server: bool = False) -> Spent:
    """Play `count` cases; with `watch_server`, also read the PostgreSQL server's CPU time."""
    gc.collect()
    server_before = database_server_cpu() if watch_server else None
    cpu_before = time.process_time()
    started = time.perf_counter()
    await runner.play(count)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    server_after = database_server_cpu() if watch_server else None
    server = (server_after - server_before
              if server_before is not None and server_after is not None else None)
    return Spent(seconds, cpu, server)


async def measure(runners: list[Runner], cases: int, rounds: int,
                  watch_server: bool = False) -> dict[str, Timing]:
    """Play `cases` cases with every runner, interleaved over `rounds` rounds; with
    `watch_server`, note the PostgreSQL server's CPU time for the runners using a database."""
    timings = {runner.name: Timing() for runner in runners}
    rounds = max(1, min(rounds, cases))
    for number in range(rounds):
        count = cases // rounds + (1 if number < cases % rounds else 0)
        shift = number % len(runners)  # rotate who goes first in each round
        for runner in runners[shift:] + runners[:shift]:
            uses_database = not isinstance(runner, RawRunner | EngineRunner)
            spent = await run_cases(runner, count, watch_server and uses_database)
            timing = timings[runner.name]
            timing.cases += count
            timing.seconds += spent.seconds
            timing.cpu_seconds += spent.cpu_seconds
            if spent.server_cpu_seconds is not None:
                timing.server_cpu_seconds = ((timing.server_cpu_seconds or 0.0)
                                             + spent.server_cpu_seconds)
            timing.per_round.append(count / spent.seconds)
    return timings


async def warm_up(runners: list[Runner], warmup: int, api_engine: Engine) -> RoundTrips:
    """Play unmeasured cases; count the API's statements and transactions while doing so."""
    trips = RoundTrips()

    def on_statement(*_args: Any) -> None:
        trips.statements += 1

    def on_begin(*_args: Any) -> None:
        trips.transactions += 1

    for runner in runners:
        if runner.name != "API" or warmup == 0:
            await run_cases(runner, warmup)
            continue
        counted = max(1, warmup // 2)  # the later, warm half of the warm-up
        await run_cases(runner, warmup - counted)
        event.listen(api_engine, "before_cursor_execute", on_statement)
        event.listen(api_engine, "begin", on_begin)
        try:
            await run_cases(runner, counted)
            trips.cases = counted
        finally:
            event.remove(api_engine, "before_cursor_execute", on_statement)
            event.remove(api_engine, "begin", on_begin)
    return trips


async def run_backend(backend: str,
                      new_database: Callable[[], contextlib.AbstractContextManager[str]],
                      raw: RawRunner, args: argparse.Namespace) -> Result:
    """Measure raw, API (and service) side by side on one backend.

    The API, the service and the floor runner each get a database of their own, migrated the
    same way (and, but for the floor's, deployed), so none reads another's rows.
    """
    with contextlib.ExitStack() as stack:
        api_ctx = stack.enter_context(deployed_context(stack.enter_context(new_database())))
        runners: list[Runner] = [raw]
        if not args.no_service:
            service_ctx = stack.enter_context(
                deployed_context(stack.enter_context(new_database())))
            runners.append(ServiceRunner(service_ctx))
        if not args.no_floor:
            runners.append(EngineRunner(api_ctx))
            floor = FloorRunner(stack.enter_context(new_database()))
            stack.callback(floor.close)
            runners.append(floor)
        app = create_app(context=api_ctx)
        token = api_token(api_ctx, "bench-api", *CALLER_ROLES)
        async with contextlib.AsyncExitStack() as clients:
            request = await clients.enter_async_context(open_client(app, args.client))
            runners.insert(1, ApiRunner(request, token))
            if with_httpx(args):
                through_httpx = await clients.enter_async_context(open_client(app, "httpx"))
                runners.insert(2, ApiRunner(through_httpx, token, HTTPX))
            if not args.no_tcp:
                tcp_ctx = stack.enter_context(
                    deployed_context(stack.enter_context(new_database())))
                tcp_token = api_token(tcp_ctx, "bench-tcp", *CALLER_ROLES)
                base_url = stack.enter_context(served(
                    tcp_ctx.engine.url.render_as_string(hide_password=False)))
                over_tcp = await clients.enter_async_context(tcp_client(base_url))
                runners.append(ApiRunner(over_tcp, tcp_token, TCP))
            print(f"  {backend}: warming up ({args.warmup} cases per runner), then "
                  f"{args.cases} cases per runner in {args.rounds} interleaved rounds ...",
                  flush=True)
            trips = await warm_up(runners, args.warmup, api_ctx.engine)
            timings = await measure(runners, args.cases, args.rounds,
                                    watch_server=backend == "postgresql")
            return Result(backend, timings, trips)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Throughput of the API against bare "
                                                 "SpiffWorkflow, on SQLite and PostgreSQL.")
    parser.add_argument("--cases", type=int, default=200,
                        help="measured cases per runner and backend (default 200)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="unmeasured cases per runner before measuring (default 20)")
    parser.add_argument("--rounds", type=int, default=10,
                        help="interleaved rounds the measured cases are split into (default 10)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="admin URL of the PostgreSQL server; a temporary database is "
                             "created there and dropped afterwards (default: %(default)s)")
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    parser.add_argument("--client", choices=CLIENT_KINDS, default="asgi",
                        help="how the API is called in process: as an ASGI server calls it "
                             "(default), through httpx's client, or through FastAPI's "
                             "TestClient, which adds thread hand-offs")
    parser.add_argument("--no-httpx", action="store_true",
                        help="leave out the informational runner that calls the API through "
                             "httpx's client")
    parser.add_argument("--no-tcp", action="store_true",
                        help="leave out the informational runner that calls `reviewflow serve` "
                             "over real TCP")
    parser.add_argument("--no-service", action="store_true",
                        help="leave out the informational service-layer runner")
    parser.add_argument("--no-floor", action="store_true",
                        help="leave out the informational runners that split the API's cost: "
                             "the engine layer alone and the stack's floor")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--cases and --rounds must be at least 1, --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"machine at start: {machine_load()}", flush=True)
    raw = RawRunner()
    results: list[Result] = []
    if args.backend in ("all", "sqlite"):
        results.append(asyncio.run(run_backend("sqlite", sqlite_database, raw, args)))
    if args.backend in ("all", "postgresql"):
        problem = postgres_problem(args.postgres_url)
        if problem:
            print(f"  postgresql: skipped, cannot reach {args.postgres_url}: {problem}")
            results.append(Result("postgresql", note=f"unreachable: {problem}"))
        else:
            results.append(asyncio.run(run_backend(
                "postgresql", lambda: postgres_database(args.postgres_url), raw, args)))
    print_table(results, args)
    print(f"machine at end: {machine_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
