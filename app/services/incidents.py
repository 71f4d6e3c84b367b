"""Incidents: a worker loop failed on one instance in a way no step error explains.

The failure is kept on the instance (its `error`, and an open incident a board manager lists),
and the instance is backed off so it cannot spin the loop: tried again after a delay that
doubles with each failure, then, after `ATTEMPTS` failures, parked in `error` until someone
retries it (`POST /api/v1/instances/{id}/retry`). It is resolved when the instance runs again,
or by hand (`POST /api/v1/incidents/{id}/resolve`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import Incident, ProcessInstance
from app.db.uow import UnitOfWork
from app.services import steps, timeline
from app.services.context import ServiceContext
from app.services.errors import Conflict, NotFound

ATTEMPTS = 5
"""Failures before the instance waits for an operator instead of the worker."""
FIRST_DELAY = dt.timedelta(minutes=1)
MESSAGE_CHARS = 500


def delay(attempts: int) -> dt.timedelta | None:
    """How long to wait after the `attempts`-th failure; None: park until retried."""
    return None if attempts >= ATTEMPTS else FIRST_DELAY * 2 ** (attempts - 1)


def describe(exc: BaseException) -> tuple[str, str]:
    """The error's type and its first line, cut short (no stack trace leaves the log)."""
    text = str(exc).strip().splitlines()
    return type(exc).__name__, (text[0] if text else "")[:MESSAGE_CHARS]


def record(ctx: ServiceContext, instance_id: str, source: str, actor: str,
           exc: BaseException) -> Incident | None:
    """Record the failure on the instance and back it off, in one transaction."""
    now = ctx.clock.now()
    error_type, message = describe(exc)
    with ctx.uow() as uow:
        instance = uow.session.get(ProcessInstance, instance_id, with_for_update=True)
        if instance is None:
            return None
        incident = uow.session.scalars(select(Incident).where(
            Incident.instance_id == instance_id, Incident.source == source,
            Incident.resolved_at.is_(None))).first()
        if incident is None:
            incident = Incident(instance_id=instance_id, source=source, attempts=0,
                                first_at=now)
            uow.session.add(incident)
        incident.attempts += 1
        incident.error_type, incident.message, incident.last_at = error_type, message, now
        wait = delay(incident.attempts)
        incident.retry_at = now + wait if wait is not None else None
        uow.session.flush()
        error = {"message": f"the {source} failed ({error_type}: {message})",
                 "element_id": None, "element_name": None, "line": None,
                 "incident_id": incident.id, "attempts": incident.attempts,
                 "retry_at": incident.retry_at.isoformat() if incident.retry_at else None}
        instance.error = error
        instance.updated_at = now
        if incident.retry_at is None:
            instance.status = "error"
            instance.next_timer_at = None
            timeline.record(uow, instance_id, "error", now, actor, detail=error)
        else:
            instance.next_timer_at = incident.retry_at
        steps.commit(uow, instance_id)
        return incident


def resolve_open(uow: UnitOfWork, instance_id: str, at: dt.datetime, by: str) -> None:
    """The instance ran again: its open incidents are over (written with the caller's step)."""
    uow.session.execute(update(Incident).where(
        Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
        .values(resolved_at=at, resolved_by=by))


def list_open(ctx: ServiceContext, principal: Principal, limit: int,
              offset: int) -> tuple[list[Incident], int]:
    policy.require(principal, "read_incidents")
    with ctx.uow(read_only=True) as uow:
        where = Incident.resolved_at.is_(None)
        total = uow.session.scalar(select(func.count()).select_from(Incident).where(where))
        rows = list(uow.session.scalars(select(Incident).where(where)
                                        .order_by(Incident.id).limit(limit).offset(offset)))
        return rows, total or 0


def resolve(ctx: ServiceContext, principal: Principal, incident_id: int) -> Incident:
    """Close an incident by hand (the operator fixed or terminated the instance)."""
    policy.require(principal, "resolve_incidents")
    with ctx.uow() as uow:
        incident = uow.session.get(Incident, incident_id, with_for_update=True)
        if incident is None:
            raise NotFound(f"no incident with id {incident_id}", incident_id=incident_id)
        if incident.resolved_at is not None:
            raise Conflict(f"the incident was resolved by {incident.resolved_by}",
                           incident_id=incident_id)
        incident.resolved_at, incident.resolved_by = ctx.clock.now(), principal.name
        uow.commit()
        return incident
