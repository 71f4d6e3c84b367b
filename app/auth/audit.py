"""Write and read the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db.models import AuditEntry

_INSERT = insert(AuditEntry)


def record(db: Session | Connection, at: dt.datetime, principal: Principal | None,
           action: str, method: str, path: str, status: int, target_type: str | None = None,
           target_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
    """Insert one entry in `db`'s transaction (the caller commits)."""
    outcome = ("allowed" if status < 400 else "denied" if status in (401, 403)
               else "failed")
    db.execute(_INSERT, [{
        "at": at, "actor": principal.name if principal else None,
        "roles": sorted(principal.roles) if principal else [],
        "agency": principal.agency if principal else None, "action": action,
        "method": method, "path": path[:500], "target_type": target_type,
        "target_id": target_id, "status": status, "outcome": outcome,
        "detail": detail or {}}])


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
