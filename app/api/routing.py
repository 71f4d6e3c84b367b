"""API routes that do all of a request's blocking work in one worker-thread call.

FastAPI would hand a sync endpoint to the thread pool once for the caller's token check, once for
the endpoint and once more to validate the returned model, and the audit entry would need a
fourth hop. On a small machine each hand-off costs about as much as the database work of a
step. A `ServiceRoute` runs, in a single call on a worker thread: the token check (the
dependency only reads the header, see `app.api.deps`) in a session whose transaction the use
case's first unit of work continues (`ServiceContext.request_session`), the endpoint, the
response's serialization and the request's audit entry: for a `step_command`, committed with
the step; for any other endpoint that succeeded, right after it. Errors still reach the app's
exception handlers, and the audit middleware writes the entries of failed requests.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from app.api import audit_trail
from app.api.deps import ContextDep, PendingCaller, PrincipalDep
from app.auth.errors import Forbidden, NotAuthenticated
from app.db.uow import holding_commits
from app.services import storable
from app.services.errors import ServiceError

STEP_COMMAND = "__reviewflow_step_command__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def step_command(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint that advances one instance and commits once (`steps.commit`): its audit
    entry is committed in the same transaction as the step."""
    setattr(endpoint, STEP_COMMAND, True)
    return endpoint


class ServiceRoute(APIRoute):
    resolves_pending_callers = True
    """`BearerCaller` refuses to serve a route that would not check the token it reads."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if inspect.iscoroutinefunction(endpoint):
            endpoint = self._async_endpoint(endpoint)
        else:
            endpoint = self._threaded_endpoint(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def _threaded_endpoint(self, original: Callable[..., Any]) -> Callable[..., Any]:
        signature: inspect.Signature | None
        contexts: tuple[str, ...] = ()
        try:
            signature = inspect.signature(original, eval_str=True)
        except NameError:  # an annotation only for type checkers: FastAPI resolves it all
            signature = None
        else:
            contexts = _context_parameters(signature)

        @functools.wraps(original)
        async def endpoint(**values: Any) -> Response:
            return await run_in_threadpool(self._run, original, values, contexts)

        if signature is not None and contexts:
            # FastAPI need not resolve the context: the pending caller carries it (so an
            # override of `get_context` does not reach these endpoints; the app's context does).
            endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
                parameters=[parameter for parameter in signature.parameters.values()
                            if parameter.name not in contexts])
        return endpoint

    def _async_endpoint(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        async def endpoint(**values: Any) -> Any:
            if any(isinstance(value, PendingCaller) for value in values.values()):
                values = await run_in_threadpool(_authenticated, values)
            return await original(**values)

        return endpoint

    def _run(self, original: Callable[..., Any], values: dict[str, Any],
             contexts: tuple[str, ...] = ()) -> Response:
        caller = next((value for value in values.values() if isinstance(value, PendingCaller)),
                      None)
        if caller is None:
            _check_storable(values, storable.DEFAULT_MAX_DEPTH)
            return self._serve(original, values, values)
        with caller.ctx.request_session() as session:  # the token check reads in it
            arguments = _authenticated(values, session)
            _check_storable(values, caller.ctx.settings.max_data_depth)  # after: 401 first
            arguments.update((name, caller.ctx) for name in contexts)
            return self._serve(original, arguments, values)

    def _serve(self, original: Callable[..., Any], arguments: dict[str, Any],
               values: dict[str, Any]) -> Response:
        if getattr(original, STEP_COMMAND, False):
            return audit_trail.serve_command(
                lambda: self._committed_answer(original, arguments, values),
                self.status_code or 200)
        response = self._committed_answer(original, arguments, values)
        audit_trail.record_success(response.status_code)
        return response

    def _committed_answer(self, original: Callable[..., Any], arguments: dict[str, Any],
                          values: dict[str, Any]) -> Response:
        """Run the endpoint and build its response, then commit: a response that cannot be
        built leaves nothing committed (see `HeldCommit`). A refusal (4xx) keeps what was
        committed before it, as the endpoint meant (a failed step's timeline entry)."""
        with holding_commits() as held:
            try:
                response = self._respond(original(**arguments), values)
            except CLIENT_ERRORS:
                held.release()
                raise
            held.release()
        return response

    def _respond(self, result: Any, values: dict[str, Any]) -> Response:
        """What FastAPI would send for `result`, built here rather than in another hop."""
        if isinstance(result, Response):
            return result
        sub_response = next((value for value in values.values()
                             if isinstance(value, Response)), None)
        status = (sub_response.status_code if sub_response and sub_response.status_code
                  else self.status_code or 200)
        if self.response_field is not None:
            value, errors = self.response_field.validate(result, {}, loc=("response",))
            if errors:
                raise ResponseValidationError(errors=errors, body=result)
            response: Response = Response(
                self.response_field.serialize_json(value, by_alias=self.response_model_by_alias),
                status_code=status, media_type="application/json")
        else:
            response = JSONResponse(jsonable_encoder(result), status_code=status)
        if sub_response is not None:
            response.headers.raw.extend(sub_response.headers.raw)
        return response


CLIENT_ERRORS = (ServiceError, Forbidden, NotAuthenticated)
"""Refusals the endpoint raised on purpose, answered with a 4xx."""


def _check_storable(values: dict[str, Any], max_depth: int) -> None:
    """Refuse any argument the database could not keep (422 naming it) before the endpoint
    runs. A body model's fields are named as FastAPI names them, without the argument."""
    for name, value in values.items():
        if isinstance(value, BaseModel):
            storable.check(value, max_depth)
        elif isinstance(value, str | dict | list):
            storable.check(value, max_depth, prefix=name)


def _context_parameters(signature: inspect.Signature) -> tuple[str, ...]:
    """The endpoint's `ContextDep` parameters, when it also takes the caller (`PrincipalDep`):
    `ServiceRoute` passes the caller's context to them, sparing FastAPI a dependency to solve on
    every request."""
    parameters = signature.parameters.values()
    if not any(parameter.annotation is PrincipalDep for parameter in parameters):
        return ()
    return tuple(parameter.name for parameter in parameters
                 if parameter.annotation is ContextDep)


def _authenticated(values: dict[str, Any], session: Session | None = None) -> dict[str, Any]:
    """The endpoint's arguments with the pending caller replaced by the authenticated one."""
    return {name: value.authenticate(session) if isinstance(value, PendingCaller) else value
            for name, value in values.items()}
