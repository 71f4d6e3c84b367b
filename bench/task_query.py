"""Does reading the task inbox stay fast as instances pile up?

Measures the latency of filtered GET /api/v1/tasks requests through the real HTTP app
(`create_app(context=...)`, called in process) on a database of 1,000 instances and on one of
100,000 (--instances), on SQLite (temporary files) and on PostgreSQL (temporary
`reviewflow_bench_<random>` databases, dropped at the end; skipped with a note when the server
cannot be reached). The queries:

* lane inbox:   ?state=ready&lane=panel_member&sort=due_at&limit=50
* business key: ?business_key=<a random existing key>  (default sort, limit 50)
* ready inbox:  ?state=ready&sort=-created_at&limit=50

The two sizes are measured side by side, the requests interleaved (each round sends every query
to both databases), so that a slow spell of the machine hits both alike. Each measurement is
--requests requests per query and size (default 300, at least 200) after --warmup warm-up
rounds; p50 and p95 are nearest-rank percentiles of the client-side latency.
Target, per query: p95 at 100,000 instances <= 1.5 x p95 at 1,000.

Seeding through the API would take far too long, so rows are bulk-inserted with SQLAlchemy core
executemany batches into process_instance and human_task. First processes/ is deployed with
`deployments.deploy`, as `reviewflow deploy processes` would (only the demo files, with a note,
should the rest not deploy), so that demo_triage's process_version exists; then one real case is
run through the use cases to capture a real serialized running state and a real completed state,
and every seeded instance carries one of them. The mix: 80% completed (60% of those went on to
the chair), 15% running (half waiting for the screening, half for the chair's endorsement), 5%
terminated; about 1.6 tasks per instance, most of them completed; 85% of tasks have a due date;
a business key is shared by one or two instances and 5% of instances have none; instances were
created over the last two years, the running ones in the last 120 days. On PostgreSQL the tables
are VACUUM ANALYZEd after seeding, as autovacuum would do shortly after such a load; SQLite gets
no ANALYZE, as the app runs none.

    .venv/bin/python bench/task_query.py [--instances 100000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _support import (
    CLIENT_KINDS,
    DEFAULT_POSTGRES_URL,
    Requester,
    api_token,
    deployed_context,
    machine_load,
    open_client,
    percentile,
    postgres_database,
    postgres_problem,
    principal,
    sqlite_database,
)
from sqlalchemy import Engine, func, select, text

from app.db.models import HumanTask, ProcessInstance
from app.engine.serializer import SERIALIZER_VERSION
from app.main import create_app
from app.services import instances, tasks
from app.services.context import ServiceContext

PROCESS_KEY = "demo_triage"
TARGET_RATIO = 1.5
AGENCIES = ("police", "health", "childrens_social_care", "education", None, None, None)
PEOPLE = ("a.khan", "b.osei", "c.murphy", "d.nowak", "e.silva", "f.jones")
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class TaskKind:
    bpmn_id: str
    title: str
    lane: str
    form_name: str
    instructions: str


@dataclass
class Template:
    """What the seeded rows copy from the real deployment and the real instance."""

    version_id: int
    version: int
    running_state: str
    completed_state: str
    screen: TaskKind
    endorse: TaskKind


@dataclass
class Seeded:
    instances: int = 0
    tasks: int = 0
    seconds: float = 0.0
    business_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Query:
    name: str
    describe: str
    caller: str
    """The role of the caller's token: what a caller may see is part of the query."""
    params: Callable[[random.Random, list[str]], dict[str, Any]]


QUERIES = (
    Query("lane inbox", "state=ready&lane=panel_member&sort=due_at&limit=50", "panel_member",
          lambda _rng, _keys: {"state": "ready", "lane": "panel_member", "sort": "due_at",
                               "limit": 50}),
    Query("business key", "business_key=<random existing key>", "board_manager",
          lambda rng, keys: {"business_key": rng.choice(keys)}),
    Query("ready inbox", "state=ready&sort=-created_at&limit=50", "board_manager",
          lambda _rng, _keys: {"state": "ready", "sort": "-created_at", "limit": 50}),
)
CALLERS = sorted({query.caller for query in QUERIES})


@dataclass
class Measurement:
    size: int
    latencies: dict[str, list[float]]
    totals: dict[str, float]

    def p(self, query: str, pct: float) -> float:
        return percentile(self.latencies[query], pct)


