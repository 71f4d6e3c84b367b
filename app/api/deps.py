"""The dependencies every API endpoint takes: the service context, the caller, the audit entry.

The caller is a real `Principal`, checked against the database on a worker thread before the
endpoint runs (so a 401 comes before any 422 about the request's content); tests replace it
with `app.dependency_overrides[caller]`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.api.audit_trail import RequestAudit
from app.auth.errors import NotAuthenticated
from app.auth.principal import Principal
from app.services import accounts, storable
from app.services.context import ServiceContext


async def get_context(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


ContextDep = Annotated[ServiceContext, Depends(get_context)]

BEARER = HTTPBearer(auto_error=False, scheme_name="token",
                    description="An API token from `reviewflow token create`")


async def authenticate(request: Request, token: str) -> Principal:
    """The holder of `token` (401 when it is unknown, expired or revoked), remembered on the
    request for its audit entry."""
    ctx: ServiceContext = request.app.state.context
    principal = await run_in_threadpool(accounts.token_caller, ctx, token)
    if principal is None:
        raise NotAuthenticated("the token is unknown, expired or revoked")
    request.state.principal = principal
    return principal


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise NotAuthenticated("send a bearer token: Authorization: Bearer <token>")
    return token


async def caller(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Principal:
    """The authenticated caller."""
    return await authenticate(request, bearer_token(credentials))


PrincipalDep = Annotated[Principal, Depends(caller)]


async def storable_input(request: Request, ctx: ContextDep, _caller: PrincipalDep) -> None:
    """Refuse, once the caller is known, a path, query or JSON body holding what the database
    could not keep (a 422 naming the field; see `app.services.storable`). The body is the one
    FastAPI has read already (Starlette keeps it on the request)."""
    depth = ctx.settings.max_data_depth
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        storable.check(value, depth, prefix=name)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json() if await request.body() else None
        except ValueError:  # not JSON: FastAPI refused it already, or the route takes no body
            return
        storable.check(body, depth)


CHECKED_INPUT = Depends(storable_input)
"""For `APIRouter(dependencies=[...])`: every route of the router checks its caller first."""


async def request_audit(request: Request) -> RequestAudit:
    """The request's audit entry, which `app.api.audit_trail.AuditMiddleware` opened."""
    return request.state.audit  # type: ignore[no-any-return]


AuditDep = Annotated[RequestAudit, Depends(request_audit)]
