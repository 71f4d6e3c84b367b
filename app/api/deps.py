"""Dependency aliases shared by the routers: the service context and the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session
from starlette.datastructures import State

from app.auth.errors import NotAuthenticated
from app.auth.principal import Principal
from app.services.context import ServiceContext


async def get_context(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


ContextDep = Annotated[ServiceContext, Depends(get_context)]


@dataclass(frozen=True)
class PendingCaller:
    """A bearer token read from the request, to be checked on the worker thread that serves it.

    `ServiceRoute` replaces it by the authenticated `Principal` before calling the endpoint, so
    the token's database read shares the endpoint's trip to the thread pool.
    """

    ctx: ServiceContext
    token: str
    state: State

    def authenticate(self, session: Session | None = None) -> Principal:
        """The caller (blocking), read in `session`'s transaction when given; 401 when the
        token is unknown, expired or revoked. A secret not yet checked needs argon2 (tens of
        milliseconds): that first check runs outside the request's transaction, so as not to
        hold its snapshot open meanwhile."""
        if session is not None and self.ctx.tokens.remembers(self.token):
            principal = self.ctx.tokens.authenticate(session.connection(), self.token,
                                                     self.ctx.clock.now())
        else:
            with self.ctx.lone_statement() as connection:
                principal = self.ctx.tokens.authenticate(connection, self.token,
                                                         self.ctx.clock.now())
        if principal is None:
            raise NotAuthenticated("the token is unknown, expired or revoked")
        self.state.principal = principal
        return principal


class BearerCaller(HTTPBearer):
    """The bearer-token scheme (as the OpenAPI document shows it), yielding the pending caller.

    One dependency rather than three (context, header, caller): FastAPI's dependency solving
    costs about as much per dependency as a small database read.
    """

    async def __call__(self, request: Request) -> PendingCaller:  # type: ignore[override]
        if not getattr(request.scope.get("route"), "resolves_pending_callers", False):
            raise RuntimeError(f"{request.url.path}: an endpoint taking PrincipalDep must be "
                               "served by a ServiceRoute, which checks the caller's token")
        credentials = await super().__call__(request)
        if credentials is None or not credentials.credentials.strip():
            raise NotAuthenticated("send a bearer token: Authorization: Bearer <token>")
        caller = PendingCaller(request.app.state.context, credentials.credentials.strip(),
                               request.state)
        request.state.pending_caller = caller  # for the 422 handler: a 401 comes first
        return caller


CALLER = BearerCaller(auto_error=False, scheme_name="token",
                      description="An API token from `reviewflow token create`")


PrincipalDep = Annotated[Principal, Depends(CALLER)]
"""The authenticated caller; only routes of class `ServiceRoute` resolve it (every API router)."""
