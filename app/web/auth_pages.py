"""Sign in (throttled, see app.auth.throttle) and sign out."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth import audit, throttle, users
from app.services.context import ServiceContext, reads_only
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


@dataclass(frozen=True)
class _Outcome:
    session_id: str | None = None
    refused: throttle.Refused | None = None


def _storable(text: str, length: int) -> str:
    """Text as the database can keep it (a name tried may hold anything)."""
    return text.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode()[:length]


def _audit_failure(db: Session, at: dt.datetime, name: str, address: str, status: int,
                   reason: str) -> None:
    audit.record(db, at, None, "sign_in_failed", "POST", "/ui/login", status,
                 target_type="account", target_id=name or None,
                 detail={"name_tried": name, "client_address": address, "reason": reason})


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
    policies = throttle.Policies.from_settings(ctx.settings)

    def attempt() -> _Outcome:
        now = ctx.clock.now()
        # The attempt is counted as failed before the password is checked, so that attempts
        # sent at once cannot all pass the count (see app.auth.throttle).
        with ctx.uow() as uow:
            refused = throttle.begin_attempt(uow.session, policies, tried, address, now)
            if refused is not None:
                _audit_failure(uow.session, now, tried, address, 429,
                               "locked" if refused.locked else "throttled")
            uow.commit()
        if refused is not None:
            return _Outcome(refused=refused)
        # argon2 takes a good part of a second: the check only reads, so that on SQLite it
        # holds no lock meanwhile. Unknown names are checked against a dummy hash.
        with reads_only(), ctx.uow() as uow:
            user = users.check_password(uow.session, tried, password)
        with ctx.uow() as uow:
            if user is None:
                _audit_failure(uow.session, now, tried, address, 401, "wrong name or password")
                throttle.forget_stale(uow.session, policies, now)
                uow.commit()
                return _Outcome()
            throttle.forgive(uow.session, policies, tried, address)
            session_id, _csrf = users.open_session(uow.session, user, now, agent, address)
            uow.commit()
            return _Outcome(session_id=session_id)

    outcome = await run_in_threadpool(attempt)
    if outcome.refused is not None:
        wait = outcome.refused.retry_after
        return TEMPLATES.TemplateResponse(request, "login.html", {
            "user": None, "csrf_token": csrf_token, "next": _safe_next(next), "name": name,
            "error": f"Too many failed sign-ins. Wait {_wait_words(wait)}, then try again."},
            status_code=429, headers={"Retry-After": str(wait)})
    if outcome.session_id is None:
        return TEMPLATES.TemplateResponse(request, "login.html", {
            "user": None, "csrf_token": csrf_token, "next": _safe_next(next),
            "error": "The name or password is not right.", "name": name}, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, outcome.session_id, httponly=True, samesite="lax",
                        secure=ctx.settings.cookie_secure, path="/ui",
                        max_age=int(users.SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui")
    return response


@router.post("/logout")
async def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    user: PageUser = await page_user(request)
    check_csrf(user.csrf_token, csrf_token)
    ctx: ServiceContext = request.app.state.context

    def close() -> None:
        with ctx.uow() as uow:
            users.close_session(uow.session, request.cookies.get(SESSION_COOKIE, ""))
            uow.commit()

    await run_in_threadpool(close)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/ui/inbox", status_code=303)
