"""Pages answer errors with a page, not JSON: login redirects, 403/404/409/503 with the reason."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.auth.errors import Forbidden
from app.auth.policy import Concealed
from app.services.errors import Conflict, NotFound, ServiceError
from app.web.session import BadCsrf, LoginRequired
from app.web.templating import TEMPLATES


def _page(request: Request, status: int, title: str, message: str,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "error.html", {
        "title": title, "message": message, "user": None}, status_code=status, headers=headers)


DATABASE_PAGES = {
    503: ("The service is unavailable", "Its database cannot be reached just now. Try again "
          "in a few minutes."),
    409: ("Someone got there first", "The data is being changed by someone else. Reload the "
          "page and try again."),
}


async def _database_page(request: Request, api_answer: Response) -> Response:
    """The page for a database fault, from the API's answer to it (503 with Retry-After)."""
    if api_answer.status_code not in DATABASE_PAGES:
        return api_answer
    title, message = DATABASE_PAGES[api_answer.status_code]
    retry = api_answer.headers.get("retry-after")
    return _page(request, api_answer.status_code, title, message,
                 {"Retry-After": retry} if retry else None)


async def _login(request: Request, _exc: Exception) -> Response:
    target = quote(request.url.path, safe="/")
    return RedirectResponse(f"/ui/login?next={target}", status_code=303)


async def _csrf(request: Request, _exc: Exception) -> Response:
    return _page(request, 403, "The form has expired",
                 "The form was not sent by this session. Go back, reload the page and try again.")


def is_page(request: Request) -> bool:
    return request.url.path.startswith("/ui/")


def install(app: FastAPI) -> None:
    """Add the page handlers; API errors on pages become pages (call after the API's)."""
    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(BadCsrf, _csrf)
    for error in (Forbidden, ServiceError, DBAPIError, PoolTimeout):
        api_handler = app.exception_handlers[error]

        async def handler(request: Request, exc: Exception,
                          api_handler: Any = api_handler) -> Response:
            if is_page(request) and isinstance(exc, DBAPIError | PoolTimeout):
                return await _database_page(request, await api_handler(request, exc))
            page = page_error(request, exc) if is_page(request) else None
            return page if page is not None else await api_handler(request, exc)

        app.add_exception_handler(error, handler)


def page_error(request: Request, exc: Exception) -> HTMLResponse | None:
    """The page for a service error raised while serving a page, if it is one we expect."""
    if isinstance(exc, Concealed):  # exists but is not theirs: the page of a missing one
        request.state.denied_reason = exc.message
        return _page(request, 404, "Not found", exc.absent_message)
    if isinstance(exc, Forbidden):
        return _page(request, 403, "Not available to you", exc.message)
    if isinstance(exc, NotFound):
        return _page(request, 404, "Not found", exc.message)
    if isinstance(exc, Conflict):
        return _page(request, 409, "Someone got there first", exc.message)
    return None
