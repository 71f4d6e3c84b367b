"""Pages answer errors with a page, not JSON: login redirects, 403/404/409/500/503 on GOV.UK's
error page pattern, each with the reason in a sentence and what to do next."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth.errors import Forbidden
from app.auth.policy import Concealed
from app.services.errors import Conflict, NotFound, ServiceError
from app.web.session import BadCsrf, LoginRequired
from app.web.templating import TEMPLATES

log = logging.getLogger(__name__)


def sentence(message: str) -> str:
    """A service's message as a sentence: a capital first, a full stop last."""
    text = message.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


NEXT_STEPS = {
    403: "If you think you should be able to do this, ask the Board's business manager or "
         "an administrator to give you the role.",
    404: "If you typed the web address, check it is correct. If you followed a link, the case "
         "or task may have been closed or moved.",
    409: "Go back, reload the page and try again.",
    422: "Go back and try again from the page's own links.",
    500: "Try again later. What happened has been logged.",
    503: "Try again in a few minutes.",
}
"""What the person can do next, by status (the last paragraph of each error page)."""


def _page(request: Request, status: int, title: str, message: str,
          headers: dict[str, str] | None = None) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "error.html", {
        "title": title, "message": sentence(message), "next_step": NEXT_STEPS.get(status),
        "status": status, "user": None}, status_code=status, headers=headers)


DATABASE_PAGES = {
    503: ("Sorry, the service is unavailable", "The service is unavailable: its database "
          "cannot be reached just now."),
    409: ("Someone got there first", "The data is being changed by someone else."),
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
                 "The form was not sent by this session. Go back, reload the page and send it "
                 "again.")


async def _http_page(request: Request, exc: Exception) -> Response:
    """A page that does not exist (404), or a method it does not take, as a page."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _page(request, 404, "Page not found", "There is no page at this address.")
    return _page(request, exc.status_code, "Sorry, this cannot be done",
                 str(exc.detail), headers=dict(exc.headers) if exc.headers else None)


async def _unreadable_request(request: Request, _exc: Exception) -> Response:
    """A page's address or form with a value it cannot take (one typed into the address)."""
    return _page(request, 422, "The address is not right", "The address or the form has a "
                 "value this page cannot take.")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _page(request, 500, "Sorry, there is a problem with the service",
                 "Something went wrong on our side: nothing you did caused it.")


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
    pages: list[tuple[type[Exception], Any]] = [
        (StarletteHTTPException, _http_page), (RequestValidationError, _unreadable_request),
        (Exception, _unexpected)]
    for kind, page_handler in pages:
        answer_api: Any = app.exception_handlers.get(kind)
        if answer_api is None:
            continue

        async def other(request: Request, exc: Exception, answer_api: Any = answer_api,
                        page_handler: Any = page_handler) -> Response:
            if is_page(request) and not request.url.path.startswith("/ui/static/"):
                return await page_handler(request, exc)  # type: ignore[no-any-return]
            return await answer_api(request, exc)  # type: ignore[no-any-return]

        app.add_exception_handler(kind, other)


def page_error(request: Request, exc: Exception) -> HTMLResponse | None:
    """The page for a service error raised while serving a page, if it is one we expect."""
    if isinstance(exc, Concealed):  # exists but is not theirs: the page of a missing one
        request.state.denied_reason = exc.message
        return _page(request, 404, "Not found", exc.absent_message)
    if isinstance(exc, Forbidden):
        return _page(request, 403, "You cannot do this", exc.message)
    if isinstance(exc, NotFound):
        return _page(request, 404, "Not found", exc.message)
    if isinstance(exc, Conflict):
        return _page(request, 409, "Someone got there first", exc.message)
    return None
