"""A person's sign-in sessions: see where they are signed in and end any of those sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.db.models import LoginSession
from app.services import accounts
from app.services.context import ServiceContext
from app.services.errors import NotFound
from app.web.session import SESSION_COOKIE, PageUser, check_csrf, page_user
from app.web.templating import TEMPLATES

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[PageUser, Depends(page_user)]
SessionNumber = Annotated[int, Path(ge=1, le=2**63 - 1, description="the session's number")]


def _ctx(request: Request) -> ServiceContext:
    return request.app.state.context  # type: ignore[no-any-return]


@router.get("/sessions", response_class=HTMLResponse)
def sessions_page(request: Request, user: UserDep,
                  ended: Annotated[int, Query(ge=0, le=1000)] = 0) -> Response:
    rows: list[LoginSession] = accounts.live_sessions(_ctx(request), user.user_id or 0)
    notice = (f"{ended} session{'s' if ended != 1 else ''} ended: "
              f"{'they' if ended != 1 else 'it'} must sign in again.") if ended > 0 else None
    return TEMPLATES.TemplateResponse(request, "sessions.html", {
        "user": user, "sessions": rows, "current": user.session_id, "notice": notice})


def _end(request: Request, user: PageUser, ids: list[int]) -> int:
    return accounts.end_sessions(_ctx(request), user.user_id or 0, ids)


def _after(user: PageUser, ids: list[int], ended: int) -> Response:
    if user.session_id in ids:  # they ended the session they are using: sign in again
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/ui")
        return response
    return RedirectResponse(f"/ui/sessions?ended={ended}", status_code=303)


@router.post("/sessions/{session_id}/end")
async def end_session(request: Request, session_id: SessionNumber,
                      csrf_token: Annotated[str, Form()] = "") -> Response:
    user = await page_user(request)
    check_csrf(user.csrf_token, csrf_token)
    ended = await run_in_threadpool(_end, request, user, [session_id])
    if not ended:
        raise NotFound("You have no session with this number (it may have ended already).")
    return _after(user, [session_id], ended)


@router.post("/sessions/end-others")
async def end_other_sessions(request: Request,
                             csrf_token: Annotated[str, Form()] = "") -> Response:
    user = await page_user(request)
    check_csrf(user.csrf_token, csrf_token)

    def others() -> list[int]:
        return [row.id for row in accounts.live_sessions(_ctx(request), user.user_id or 0)
                if row.id != user.session_id]

    ids = await run_in_threadpool(others)
    ended = await run_in_threadpool(_end, request, user, ids)
    return _after(user, ids, ended)
