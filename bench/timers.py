"""How fast timer workers fire due timers on PostgreSQL, and whether a second worker helps.

Setup: a temporary PostgreSQL database (`reviewflow_bench_<random>`, dropped at the end even
after a failure), migrated, with a one-timer process deployed (start -> intermediate timer PT1H
-> end). One instance is started through `instances.start` to capture a real serialized state;
then --instances rows (10,000 by default) are bulk-inserted with SQLAlchemy core executemany,
each a copy of that state with a fresh id, status `waiting`, lock_version 1 and next_timer_at one
hour after the seed moment. The database keeps its default durability (synchronous_commit is
printed, not changed), as a Board would run it.

Measured, on identically seeded data (truncated and re-seeded between runs):

1. ONE worker process firing everything;
2. TWO worker processes in parallel (multiprocessing `spawn`).

Each worker is a separate process that builds its own context with a `ManualClock` two hours
after the seed moment, connects, waits for a common start signal, then loops
`app.services.timers.fire_due` until it returns 0. The time is from the start signal until the
last worker has finished, i.e. until every instance is completed.

Printed: timers fired per second with 1 and 2 workers, each worker's count, the speed-up
(2 workers / 1 worker; target >= 1.4 on a 2-core machine), duplicates
((timer_fired events - distinct instances with one) + instances fired more than once; must be 0)
and instances not completed (must be 0), then PASS or MISS. To explain the figures, each
worker also reports its own CPU time and its PostgreSQL backend's CPU time (from /proc, when
the server runs on this machine), and a sampler reads pg_stat_activity every 50 ms to show what
the backends were doing (executing, waiting for the worker's Python, for a lock or for the WAL
flush). The load average is printed before and after: other processes on a 2-core machine move
these figures a lot.

    .venv/bin/python bench/timers.py [--instances 10000] [--postgres-url URL] [--spread-due]
                                     [--profile]

All copies are due at the same moment by default (instances started together, or due on one
calendar date); --spread-due gives them distinct due moments over an hour instead. With
--profile, the one-worker run is repeated under cProfile in this process (on a fresh seed) and
the top functions are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import multiprocessing
import pstats
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

from _support import (
    DEFAULT_POSTGRES_URL,
    machine_load,
    postgres_database,
    postgres_problem,
    process_cpu_seconds,
)
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.pool import NullPool

from app.auth.principal import SYSTEM
from app.clock import ManualClock
from app.db.models import Event, ProcessInstance
from app.engine.definitions import SourceFile
from app.services import deployments, instances, timers
from app.services.context import build_context
from app.settings import Settings

TARGET_SPEEDUP = 1.4
SEED_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
FIRE_AT = SEED_AT + dt.timedelta(hours=2)
BATCH = 1000
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "one_timer.bpmn"
ONE_TIMER = FIXTURE.read_bytes()

INSTANCE_TABLE = ProcessInstance.__table__


@dataclass(frozen=True)
class WorkerResult:
    number: int
    fired: int
    began: float
    ended: float
    cpu: float
    backend_cpu: float | None
    error: str | None = None


@dataclass
class Outcome:
    workers: int
    seconds: float
    results: list[WorkerResult]
    fired_events: int
    distinct_fired: int
    fired_more_than_once: int
    not_completed: int
    waits: str = ""

    @property
    def counts(self) -> list[int]:
        return [result.fired for result in self.results]

    @property
    def fired(self) -> int:
        return sum(self.counts)

    @property
    def per_second(self) -> float:
        return self.fired / self.seconds

    @property
    def duplicates(self) -> int:
        return (self.fired_events - self.distinct_fired) + self.fired_more_than_once


# --- seeding -------------------------------------------------------------------------------------

def capture_template(url: str) -> dict[str, Any]:
    """Deploy the one-timer process, start one real instance, return its row's columns.

    The whole row is read through the table (not the model's attributes), so columns added
    later are copied too.
    """
    ctx = build_context(Settings(database_url=url), clock=ManualClock(SEED_AT))
    try:
        deployments.deploy(ctx, SYSTEM, [SourceFile("one_timer.bpmn", ONE_TIMER)])
        started = instances.start(ctx, SYSTEM, "one_timer", "TEMPLATE", {}).instance
        with ctx.engine.connect() as conn:
            row = dict(conn.execute(select(INSTANCE_TABLE).where(
                INSTANCE_TABLE.c.id == started.id)).mappings().one())
    finally:
        ctx.close()
    if row["status"] != "waiting" or row["next_timer_at"] is None:
        raise RuntimeError(f"the template instance is {row['status']}, next timer "
                           f"{row['next_timer_at']}; expected one waiting for its timer")
    return row


def seed(url: str, template: dict[str, Any], count: int, spread: bool = False) -> float:
    """Empty the instance tables and insert `count` due copies of the template; return seconds.

    Every copy is due at the template's moment, or, with `spread`, at distinct moments over the
    hour before it.
    """
    began = time.perf_counter()
    due_at: dt.datetime = template["next_timer_at"]
    step = dt.timedelta(hours=1) / count
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE event, human_task, message_subscription, "
                              "process_instance"))
            for first in range(0, count, BATCH):
                rows = [{**template, "id": str(uuid.uuid4()), "business_key": f"CASE-{n}",
                         "status": "waiting", "error": None, "lock_version": 1,
                         "next_timer_at": due_at - step * (count - n) if spread else due_at,
                         "created_at": SEED_AT, "updated_at": SEED_AT, "ended_at": None}
                        for n in range(first, min(first + BATCH, count))]
                conn.execute(insert(INSTANCE_TABLE), rows)
        # Same starting point for every run: fresh statistics, no dead tuples from the last run.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE process_instance"))
            conn.execute(text("VACUUM ANALYZE event"))
            due = conn.execute(select(func.count()).select_from(INSTANCE_TABLE).where(
                INSTANCE_TABLE.c.next_timer_at <= FIRE_AT,
                INSTANCE_TABLE.c.status == "waiting")).scalar_one()
        if due != count:
            raise RuntimeError(f"seeded {due} due instances, expected {count}")
    finally:
        engine.dispose()
    return time.perf_counter() - began


class WaitSampler:
    """Samples what the workers' PostgreSQL backends are doing, every `interval` seconds.

    Each sample counts the benchmark database's client backends by state and wait event:
    `active / CPU` is the backend executing (or queued for a core), `idle in transaction /
    Client:ClientRead` is the backend waiting for the worker's Python, `Lock:*` is lock
    contention, `IO:WALSync` and friends are commits waiting for the disk.
    """

    QUERY = text("SELECT state, coalesce(wait_event_type || ':' || wait_event, 'CPU') "
                 "FROM pg_stat_activity WHERE datname = current_database() "
                 "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")

    def __init__(self, url: str, interval: float = 0.05) -> None:
        self.url = url
        self.interval = interval
        self.counts: Counter[tuple[str, str]] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wait-sampler", daemon=True)

    def _run(self) -> None:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                while not self._stop.wait(self.interval):
                    for state, wait in conn.execute(self.QUERY):
                        self.counts[(state or "?", wait)] += 1
        finally:
            engine.dispose()

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self, top: int = 6) -> str:
        total = sum(self.counts.values()) or 1
        return ", ".join(f"{state} / {wait} {100 * n / total:.0f}%"
                         for (state, wait), n in self.counts.most_common(top))


# --- workers -------------------------------------------------------------------------------------

def fire_all(url: str) -> tuple[int, int]:
    """Fire everything due at FIRE_AT in this process; return (instances fired, fire_due calls)."""
    ctx = build_context(Settings(database_url=url), clock=ManualClock(FIRE_AT))
    try:
        fired = calls = 0
        while (count := timers.fire_due(ctx)) > 0:
            fired += count
            calls += 1
        return fired, calls + 1
    finally:
        ctx.close()


def worker(number: int, url: str, ready: Any, go: EventType, results: Any) -> None:
    """One worker process: connect, say ready, wait for the start signal, fire until none due.

    Reports what it fired, its start and end (monotonic), its own CPU seconds and the CPU
    seconds of its database backend (read from /proc when PostgreSQL runs on this machine).
    """
    ctx = build_context(Settings(database_url=url), clock=ManualClock(FIRE_AT))
    try:
        with ctx.engine.connect() as conn:  # open the pool's connection before the clock starts
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        ready.put(number)
        go.wait()
        backend_before = process_cpu_seconds(backend)
        cpu_before = time.process_time()
        began = time.monotonic()
        fired = 0
        while (count := timers.fire_due(ctx)) > 0:
            fired += count
        ended = time.monotonic()
        cpu = time.process_time() - cpu_before
        with ctx.engine.connect() as conn:
            same_backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == backend
        backend_after = process_cpu_seconds(backend)
        backend_cpu = (backend_after - backend_before
                       if same_backend and backend_before is not None
                       and backend_after is not None else None)
        results.put(WorkerResult(number, fired, began, ended, cpu, backend_cpu))
    except BaseException as exc:
        results.put(WorkerResult(number, -1, 0.0, 0.0, 0.0, None, repr(exc)))
        raise
    finally:
        ctx.close()


def run_workers(url: str, count: int) -> tuple[float, list[WorkerResult], str]:
    """Run `count` worker processes from one start signal.

    Returns the seconds until the last one finished, their results and what their database
    backends were seen doing meanwhile.
    """
    spawn = multiprocessing.get_context("spawn")
    ready, results, go = spawn.Queue(), spawn.Queue(), spawn.Event()
    processes = [spawn.Process(target=worker, args=(n, url, ready, go, results),
                               name=f"timer-worker-{n}") for n in range(count)]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=120)
        with WaitSampler(url) as sampler:
            began = time.monotonic()
            go.set()
            finished: list[WorkerResult] = [results.get(timeout=3600) for _ in processes]
        for process in processes:
            process.join(timeout=60)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
    failed = [result for result in finished if result.error is not None]
    if failed:
        raise RuntimeError(f"worker failed: {failed}")
    finished.sort(key=lambda result: result.number)
    return max(result.ended for result in finished) - began, finished, sampler.summary()


def check(url: str, workers: int, seconds: float, results: list[WorkerResult],
          waits: str) -> Outcome:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            per_instance = (select(Event.instance_id, func.count().label("n"))
                            .where(Event.type == "timer_fired")
                            .group_by(Event.instance_id).subquery())
            events, distinct, repeated = conn.execute(select(
                func.coalesce(func.sum(per_instance.c.n), 0), func.count(),
                func.count().filter(per_instance.c.n > 1))).one()
            not_completed = conn.execute(select(func.count()).select_from(ProcessInstance)
                                         .where(ProcessInstance.status != "completed")
                                         ).scalar_one()
    finally:
        engine.dispose()
    return Outcome(workers, seconds, results, int(events), distinct, repeated, not_completed,
                   waits)


def report(outcome: Outcome, expected: int) -> None:
    counts = ", ".join(f"worker {n}: {c}" for n, c in enumerate(outcome.counts))
    print(f"  {outcome.workers} worker(s): {outcome.fired} fired in {outcome.seconds:.2f} s = "
          f"{outcome.per_second:.1f} timers/s ({counts})", flush=True)
    for result in outcome.results:
        wall = result.ended - result.began
        backend = ("n/a" if result.backend_cpu is None else
                   f"{result.backend_cpu:.1f} s = {1000 * result.backend_cpu / result.fired:.2f} "
                   "ms/timer")
        print(f"    worker {result.number}: wall {wall:.1f} s; worker CPU {result.cpu:.1f} s = "
              f"{1000 * result.cpu / result.fired:.2f} ms/timer; its PostgreSQL backend's CPU "
              f"{backend}", flush=True)
    print(f"    backends sampled: {outcome.waits}", flush=True)
    print(f"    timer_fired events {outcome.fired_events}, distinct instances "
          f"{outcome.distinct_fired}, fired more than once {outcome.fired_more_than_once}, "
          f"duplicates {outcome.duplicates}, not completed {outcome.not_completed}, "
          f"never fired {expected - outcome.distinct_fired}", flush=True)


def profile_one_worker(url: str, template: dict[str, Any], count: int, spread: bool) -> None:
    """cProfile one worker in this process on a fresh seed; print where its time goes."""
    seed(url, template, count, spread)
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    fired, calls = fire_all(url)
    profiler.disable()
    seconds = time.perf_counter() - began
    print(f"\ncProfile of one worker (in process, profiler overhead included): {fired} fired "
          f"in {seconds:.2f} s over {calls} fire_due calls", flush=True)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    print(out.getvalue(), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--spread-due", action="store_true",
                        help="give the instances distinct due moments over an hour (default: "
                             "all due at the same moment, as when started together)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one worker in process with cProfile")
    args = parser.parse_args()

    problem = postgres_problem(args.postgres_url)
    if problem:
        print(f"PostgreSQL is not reachable at {args.postgres_url}: {problem}", file=sys.stderr)
        return 2
    print(f"timer workers: {args.instances} due one-timer instances; {machine_load()}",
          flush=True)
    with postgres_database(args.postgres_url) as url:
        engine = create_engine(url)
        with engine.connect() as conn:
            settings = {name: conn.execute(text(f"SHOW {name}")).scalar_one()
                        for name in ("server_version", "synchronous_commit", "fsync",
                                     "wal_sync_method", "shared_buffers")}
        engine.dispose()
        print("  database: " + ", ".join(f"{k}={v}" for k, v in settings.items())
              + " (defaults kept)", flush=True)
        template = capture_template(url)

        outcomes: list[Outcome] = []
        for workers in (1, 2):
            seconds = seed(url, template, args.instances, args.spread_due)
            print(f"  seeded {args.instances} due instances in {seconds:.2f} s; "
                  f"{machine_load()}", flush=True)
            elapsed, results, waits = run_workers(url, workers)
            outcome = check(url, workers, elapsed, results, waits)
            outcomes.append(outcome)
            report(outcome, args.instances)
        print(f"  after the runs: {machine_load()}", flush=True)

        if args.profile:
            profile_one_worker(url, template, args.instances, args.spread_due)

    one, two = outcomes
    speedup = two.per_second / one.per_second
    correct = all(o.duplicates == 0 and o.not_completed == 0 and o.fired == args.instances
                  and o.distinct_fired == args.instances for o in outcomes)
    both_worked = all(c > 0 for c in two.counts)
    print(f"\n1 worker: {one.per_second:.1f} timers/s; 2 workers: {two.per_second:.1f} timers/s; "
          f"speed-up {speedup:.2f} (target >= {TARGET_SPEEDUP})")
    print(f"duplicates: {one.duplicates} (1 worker), {two.duplicates} (2 workers); "
          f"not completed: {one.not_completed}, {two.not_completed}; "
          f"both workers fired: {both_worked}")
    verdict = "PASS" if speedup >= TARGET_SPEEDUP and correct and both_worked else "MISS"
    print(f"{verdict}: speed-up {speedup:.2f} vs target {TARGET_SPEEDUP}; "
          f"exactly-once {'held' if correct else 'BROKEN'}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
