"""The append-only timeline of each instance."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.db.models import Event, ProcessInstance
from app.db.uow import UnitOfWork
from app.services.errors import NotFound


def record(uow: UnitOfWork, instance_id: str, type_: str, at: dt.datetime, actor: str | None,
           element_id: str | None = None, task_id: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """Append an event; it is written with the transaction's commit."""
    uow.append(Event, {"instance_id": instance_id, "type": type_, "at": at, "actor": actor,
                       "element_id": element_id, "task_id": task_id, "detail": detail or {}})


def list_events(uow: UnitOfWork, instance_id: str, after_id: int = 0,
                limit: int = 1000) -> list[Event]:
    if uow.session.get(ProcessInstance, instance_id) is None:
        raise NotFound(f"no instance with id '{instance_id}'", instance_id=instance_id)
    return list(uow.session.scalars(
        select(Event).where(Event.instance_id == instance_id, Event.id > after_id)
        .order_by(Event.id).limit(limit)))
