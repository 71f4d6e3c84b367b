"""Two worker processes on PostgreSQL share thousands of due timers; each fires exactly once."""

from __future__ import annotations

import datetime as dt
import multiprocessing

import pytest
from sqlalchemy import func, select

from app.auth.principal import SYSTEM
from app.clock import ManualClock
from app.db.models import Event, ProcessInstance
from app.engine.definitions import SourceFile
from app.services import deployments, instances, timers
from app.services.context import ServiceContext, build_context
from app.settings import Settings
from tests.conftest import FIXTURES

INSTANCES = 2000
ONE_TIMER = (FIXTURES / "one_timer.bpmn").read_bytes()
"""A start, an hour's timer and an end."""


def work(url: str, now: str) -> int:
    """One worker process: fire everything due at `now`, then stop."""
    context = build_context(Settings(database_url=url),
                            clock=ManualClock(dt.datetime.fromisoformat(now)))
    try:
        fired = 0
        while (count := timers.fire_due(context)) > 0:
            fired += count
        return fired
    finally:
        context.close()


def test_two_workers_fire_each_timer_exactly_once(ctx: ServiceContext, database_url: str,
                                                  clock: ManualClock) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers run only on PostgreSQL; SQLite runs one")
    deployments.deploy(ctx, SYSTEM, [SourceFile("one_timer.bpmn", ONE_TIMER)])
    for n in range(INSTANCES):
        instances.start(ctx, SYSTEM, "one_timer", f"CASE-{n}", {})
    later = (clock.now() + dt.timedelta(hours=2)).isoformat()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        counts = pool.starmap(work, [(database_url, later), (database_url, later)])
    assert sum(counts) == INSTANCES
    assert all(count > 0 for count in counts), f"one worker did all the work: {counts}"
    with ctx.uow() as uow:
        fired_per_instance = dict(uow.session.execute(
            select(Event.instance_id, func.count()).where(Event.type == "timer_fired")
            .group_by(Event.instance_id)).all())
        statuses = dict(uow.session.execute(
            select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status)).all())
    assert len(fired_per_instance) == INSTANCES
    assert set(fired_per_instance.values()) == {1}
    assert statuses == {"completed": INSTANCES}


def test_one_worker_on_sqlite_beside_the_api(ctx: ServiceContext, database_url: str,
                                             clock: ManualClock) -> None:
    deployments.deploy(ctx, SYSTEM, [SourceFile("one_timer.bpmn", ONE_TIMER)])
    for n in range(50):
        instances.start(ctx, SYSTEM, "one_timer", f"CASE-{n}", {})
    clock.advance(dt.timedelta(hours=2))
    assert timers.fire_due(ctx) == 50
    assert timers.fire_due(ctx) == 0