def business_key(index: int) -> str | None:
    """Keys shared by one or two consecutive instances (1.5 on average); 5% have none."""
    if index % 20 == 7:
        return None
    return f"SCR-{index * 2 // 3:07d}"


def capture_template(ctx: ServiceContext) -> Template:
    """Run one real case through the use cases and keep its running and completed states."""
    caller = principal("bench-template", "board_manager", "panel_member", "chair")
    started = instances.start(ctx, caller, PROCESS_KEY, business_key(0),
                              {"child_died": False, "seriously_harmed": True})
    running_state = started.instance.state
    screen_row = started.ready_tasks[0]
    middle = tasks.complete(ctx, caller, screen_row.id, {"review_needed": True, "reason": "x"})
    endorse_row = middle.ready_tasks[0]
    done = tasks.complete(ctx, caller, endorse_row.id, {"endorsed": True})
    if done.instance.status != "completed":
        raise RuntimeError("the template case did not complete")

    def kind(row: HumanTask) -> TaskKind:
        return TaskKind(row.bpmn_id, row.title, row.lane or "", row.form_name or "",
                        row.instructions or "")

    return Template(done.instance.process_version_id, done.instance.version, running_state,
                    done.instance.state, kind(screen_row), kind(endorse_row))


def instance_rows(index: int, rng: random.Random,
                  template: Template) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One instance and its tasks, following the mix described in the module docstring."""
    instance_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    key = business_key(index)
    roll = rng.random()
    status = "completed" if roll < 0.80 else "running" if roll < 0.95 else "terminated"
    age_days = 120 if status == "running" else 730  # open work is recent
    created = NOW - dt.timedelta(seconds=rng.uniform(3600, age_days * 86400))
    reached_chair = rng.random() < (0.6 if status == "completed" else 0.5)
    agency = rng.choice(AGENCIES)
    task_rows: list[dict[str, Any]] = []

    def task(kind: TaskKind, state: str, at: dt.datetime) -> dt.datetime:
        finished = at + dt.timedelta(seconds=rng.uniform(3600, 14 * 86400))
        closed = state != "ready"
        task_rows.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "instance_id": instance_id, "process_key": PROCESS_KEY, "business_key": key,
            "bpmn_id": kind.bpmn_id, "title": kind.title, "lane": kind.lane, "agency": agency,
            "state": state,
            "assignee": rng.choice(PEOPLE) if rng.random() < 0.3 else None,
            "form_name": kind.form_name, "instructions": kind.instructions,
            "due_at": (at + dt.timedelta(days=rng.choice((5, 10, 15, 20)))
                       if rng.random() < 0.85 else None),
            "created_at": at,
            "completed_at": finished if closed else None,
            "completed_by": rng.choice(PEOPLE) if state == "completed" else None,
        })
        return finished

    if status == "completed":
        at = task(template.screen, "completed", created)
        if reached_chair:
            at = task(template.endorse, "completed", at)
    elif status == "running":
        if reached_chair:
            task(template.endorse, "ready", task(template.screen, "completed", created))
        else:
            task(template.screen, "ready", created)
        at = created
    else:
        at = task(template.screen, "completed" if reached_chair else "cancelled", created)
        if reached_chair:
            at = task(template.endorse, "cancelled", at)
    ended = at if status != "running" else None
    instance = {
        "id": instance_id, "process_version_id": template.version_id,
        "process_key": PROCESS_KEY, "version": template.version, "business_key": key,
        "status": status,
        "state": template.completed_state if status == "completed" else template.running_state,
        "serializer_version": SERIALIZER_VERSION, "error": None, "next_timer_at": None,
        "lock_version": 2 + len(task_rows),
        "created_at": created, "updated_at": ended or created, "ended_at": ended,
    }
    return instance, task_rows


def seed(engine: Engine, first: int, count: int, template: Template, rng: random.Random,
         batch: int, seeded: Seeded) -> None:
    """Bulk-insert `count` instances numbered from `first`, `batch` instances per transaction."""
    started = time.perf_counter()
    instance_table = ProcessInstance.__table__
    task_table = HumanTask.__table__
    for offset in range(0, count, batch):
        instance_batch: list[dict[str, Any]] = []
        task_batch: list[dict[str, Any]] = []
        for index in range(first + offset, first + min(count, offset + batch)):
            instance, task_rows = instance_rows(index, rng, template)
            instance_batch.append(instance)
            task_batch.extend(task_rows)
            if instance["business_key"] is not None:
                seeded.business_keys.append(instance["business_key"])
        with engine.begin() as conn:
            conn.execute(instance_table.insert(), instance_batch)
            conn.execute(task_table.insert(), task_batch)
        seeded.instances += len(instance_batch)
        seeded.tasks += len(task_batch)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) process_instance"))
            conn.execute(text("VACUUM (ANALYZE) human_task"))
    seeded.seconds += time.perf_counter() - started


def count_instances(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(ProcessInstance)) or 0)


@dataclass
class Side:
    """One database of one size, with the app that serves it."""

    size: int
    ctx: ServiceContext
    seeded: Seeded
    tokens: dict[str, str]
    request: Requester | None = None


async def check(side: Side, query: Query, params: dict[str, Any]) -> float:
    """Call once, check the answer is what the query asks for, and return its total."""
    assert side.request is not None
    response = await side.request("GET", "/api/v1/tasks", params=params,
                                  token=side.tokens[query.caller])
    if response.status_code != 200:
        raise RuntimeError(f"{query.name}: {response.status_code} {response.text}")
    body = response.json()
    for item in body["items"]:
        for name in ("state", "lane", "business_key"):
            if name in params and item[name] != params[name]:
                raise RuntimeError(f"{query.name}: got a task with {name}={item[name]!r}")
    if not body["items"]:
        raise RuntimeError(f"{query.name}: no tasks matched {params}")
    return float(body["total"])


async def measure(sides: list[Side], requests: int, warmup: int,
                  rng: random.Random) -> list[Measurement]:
    """Time `requests` requests of each query on each side, all interleaved.

    Every round sends each query to each database in turn (the order of the sides alternating
    from round to round), so that a slow spell of the machine hits both sizes alike.
    """
    latencies = {side.size: {query.name: [] for query in QUERIES} for side in sides}
    totals: dict[int, dict[str, list[float]]] = {
        side.size: {query.name: [] for query in QUERIES} for side in sides}
    for side in sides:
        assert side.request is not None
        for query in QUERIES:
            for _ in range(3):
                totals[side.size][query.name].append(await check(
                    side, query, query.params(rng, side.seeded.business_keys)))
    for number in range(warmup + requests):
        if number == warmup:
            gc.collect()
        for query in QUERIES:
            for side in sides if number % 2 else sides[::-1]:
                assert side.request is not None
                params = query.params(rng, side.seeded.business_keys)
                started = time.perf_counter()
                response = await side.request("GET", "/api/v1/tasks", params=params,
                                              token=side.tokens[query.caller])
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise RuntimeError(f"{query.name}: {response.status_code} {response.text}")
                if number >= warmup:
                    latencies[side.size][query.name].append(1000 * elapsed)
    return [Measurement(side.size, latencies[side.size],
                        {name: sum(values) / len(values)
                         for name, values in totals[side.size].items()})
            for side in sides]


@dataclass
class Result:
    backend: str
    measurements: list[Measurement] = field(default_factory=list)
    seeded: list[Seeded] = field(default_factory=list)
    note: str = ""


def seed_side(backend: str, ctx: ServiceContext, size: int, args: argparse.Namespace) -> Side:
    """Run the template case, then bulk-insert instances until there are `size` of them.

    Both sides draw from the same random stream, so the small database holds the first
    instances of the large one.
    """
    rng = random.Random(args.seed)
    template = capture_template(ctx)
    seeded = Seeded(business_keys=[business_key(0) or ""])
    print(f"  {backend}: seeding {size - 1:,} instances next to the template case ...",
          flush=True)
    seed(ctx.engine, 1, size - 1, template, rng, args.batch, seeded)
    if count_instances(ctx.engine) != size:
        raise RuntimeError(f"expected {size} instances after seeding")
    tokens = {role: api_token(ctx, f"bench-{role}", role) for role in CALLERS}
    return Side(size, ctx, seeded, tokens)


async def run_backend(backend: str,
                      new_database: Callable[[], contextlib.AbstractContextManager[str]],
                      args: argparse.Namespace) -> Result:
    """Seed a small and a large database on one backend and measure them side by side."""
    with contextlib.ExitStack() as stack:
        sides = [seed_side(backend, stack.enter_context(deployed_context(
                     stack.enter_context(new_database()))), size, args)
                 for size in (args.small, args.instances)]
        async with contextlib.AsyncExitStack() as clients:
            for side in sides:
                side.request = await clients.enter_async_context(
                    open_client(create_app(context=side.ctx), args.client))
            print(f"  {backend}: measuring {args.small:,} and {args.instances:,} instances "
                  "side by side ...", flush=True)
            measurements = await measure(sides, args.requests, args.warmup,
                                         random.Random(args.seed + 1))
    return Result(backend, measurements, [side.seeded for side in sides])


def print_report(results: list[Result], args: argparse.Namespace) -> None:
    print()
    print(f"Task query latency, GET /api/v1/tasks: {args.requests} requests per query and size "
          f"after {args.warmup} warm-up requests each; API client: {args.client}")
    for query in QUERIES:
        print(f"  {query.name:<13} ?{query.describe}  (as a {query.caller})")
    print()
    header = (f"{'backend':<11}{'query':<14}{'instances':>11}{'matching':>10}"
              f"{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    print(header)
    print("-" * len(header))
    for result in results:
        if not result.measurements:
            print(f"{result.backend:<11}skipped: {result.note}")
            continue
        for query in QUERIES:
            for m in result.measurements:
                print(f"{result.backend:<11}{query.name:<14}{m.size:>11,}"
                      f"{m.totals[query.name]:>10,.0f}{m.p(query.name, 50):>9.2f}"
                      f"{m.p(query.name, 95):>9.2f}{max(m.latencies[query.name]):>9.2f}")
    print()
    for result in results:
        for seeded in result.seeded:
            if seeded.seconds:
                print(f"{result.backend}: seeded {seeded.instances:,} instances and "
                      f"{seeded.tasks:,} tasks in {seeded.seconds:.1f} s "
                      f"({seeded.instances / seeded.seconds:,.0f} instances/s, "
                      f"{seeded.tasks / max(seeded.instances, 1):.2f} tasks per instance)")
    print()
    print(f"target: p95 at {args.instances:,} <= {TARGET_RATIO} x p95 at {args.small:,}")
    for result in results:
        if len(result.measurements) != 2:
            print(f"  {result.backend}: SKIPPED ({result.note or 'not measured'})")
            continue
        small, large = result.measurements
        for query in QUERIES:
            p_small, p_large = small.p(query.name, 95), large.p(query.name, 95)
            ratio = p_large / p_small
            verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
            print(f"  {result.backend:<11}{query.name:<14} p95 {p_small:7.2f} ms -> "
                  f"{p_large:7.2f} ms   ratio {ratio:6.2f}  {verdict}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="p95 of GET /api/v1/tasks at 1,000 and at "
                                                 "100,000 instances, on SQLite and PostgreSQL.")
    parser.add_argument("--instances", type=int, default=100_000,
                        help="the large size (default 100000)")
    parser.add_argument("--small", type=int, default=1_000,
                        help="the small size (default 1000)")
    parser.add_argument("--requests", type=int, default=300,
                        help="timed requests per query and size (default 300, at least 200)")
    parser.add_argument("--warmup", type=int, default=30,
                        help="warm-up requests per query and size (default 30)")
    parser.add_argument("--batch", type=int, default=2_000,
                        help="instances per insert transaction while seeding (default 2000)")
    parser.add_argument("--seed", type=int, default=20260302, help="random seed for the data")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="admin URL of the PostgreSQL server; a temporary database is "
                             "created there and dropped afterwards (default: %(default)s)")
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    parser.add_argument("--client", choices=CLIENT_KINDS, default="asgi",
                        help="how the API is called in process: as an ASGI server calls it "
                             "(default), through httpx's client, or through FastAPI's "
                             "TestClient")
    args = parser.parse_args(argv)
    if args.small < 2 or args.instances <= args.small:
        parser.error("--small must be at least 2 and --instances larger than --small")
    if args.requests < 200:
        parser.error("--requests must be at least 200")
    if args.batch < 1 or args.warmup < 0:
        parser.error("--batch must be at least 1 and --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"machine at start: {machine_load()}", flush=True)
    results: list[Result] = []
    if args.backend in ("all", "sqlite"):
        results.append(asyncio.run(run_backend("sqlite", sqlite_database, args)))
    if args.backend in ("all", "postgresql"):
        problem = postgres_problem(args.postgres_url)
        if problem:
            print(f"  postgresql: skipped, cannot reach {args.postgres_url}: {problem}")
            results.append(Result("postgresql", note=f"unreachable: {problem}"))
        else:
            results.append(asyncio.run(run_backend(
                "postgresql", lambda: postgres_database(args.postgres_url), args)))
    print_report(results, args)
    print(f"machine at end: {machine_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
