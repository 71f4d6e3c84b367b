"""Browser sessions: a secure, HttpOnly cookie holds the session id; forms carry a CSRF token."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.auth import users
from app.auth.principal import Principal
from app.auth.secrets import new_csrf_token
from app.services.context import ServiceContext, reads_only

SESSION_COOKIE = "rf_session"
LOGIN_CSRF_COOKIE = "rf_login_csrf"


class LoginRequired(Exception):
    """No valid session: the page handler turns this into a redirect to the login page."""


class BadCsrf(Exception):
    """A form came without the token of the session that rendered it."""


@dataclass(frozen=True)
class PageUser:
    principal: Principal
    csrf_token: str


async def page_user(request: Request) -> PageUser:
    ctx: ServiceContext = request.app.state.context
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise LoginRequired

    def find() -> PageUser | None:
        with reads_only(), ctx.uow() as uow:
            found = users.find_session(uow.session, session_id, ctx.clock.now())
            if found is None:
                return None
            user, row = found
            return PageUser(users.principal_of(user), row.csrf_token)

    user = await run_in_threadpool(find)
    if user is None:
        raise LoginRequired
    request.state.principal = user.principal
    return user


def check_csrf(expected: str, submitted: object) -> None:
    if not isinstance(submitted, str) or not hmac.compare_digest(expected, submitted):
        raise BadCsrf


def login_csrf_token(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or new_csrf_token()
