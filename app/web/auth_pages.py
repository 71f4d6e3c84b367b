"""Login and logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth import users
from app.services.context import ServiceContext, reads_only
from app.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PageUser,
    check_csrf,
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


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, name: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "") -> Response:
    check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token)
    ctx: ServiceContext = request.app.state.context

    def attempt() -> str | None:
        # argon2 takes a good part of a second: the check only reads, so that on SQLite it
        # holds no lock meanwhile; the login session is written after it.
        with reads_only(), ctx.uow() as uow:
            user = users.check_password(uow.session, name.strip(), password)
        if user is None:
            return None
        with ctx.uow() as uow:
            session_id, _csrf = users.open_session(uow.session, user, ctx.clock.now())
            uow.commit()
            return session_id

    session_id = await run_in_threadpool(attempt)
    if session_id is None:
        return TEMPLATES.TemplateResponse(request, "login.html", {
            "user": None, "csrf_token": csrf_token, "next": _safe_next(next),
            "error": "The name or password is not right.", "name": name}, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="lax",
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
