"""Write and read the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db.models import AuditEntry
from app.db.uow import UnitOfWork

_INSERT = insert(AuditEntry)


def entry(at: dt.datetime, principal: Principal | None, action: str, method: str, path: str,
          status: int, target_type: str | None = None, target_id: str | None = None,
          detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """The column values of one entry."""
    outcome = ("allowed" if status < 400 else "denied" if status in (401, 403)
               else "failed")
    return {"at": at, "actor": principal.name if principal else None,
            "roles": sorted(principal.roles) if principal else [],
            "agency": principal.agency if principal else None, "action": action,
            "method": method, "path": path[:500], "target_type": target_type,
            "target_id": target_id, "status": status, "outcome": outcome,
            "detail": detail or {}}


def insert_entry(db: Session | Connection, values: dict[str, Any]) -> None:
    """Insert one entry (values from `entry`) in `db`'s transaction (the caller commits)."""
    db.execute(_INSERT, [values])


def record(db: Session | Connection, at: dt.datetime, principal: Principal | None,
           action: str, method: str, path: str, status: int, target_type: str | None = None,
           target_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Insert one entry in `db`'s transaction (the caller commits)."""
    insert_entry(db, entry(at, principal, action, method, path, status, target_type,
                           target_id, detail))


@dataclass
class CommandEntry:
    """The audit entry of a request whose command commits it together with its change."""

    values: dict[str, Any]
    committed: bool = False
    joined: bool = False
    """Added to a unit of work whose commit is still to come: not added again."""


def join(uow: UnitOfWork, pending: CommandEntry, instance_id: str) -> None:
    """Add a command's entry to the unit's transaction, naming the instance the step changed
    (the target of a start, which has no id in its path), unless it was added or committed
    already. The caller sets `committed` once the commit succeeded, and clears `joined` if it
    failed."""
    if pending.committed or pending.joined:
        return
    values = pending.values
    if values["target_type"] == "instance" and values["target_id"] is None:
        values = {**values, "target_id": instance_id}
    elif values["target_id"] is None or values["target_type"] != "instance":
        values = {**values, "detail": {**values["detail"], "instance_id": instance_id}}
    uow.append(AuditEntry, values)
    pending.joined = True


def query(session: Session, actor: str | None, action: str | None, target_type: str | None,
          target_id: str | None, outcome: str | None, since: dt.datetime | None,
          until: dt.datetime | None, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
    base: Select[Any] = select(AuditEntry)
    for column, value in ((AuditEntry.actor, actor), (AuditEntry.action, action),
                          (AuditEntry.target_type, target_type),
                          (AuditEntry.target_id, target_id), (AuditEntry.outcome, outcome)):
        if value is not None:
            base = base.where(column == value)
    if since is not None:
        base = base.where(AuditEntry.at >= since)
    if until is not None:
        base = base.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = list(session.scalars(base.order_by(AuditEntry.id).limit(limit).offset(offset)))
    return rows, total
