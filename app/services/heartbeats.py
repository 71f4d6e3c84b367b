"""Worker heartbeats: each poll of a worker loop is written down, so /health can say when one
has stopped polling (a thread that died, a process that hangs, a database it cannot reach)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from app.db.models import WorkerHeartbeat
from app.services.context import ServiceContext


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def beat(ctx: ServiceContext, name: str, process: str, started_at: dt.datetime,
         error: str | None = None) -> None:
    """Record a poll: a success when `error` is None."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        row = uow.session.get(WorkerHeartbeat, (name, process))
        if row is None:
            row = WorkerHeartbeat(name=name, process=process, started_at=started_at)
            uow.session.add(row)
        row.last_poll_at = now
        if error is None:
            row.last_success_at, row.last_error = now, None
        else:
            row.last_error = error
        uow.commit()


def forget_stale(ctx: ServiceContext, name: str) -> None:
    """A worker starting replaces those of its name that stopped polling (a restart after a
    crash): /health stops saying degraded once the new one polls."""
    cutoff = ctx.clock.now() - dt.timedelta(seconds=ctx.settings.worker_stale_seconds)
    with ctx.uow() as uow:
        uow.session.execute(delete(WorkerHeartbeat).where(
            WorkerHeartbeat.name == name, WorkerHeartbeat.last_poll_at < cutoff))
        uow.commit()


def forget(ctx: ServiceContext, name: str, process: str) -> None:
    """A worker that stops on purpose is no longer expected to poll."""
    with ctx.uow() as uow:
        uow.session.execute(delete(WorkerHeartbeat).where(
            WorkerHeartbeat.name == name, WorkerHeartbeat.process == process))
        uow.commit()


@dataclass(frozen=True)
class WorkerHealth:
    name: str
    process: str
    last_success_at: dt.datetime | None
    age_seconds: float
    """Since its last successful poll, or since it started if none succeeded."""
    last_error: str | None
    stale: bool


def read(connection: Connection, now: dt.datetime, stale_seconds: float) -> list[WorkerHealth]:
    rows = connection.execute(select(
        WorkerHeartbeat.name, WorkerHeartbeat.process, WorkerHeartbeat.started_at,
        WorkerHeartbeat.last_success_at, WorkerHeartbeat.last_error)
        .order_by(WorkerHeartbeat.name, WorkerHeartbeat.process)).all()
    found: list[WorkerHealth] = []
    for name, process, started_at, last_success_at, last_error in rows:
        age = max((now - (last_success_at or started_at)).total_seconds(), 0.0)
        found.append(WorkerHealth(name, process, last_success_at, round(age, 3), last_error,
                                  age > stale_seconds))
    return found
