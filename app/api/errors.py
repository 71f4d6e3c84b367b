"""Translate service errors and validation failures into JSON responses; never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.deps import BEARER, authenticate, bearer_token
from app.api.openapi_errors import add_error_responses
from app.api.openapi_links import add_links
from app.auth.errors import Forbidden, NotAuthenticated
from app.auth.policy import Concealed
from app.db.faults import is_contention, is_unavailable
from app.services.errors import (
    Conflict,
    Invalid,
    NotFound,
    ServiceError,
    StepError,
    Unreadable,
)

log = logging.getLogger("reviewflow.api")

STATUS = {NotFound: 404, Conflict: 409, Unreadable: 409, Invalid: 422, StepError: 422}
CODES = {NotFound: "not_found", Conflict: "conflict", Unreadable: "state_unreadable",
         Invalid: "invalid", StepError: "step_failed"}


def _field(loc: tuple[object, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if rest else where
    return ".".join(parts)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
    code = next((name for cls, name in CODES.items() if isinstance(exc, cls)), "error")
    return JSONResponse({"detail": exc.message, "code": code, **exc.detail}, status_code=status)


async def _not_authenticated(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotAuthenticated)
    return JSONResponse({"detail": exc.message, "code": "not_authenticated"}, status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Forbidden)
    principal = getattr(request.state, "principal", None)
    log.warning("denied %s %s to %s: %s", request.method, request.url.path,
                principal.name if principal else "anonymous", exc.message)
    request.state.denied_reason = exc.message
    if isinstance(exc, Concealed):  # exists but is not theirs: answered as if it did not
        return JSONResponse({"detail": exc.absent_message, "code": "not_found",
                             **exc.absent_detail}, status_code=404)
    return JSONResponse({"detail": exc.message, "code": "forbidden"}, status_code=403)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith("/api/") and getattr(request.state, "principal",
                                                         None) is None:
        # A body FastAPI could not read is refused before the caller is checked: an
        # unknown caller learns nothing about the request's shape.
        try:
            await authenticate(request, bearer_token(await BEARER(request)))
        except NotAuthenticated as refused:
            return await _not_authenticated(request, refused)
    errors = [{"field": _field(tuple(error.get("loc", ()))), "message": error.get("msg", "")}
              for error in exc.errors()]
    names = ", ".join(error["field"] for error in errors)
    return JSONResponse({"detail": f"the request is not valid: {names}", "code": "invalid",
                         "errors": errors}, status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # a body the parser could not read: say which part, as a 422
        return JSONResponse({"detail": f"the request body could not be read: {exc.detail}",
                             "code": "invalid",
                             "errors": [{"field": "body", "message": str(exc.detail)}]},
                            status_code=422)
    return JSONResponse({"detail": str(exc.detail), "code": "http_error"},
                        status_code=exc.status_code, headers=exc.headers)


VALIDATION_ERROR_SCHEMA = {
    "title": "HTTPValidationError",
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "code": {"type": "string", "title": "Code"},
        "errors": {"type": "array", "title": "Errors", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
}
"""What every 422 body looks like (FastAPI's default schema describes a different shape)."""


def document(app: FastAPI) -> None:
    """Make the OpenAPI document describe the error bodies this app really sends."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["HTTPValidationError"] = VALIDATION_ERROR_SCHEMA
        components.pop("ValidationError", None)
        add_error_responses(schema)
        add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot store (a NUL byte, a number out of range): the caller's."""
    log.info("refused %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": "the request holds a value that cannot be stored, such as "
                                   "a NUL character; remove it and try again",
                         "code": "invalid"}, status_code=422)


async def _value_error(request: Request, exc: Exception) -> JSONResponse:
    """psycopg refuses NUL characters with a ValueError before the query is sent."""
    if "NUL" in str(exc):
        return await _data_error(request, exc)
    return await _unexpected(request, exc)


UNAVAILABLE = "the database is unavailable just now; try again later"


def unavailable_headers(request: Request, exc: Exception) -> dict[str, str]:
    """Log the refusal, mark the request as refused for want of the database (its audit entry
    waits, see `app.api.audit_trail`) and say when to try again."""
    request.state.database_unavailable = True
    principal = getattr(request.state, "principal", None)
    log.warning("database unavailable on %s %s for %s: %s", request.method, request.url.path,
                principal.name if principal else "anonymous",
                (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0][:200])
    context = getattr(request.app.state, "context", None)
    retry = context.settings.retry_after_seconds if context is not None else 5
    return {"Retry-After": str(retry)}


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database that cannot be reached or does not answer is a 503, whatever the route."""
    if is_contention(exc):
        return JSONResponse({"detail": "the data is being changed by someone else; try again",
                             "code": "conflict"}, status_code=409)
    if not is_unavailable(exc):
        return await _unexpected(request, exc)
    return JSONResponse({"detail": UNAVAILABLE, "code": "unavailable"}, status_code=503,
                        headers=unavailable_headers(request, exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error; it has been logged", "code": "internal"},
                        status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(Exception, _unexpected)
