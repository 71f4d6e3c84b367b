"""What an engine-overhead run measured, and how it is printed (see `engine_overhead.py`)."""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field

TARGETS = {"sqlite": 0.30, "postgresql": 0.15}
"""API/raw per backend (issue 18: on public APIs only, PostgreSQL pays a round trip per BEGIN,
write and COMMIT)."""


def target(backend: str) -> float:
    return TARGETS.get(backend, 0.30)


HTTPX = "API/httpx"
TCP = "API/TCP"


@dataclass
class Timing:
    cases: int = 0
    seconds: float = 0.0
    per_round: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    """CPU time of this process (all its threads) while the runner played."""
    server_cpu_seconds: float | None = None
    """CPU time of the PostgreSQL server's processes meanwhile, when watched and readable."""

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0

    @property
    def ms_per_case(self) -> float:
        return 1000 * self.seconds / self.cases if self.cases else 0.0


@dataclass
class RoundTrips:
    """What one API case asks of the database, counted during the warm-up."""

    statements: int = 0
    transactions: int = 0
    cases: int = 0

    def per_case(self) -> tuple[float, float]:
        if not self.cases:
            return 0.0, 0.0
        return self.statements / self.cases, self.transactions / self.cases


@dataclass
class Result:
    backend: str
    timings: dict[str, Timing] | None = None
    trips: RoundTrips | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ratio_of("API")

    def ratio_of(self, runner: str) -> float:
        assert self.timings is not None
        return self.timings[runner].cases_per_second / self.timings["raw"].cases_per_second


def with_httpx(args: argparse.Namespace) -> bool:
    """Whether the API is also measured through httpx's client, for information."""
    return args.client != "httpx" and not args.no_httpx


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    names = (["raw", "API"] + ([HTTPX] if with_httpx(args) else [])
             + ([] if args.no_tcp else [TCP])
             + ([] if args.no_service else ["service"])
             + ([] if args.no_floor else ["engine", "floor"]))
    print()
    print(f"Engine overhead: {args.cases} measured cases per runner and backend, after "
          f"{args.warmup} warm-up cases; API client: {args.client}")
    print("1 case = start demo_triage + complete 'Screen the referral' + complete the chair's "
          "task (3 persisted steps)")
    print()
    header = f"{'backend':<11}" + "".join(f"{name + ' cases/s':>19}" for name in names)
    header += f"{'raw ms/case':>13}{'API ms/case':>13}{'API/raw':>9}  result"
    print(header)
    print("-" * len(header))
    for result in results:
        if result.timings is None:
            print(f"{result.backend:<11}  skipped: {result.note}")
            continue
        timings = result.timings
        line = f"{result.backend:<11}" + "".join(
            f"{timings[name].cases_per_second:>19.1f}" for name in names)
        verdict = "PASS" if result.ratio >= target(result.backend) else "MISS"
        line += (f"{timings['raw'].ms_per_case:>13.2f}{timings['API'].ms_per_case:>13.2f}"
                 f"{result.ratio:>9.3f}  {verdict}")
        print(line)
    print()
    for result in results:
        if result.timings is None:
            continue
        spread = "; ".join(
            f"{name} {min(t.per_round):.1f}..{max(t.per_round):.1f} "
            f"(median {statistics.median(t.per_round):.1f})"
            for name, t in result.timings.items())
        print(f"{result.backend} cases/s per round: {spread}")
        print(f"{result.backend} CPU per case: {cpu_split(result)}")
        if result.trips is not None and result.trips.cases:
            statements, transactions = result.trips.per_case()
            print(f"{result.backend} API database work per case: {statements:.1f} statements "
                  f"sent to the driver, in {transactions:.1f} transactions")
    if with_httpx(args):
        print(f"{HTTPX} = the same API and database called through httpx's AsyncClient, whose "
              "own request building and response reading the service never pays (for "
              "information; not part of the target)")
    if not args.no_tcp:
        print(f"{TCP} = `reviewflow serve` (uvicorn) in another process, called over real TCP "
              "by a keep-alive httpx client (for information; not part of the target)")
    if not args.no_service:
        print("service = the same use cases called without HTTP (for information; not part of "
              "the target)")
    if not args.no_floor:
        print("engine = Reviewflow's engine layer alone, without a database; floor = a minimal "
              "FastAPI app and the bare driver making the same requests and round trips, with no "
              "engine and no service code (both for information)")
        for result in results:
            if result.timings is not None:
                print(f"  {result.backend}: {floor_share(result.backend, result.timings)}")
    print()
    print("target: API/raw >= " + ", ".join(f"{ratio} on {name}"
                                            for name, ratio in TARGETS.items()))
    for result in results:
        if result.timings is None:
            print(f"  {result.backend}: SKIPPED ({result.note})")
        else:
            verdict = "PASS" if result.ratio >= target(result.backend) else "MISS"
            line = f"  {result.backend}: API/raw = {result.ratio:.3f} -> {verdict}"
            if "floor" in result.timings and "engine" in result.timings:
                beneath = (result.timings["floor"].ms_per_case
                           + result.timings["engine"].ms_per_case)
                line += (f"; API / (floor + engine) = "
                         f"{result.timings['API'].ms_per_case / beneath:.2f} (time per case)")
            if with_httpx(args):
                line += f" (through httpx: {result.ratio_of(HTTPX):.3f}, for information)"
            if TCP in result.timings:
                line += f" (over TCP: {result.ratio_of(TCP):.3f}, for information)"
            print(line)


def cpu_split(result: Result) -> str:
    """Where each runner's time per case went: CPU in this process, CPU in the database server
    (PostgreSQL on this machine; SQLite works inside this process), and the rest waiting."""
    assert result.timings is not None
    parts = []
    for name, timing in result.timings.items():
        wall, cpu = timing.ms_per_case, 1000 * timing.cpu_seconds / timing.cases
        text = f"{name} {cpu:.2f} ms in this process"
        if timing.server_cpu_seconds is not None:
            text += f" + {1000 * timing.server_cpu_seconds / timing.cases:.2f} ms in the server"
        parts.append(f"{text} (of {wall:.2f} ms)")
    return "; ".join(parts)


def floor_share(backend: str, timings: dict[str, Timing]) -> str:
    """How much of the target's budget the stack's floor and the engine layer take, and what
    they leave for the rest of the service."""
    budget = timings["raw"].ms_per_case / target(backend)
    floor, work = timings["floor"].ms_per_case, timings["engine"].ms_per_case
    left = budget - floor - work
    return (f"the target allows {budget:.2f} ms a case (raw / {target(backend)}); the floor takes "
            f"{floor:.2f} ms and the engine layer {work:.2f} ms "
            f"({100 * (floor + work) / budget:.0f}% together), leaving {left:.2f} ms for the "
            f"rest of the service, which takes {timings['API'].ms_per_case - floor - work:.2f} "
            "ms in the API runner")
