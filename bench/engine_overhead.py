"""How much the service costs on top of bare SpiffWorkflow, per review case.

A case is the demo triage process run to its end: start `demo_triage` with
{"child_died": false, "seriously_harmed": true} (the DMN grades it), complete "Screen the referral"
with {"review_needed": true, "reason": "x"}, then the chair's "Endorse ..." task with
{"endorsed": true}.

Three runners play the same cases, interleaved round by round in one process so that they see
the same machine state:

* raw: bare SpiffWorkflow in memory. The specs are parsed once from processes/demo_triage.bpmn
  and processes/demo_grading.dmn with `SpiffBpmnParser`; every step serializes the workflow with
  the standard `BpmnWorkflowSerializer` configured with `SPIFF_CONFIG` (the full default
  serialization, spec included) and every task completion starts by deserializing it, so the raw
  runner pays for persistence-shaped work too, without a database.
* API: the real HTTP app (`create_app(context=...)` driven by `fastapi.testclient.TestClient`)
  on a freshly migrated database: POST /api/v1/instances, then POST /api/v1/tasks/{id}/complete
  twice, each in its own transaction.
* service (for information): the same use cases called directly (`instances.start`,
  `tasks.complete`) on their own database, which splits the API's overhead into database+engine
  work and HTTP/validation work.

Throughput is in cases per second for every runner. Target: API/raw >= 0.33, i.e. the service
may be at most three times slower than bare SpiffWorkflow with full serialization. It runs on
SQLite (a temporary file) and on PostgreSQL (a temporary `reviewflow_bench_<random>` database,
dropped at the end; skipped with a note when the server cannot be reached).

    .venv/bin/python bench/engine_overhead.py [--cases 200] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from _support import (
    DEFAULT_POSTGRES_URL,
    PROCESSES,
    demo_files,
    postgres_database,
    postgres_problem,
    sqlite_database,
)
from fastapi.testclient import TestClient
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import TaskState

from app.main import create_app
from app.services import deployments, instances, tasks
from app.services.context import ServiceContext, build_context
from app.settings import Settings

PROCESS_KEY = "demo_triage"
START_DATA: dict[str, Any] = {"child_died": False, "seriously_harmed": True}
SCREEN_DATA: dict[str, Any] = {"review_needed": True, "reason": "x"}
ENDORSE_DATA: dict[str, Any] = {"endorsed": True}
TARGET_RATIO = 0.33


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


class ApiRunner:
    """The HTTP API, in process, through TestClient."""

    name = "API"

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def _post(self, path: str, body: dict[str, Any], expected: int) -> dict[str, Any]:
        response = self.client.post(path, json=body)
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

    def case(self) -> None:
        body = self._post("/api/v1/instances", {"process_key": PROCESS_KEY, "data": START_DATA},
                          201)
        screen = self._ready_task(body, "screen_referral")
        body = self._post(f"/api/v1/tasks/{screen}/complete", {"data": SCREEN_DATA}, 200)
        endorse = self._ready_task(body, "endorse_review")
        body = self._post(f"/api/v1/tasks/{endorse}/complete", {"data": ENDORSE_DATA}, 200)
        if body["status"] != "completed" or body["data"].get("decision") != "review":
            raise RuntimeError(f"API: the case did not complete as expected: {body}")


class ServiceRunner:
    """The use cases called directly: database and engine work without HTTP."""

    name = "service"

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @staticmethod
    def _ready_task(state: instances.InstanceState, bpmn_id: str) -> str:
        ready = state.ready_tasks
        if len(ready) != 1 or ready[0].bpmn_id != bpmn_id:
            raise RuntimeError(f"service: expected {bpmn_id} to be ready, found "
                               f"{[task.bpmn_id for task in ready]}")
        return ready[0].id

    def case(self) -> None:
        state = instances.start(self.ctx, PROCESS_KEY, None, START_DATA, "bench")
        state = tasks.complete(self.ctx, self._ready_task(state, "screen_referral"),
                               SCREEN_DATA, "bench")
        state = tasks.complete(self.ctx, self._ready_task(state, "endorse_review"),
                               ENDORSE_DATA, "bench")
        if state.instance.status != "completed" or state.data.get("decision") != "review":
            raise RuntimeError("service: the case did not complete as expected")


Runner = RawRunner | ApiRunner | ServiceRunner


@dataclass
class Timing:
    cases: int = 0
    seconds: float = 0.0
    per_round: list[float] = field(default_factory=list)

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    @property
    def ms_per_case(self) -> float:
        return 1000 * self.seconds / self.cases if self.cases else 0.0


def run_cases(case: Callable[[], None], count: int) -> float:
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        case()
    return time.perf_counter() - started


def measure(runners: list[Runner], cases: int, rounds: int, warmup: int) -> dict[str, Timing]:
    """Warm every runner up, then play `cases` cases each, interleaved over `rounds` rounds."""
    for runner in runners:
        run_cases(runner.case, warmup)
    timings = {runner.name: Timing() for runner in runners}
    rounds = max(1, min(rounds, cases))
    for number in range(rounds):
        count = cases // rounds + (1 if number < cases % rounds else 0)
        shift = number % len(runners)  # rotate who goes first, so no runner always follows GC
        for runner in runners[shift:] + runners[:shift]:
            seconds = run_cases(runner.case, count)
            timing = timings[runner.name]
            timing.cases += count
            timing.seconds += seconds
            timing.per_round.append(count / seconds)
    return timings


@contextlib.contextmanager
def deployed_context(url: str) -> Iterator[ServiceContext]:
    ctx = build_context(Settings(database_url=url, processes_dir=PROCESSES))
    try:
        deployments.deploy(ctx, demo_files(), "bench")
        yield ctx
    finally:
        ctx.close()


@dataclass
class Result:
    backend: str
    timings: dict[str, Timing] | None
    note: str = ""

    @property
    def ratio(self) -> float:
        assert self.timings is not None
        return self.timings["API"].cases_per_second / self.timings["raw"].cases_per_second


def run_backend(backend: str, database: contextlib.AbstractContextManager[str],
                raw: RawRunner, args: argparse.Namespace) -> Result:
    # The API and the service runner each get a database of their own so neither reads the
    # other's rows; both are migrated and deployed the same way.
    with database as api_url, deployed_context(api_url) as api_ctx, \
            TestClient(create_app(context=api_ctx)) as client:
        service_db: contextlib.AbstractContextManager[str] = (
            sqlite_database() if backend == "sqlite" else postgres_database(args.postgres_url))
        with service_db as service_url, deployed_context(service_url) as service_ctx:
            runners: list[Runner] = [raw, ApiRunner(client), ServiceRunner(service_ctx)]
            if args.no_service:
                runners = runners[:2]
            print(f"  {backend}: warming up ({args.warmup} cases per runner), then "
                  f"{args.cases} cases per runner in {args.rounds} interleaved rounds ...",
                  flush=True)
            return Result(backend, measure(runners, args.cases, args.rounds, args.warmup))


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    names = ["raw", "API"] + ([] if args.no_service else ["service"])
    print()
    print(f"Engine overhead: {args.cases} cases per runner; 1 case = start demo_triage + "
          "complete 2 user tasks")
    print("throughput unit: cases/s (one case = 3 persisted steps: start, screen, endorse)")
    print()
    header = f"{'backend':<11}" + "".join(f"{name + ' cases/s':>17}" for name in names)
    header += f"{'ms/case raw':>13}{'ms/case API':>13}{'API/raw':>9}  result"
    print(header)
    print("-" * len(header))
    for result in results:
        if result.timings is None:
            print(f"{result.backend:<11}  skipped: {result.note}")
            continue
        timings = result.timings
        line = f"{result.backend:<11}" + "".join(
            f"{timings[name].cases_per_second:>17.1f}" for name in names)
        verdict = "PASS" if result.ratio >= TARGET_RATIO else "MISS"
        line += (f"{timings['raw'].ms_per_case:>13.2f}{timings['API'].ms_per_case:>13.2f}"
                 f"{result.ratio:>9.3f}  {verdict}")
        print(line)
    print()
    for result in results:
        if result.timings is None:
            continue
        spread = ", ".join(
            f"{name} {min(t.per_round):.0f}-{max(t.per_round):.0f} (median "
            f"{statistics.median(t.per_round):.0f})"
            for name, t in result.timings.items())
        print(f"{result.backend}: cases/s per round: {spread}")
    if not args.no_service:
        print("service = the same use cases without HTTP (informational; not part of the "
              "target)")
    print(f"target: ratio >= {TARGET_RATIO}")
    for result in results:
        if result.timings is None:
            print(f"  {result.backend}: SKIPPED ({result.note})")
        else:
            verdict = "PASS" if result.ratio >= TARGET_RATIO else "MISS"
            print(f"  {result.backend}: API/raw = {result.ratio:.3f} -> {verdict}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=200,
                        help="measured cases per runner and backend (default 200)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="unmeasured cases per runner before measuring (default 20)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds the measured cases are split into (default 5)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="admin URL of the PostgreSQL server; a temporary database is "
                             f"created next to it (default {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    parser.add_argument("--no-service", action="store_true",
                        help="leave out the informational service-layer runner")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--cases and --rounds must be at least 1, --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raw = RawRunner()
    results: list[Result] = []
    if args.backend in ("all", "sqlite"):
        results.append(run_backend("sqlite", sqlite_database(), raw, args))
    if args.backend in ("all", "postgresql"):
        problem = postgres_problem(args.postgres_url)
        if problem:
            print(f"  postgresql: skipped, cannot reach {args.postgres_url}: {problem}")
            results.append(Result("postgresql", None, f"unreachable: {problem}"))
        else:
            results.append(run_backend("postgresql", postgres_database(args.postgres_url),
                                       raw, args))
    print_table(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
