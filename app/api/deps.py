"""Dependency aliases shared by the routers: the service context and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.errors import NotAuthenticated
from app.auth.principal import Principal
from app.services.context import ServiceContext


async def get_context(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


ContextDep = Annotated[ServiceContext, Depends(get_context)]


BEARER = HTTPBearer(auto_error=False, scheme_name="token",
                    description="An API token from `reviewflow token create`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


async def current_principal(request: Request, ctx: ContextDep,
                            credentials: Credentials) -> Principal:
    """The caller, from its bearer token; 401 without a valid one."""
    if credentials is None or not credentials.credentials.strip():
        raise NotAuthenticated("send a bearer token: Authorization: Bearer <token>")
    token = credentials.credentials.strip()

    def authenticate() -> Principal | None:
        with ctx.uow() as uow:
            return ctx.tokens.authenticate(uow.session, token, ctx.clock.now())

    principal = await run_in_threadpool(authenticate)
    if principal is None:
        raise NotAuthenticated("the token is unknown, expired or revoked")
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
