"""Sign in (throttled, see app.auth.throttle) and sign out."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.services import accounts, storable
from app.services.context import ServiceContext
from app.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PageUser,
    check_csrf,
    client_address,
    login_csrf_token,
    page_user,
)
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/ui/") and "//" not in target else "/ui/inbox"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    token = login_csrf_token(request)
    response = TEMPLATES.TemplateResponse(request, "login.html", {
        "user": None, "csrf_token": token, "next": _safe_next(next), "error": None})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.context.settings.cookie_secure, path="/ui")
    return response


def _storable(text: str, length: int) -> str:
    """Text as the database can keep it (a name tried may hold anything)."""
    return storable.escaped(text)[:length]


def _wait_words(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    return (f"{seconds} second{'s' if seconds != 1 else ''}" if seconds < 120
            else f"{minutes} minutes")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, name: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "") -> Response:
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token)
    ctx: ServiceContext = request.app.state.context
    tried = _storable(name.strip(), 200)
    address = _storable(client_address(request), 100)
    agent = _storable(request.headers.get("user-agent", ""), 300)
    outcome = await run_in_threadpool(accounts.sign_in, ctx, tried, password, address, agent)
    if outcome.refused is not None:
        wait = outcome.refused.retry_after
        return TEMPLATES.TemplateResponse(request, "login.html", {
            "user": None, "csrf_token": csrf_token, "next": _safe_next(next), "name": name,
            "errors": True,
            "error": f"Too many failed sign-ins. Wait {_wait_words(wait)}, then try again."},
            status_code=429, headers={"Retry-After": str(wait)})
    if outcome.session_id is None:
        return TEMPLATES.TemplateResponse(request, "login.html", {
            "user": None, "csrf_token": csrf_token, "next": _safe_next(next), "errors": True,
            "error": "The user name or password is not right: check them and try again.",
            "name": name}, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, outcome.session_id, httponly=True, samesite="lax",
                        secure=ctx.settings.cookie_secure, path="/ui",
                        max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui")
    return response


@router.post("/logout")
async def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    user: PageUser = await page_user(request)
    check_csrf(user.csrf_token, csrf_token)
    ctx: ServiceContext = request.app.state.context
    await run_in_threadpool(accounts.sign_out, ctx, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/ui/inbox", status_code=303)
