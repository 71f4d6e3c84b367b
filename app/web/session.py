"""Browser sessions: a secure, HttpOnly cookie holds the session id; forms carry a CSRF token."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.auth.principal import Principal
from app.auth.secrets import new_csrf_token
from app.services import accounts
from app.services.context import ServiceContext

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
    user_id: int | None = None
    session_id: int | None = None
    """The row id of this login session (not the cookie's secret)."""


async def page_user(request: Request) -> PageUser:
    ctx: ServiceContext = request.app.state.context
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise LoginRequired

    found = await run_in_threadpool(accounts.session_user, ctx, session_id)
    if found is None:
        raise LoginRequired
    user = PageUser(found.principal, found.csrf_token, found.user_id, found.session_id)
    request.state.principal = user.principal
    return user


def check_csrf(expected: str, submitted: object) -> None:
    """Refuse a form whose token is missing, empty or not the expected one."""
    if not expected or not isinstance(submitted, str) or not submitted:
        raise BadCsrf
    if not hmac.compare_digest(expected.encode("utf-8", "surrogatepass"),
                               submitted.encode("utf-8", "surrogatepass")):
        raise BadCsrf


def login_csrf_token(request: Request) -> str:
    return request.cookies.get(LOGIN_CSRF_COOKIE) or new_csrf_token()


def client_address(request: Request) -> str:
    """The address the request came from (behind a proxy, as the server was told to trust)."""
    return request.client.host if request.client else "unknown"
