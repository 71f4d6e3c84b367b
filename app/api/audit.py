"""Log every /api/v1 request (who, what, which target, the outcome) and serve the log.

One middleware covers every route, so no read or write of case data can escape the log. Entries
are written after the response is produced, in their own transaction.
"""

from __future__ import annotations

import datetime as dt
import logging

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from app.api.deps import ContextDep, PrincipalDep
from app.api.schemas import MAX_INT, Page
from app.auth import audit, policy

log = logging.getLogger("reviewflow.audit")

TARGETS = {"instances": "instance", "tasks": "task", "cases": "case", "definitions": "definition",
           "decisions": "decision", "deployments": "deployment", "messages": "message",
           "referrals": "case", "audit": "audit_log"}


def _target(request: Request) -> tuple[str | None, str | None]:
    parts = request.url.path.split("/")
    resource = (parts[2] if parts[1] == "ui" else parts[3]) if len(parts) > 3 else ""
    params = request.path_params
    target_id = next(iter(params.values()), None) if params else None
    return TARGETS.get(resource, resource or None), str(target_id) if target_id else None


class AuditMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        path = request.url.path
        if not path.startswith(("/api/v1/", "/ui/")) or path.startswith("/ui/static/"):
            return response
        context = request.app.state.context
        principal = getattr(request.state, "principal", None)
        route = request.scope.get("route")
        action = getattr(route, "name", None) or "unknown_route"
        target_type, target_id = _target(request)
        if target_id:
            target_id = target_id.replace("\x00", "\\0")[:255]
        reason = getattr(request.state, "denied_reason", None)
        detail = {"reason": reason} if reason else {}

        def write() -> None:
            with context.uow() as uow:
                audit.record(uow.session, context.clock.now(), principal, action, request.method,
                             path.replace("\x00", "\\0"), response.status_code, target_type,
                             target_id, detail)
                uow.commit()

        try:
            await run_in_threadpool(write)
        except SQLAlchemyError:
            log.exception("could not write the audit log for %s %s", request.method,
                          request.url.path)
        return response


router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor: str | None
    roles: list[str]
    agency: str | None
    action: str
    method: str
    path: str
    target_type: str | None
    target_id: str | None
    status: int
    outcome: str
    detail: dict[str, object]


@router.get("", response_model=Page[AuditEntryPublic])
def list_audit(ctx: ContextDep, principal: PrincipalDep, actor: str | None = None,
               action: str | None = None, target_type: str | None = None,
               target_id: str | None = None, outcome: str | None = None,
               since: dt.datetime | None = None, until: dt.datetime | None = None,
               limit: int = Query(100, ge=1, le=1000),
               offset: int = Query(0, ge=0, le=MAX_INT)) -> Page[AuditEntryPublic]:
    """Who read or changed what, oldest first (auditors and admins only)."""
    policy.require(principal, "read_audit")
    with ctx.uow() as uow:
        rows, total = audit.query(uow.session, actor, action, target_type, target_id, outcome,
                                  since, until, limit, offset)
        return Page[AuditEntryPublic](items=[AuditEntryPublic.model_validate(r) for r in rows],
                                      total=total, limit=limit, offset=offset)
