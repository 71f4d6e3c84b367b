"""Idempotency keys: a command sent again with the same key answers its first result and creates
nothing new.

The key's row is inserted by `join`, from `steps.commit`, in the transaction of what the command
creates, so neither is ever kept without the other; the primary key (caller, operation, key)
lets only one of two racing requests commit, and the other answers what the first did. The
answer is added to the row once it is built: in the same transaction when the request holds its
commit until then (`app.db.uow.HeldCommit`, as API routes do), else right after the commit. A
replay that finds a key without its answer (the first request is still being answered, or
stopped between the two) is told so (409) with the instance the first request changed.

Any command whose writes commit through `steps.commit` can be made idempotent with `once`.
Keys are kept for `LIFETIME`; an older key is free again and its row is replaced.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.auth.principal import Principal
from app.db.models import IdempotencyKey
from app.db.uow import UnitOfWork
from app.services.context import ServiceContext
from app.services.errors import Conflict, Invalid, ServiceError

log = logging.getLogger("reviewflow.idempotency")

KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
LIFETIME = dt.timedelta(hours=24)

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Request:
    """One command as its key identifies it; `field` is what errors about the key name."""

    caller: str
    operation: str
    key: str
    fingerprint: str
    field: str = KEY_HEADER


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: str
    """The answer's JSON document, as first sent."""
    replayed: bool


@dataclass
class Claim:
    """A key waiting to be inserted by the next step commit of the command (see `join`)."""

    request: Request
    status_code: int
    created_at: dt.datetime
    replaces_expired: bool = False
    joined: UnitOfWork | None = None
    """The unit of work whose transaction holds the key's row, once `join` inserted it."""
    committed: bool = False


@dataclass(frozen=True)
class _Recorded:
    fingerprint: str
    status_code: int
    body: str | None
    instance_id: str | None
    created_at: dt.datetime


class KeyInUse(Conflict):
    """A racing request with the same key committed first."""


_claim: ContextVar[Claim | None] = ContextVar("reviewflow_idempotency_claim", default=None)


def check_key(key: str, field: str = KEY_HEADER) -> str:
    """The key, if it is 1 to 255 printable ASCII characters."""
    if not key:
        raise Invalid(f"{field} is empty; send 1 to {MAX_KEY_LENGTH} characters", field=field)
    if len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"{field} is longer than {MAX_KEY_LENGTH} characters", field=field)
    if not all(" " <= char <= "~" for char in key):
        raise Invalid(f"{field} must be printable ASCII characters", field=field)
    return key


def caller_of(principal: Principal) -> str:
    return f"{principal.kind}:{principal.name}"[:255]


def fingerprint(payload: Any) -> str:
    """sha256 of the payload (JSON-ready values) as canonical JSON: the same content in another
    key order or spacing is the same request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def once(ctx: ServiceContext, request: Request, status_code: int,
         command: Callable[[], ResultT], answer: Callable[[ResultT], str]) -> Answer:
    """Run `command` unless its key was used; `answer` is the JSON document its result is
    answered with (`status_code`), kept for replays.

    Raises `Invalid` (the key was used for another request) or `Conflict` (the first request
    with the key is still being answered)."""
    recorded = _find(ctx, request)
    if recorded is not None and recorded.created_at > ctx.clock.now() - LIFETIME:
        return _replay(request, recorded)
    claim = Claim(request, status_code, ctx.clock.now(), replaces_expired=recorded is not None)
    reset = _claim.set(claim)
    try:
        result = command()
    except ServiceError:
        # A racing request with the key may have committed first: this one then failed on
        # what that one did (a conflict, or a message no longer awaited) and answers as it.
        recorded = _find(ctx, request)
        if recorded is None or recorded.created_at <= claim.created_at - LIFETIME:
            raise
        return _replay(request, recorded)
    finally:
        _claim.reset(reset)
    body = answer(result)
    if claim.committed:
        _keep_answer(ctx, request, body)
    elif claim.joined is not None:  # the commit waits for the response: the answer joins it
        claim.joined.session.execute(update(IdempotencyKey).where(*_identifies(request))
                                     .values(response_body=body))
    return Answer(status_code, body, replayed=False)


def join(uow: UnitOfWork, instance_id: str | None) -> Claim | None:
    """Insert the current command's key, if one waits, in the unit's transaction (call it
    before the commit). A racing request's committed key raises `KeyInUse`: the transaction is
    then rolled back. A unit that failed to commit may be followed by another (a retry), which
    inserts the key again."""
    claim = _claim.get()
    if claim is None or claim.committed or claim.joined is uow:
        return None
    request = claim.request
    try:
        if claim.replaces_expired:
            uow.session.execute(delete(IdempotencyKey).where(
                *_identifies(request),
                IdempotencyKey.created_at <= claim.created_at - LIFETIME))
        uow.session.execute(insert(IdempotencyKey).values(
            caller=request.caller, operation=request.operation, key=request.key,
            fingerprint=request.fingerprint, status_code=claim.status_code,
            response_body=None, instance_id=instance_id, created_at=claim.created_at))
    except IntegrityError:
        raise KeyInUse(f"another request with this {request.field} was answered first",
                       field=request.field) from None
    claim.joined = uow
    uow.after_commit(functools.partial(setattr, claim, "committed", True))
    return claim


def _identifies(request: Request) -> tuple[Any, ...]:
    return (IdempotencyKey.caller == request.caller,
            IdempotencyKey.operation == request.operation, IdempotencyKey.key == request.key)


def _find(ctx: ServiceContext, request: Request) -> _Recorded | None:
    with ctx.lone_statement() as connection:
        row = connection.execute(select(
            IdempotencyKey.fingerprint, IdempotencyKey.status_code,
            IdempotencyKey.response_body, IdempotencyKey.instance_id,
            IdempotencyKey.created_at).where(*_identifies(request))).first()
    return None if row is None else _Recorded(*row)


def _replay(request: Request, recorded: _Recorded) -> Answer:
    if recorded.fingerprint != request.fingerprint:
        raise Invalid(f"this {request.field} was used for a different request; send a new key "
                      f"for a new request", field=request.field)
    if recorded.body is None:
        raise Conflict(f"the first request with this {request.field} is still being answered; "
                       f"try again in a moment", field=request.field,
                       instance_id=recorded.instance_id)
    return Answer(recorded.status_code, recorded.body, replayed=True)


def _keep_answer(ctx: ServiceContext, request: Request, body: str) -> None:
    """Add the answer to the committed key, in a statement of its own (the command is done: a
    failure here is logged, and replays are then told the request is being answered)."""
    ctx.release_request_session()
    try:
        with ctx.lone_statement() as connection:
            connection.execute(update(IdempotencyKey).where(*_identifies(request))
                               .values(response_body=body))
            connection.commit()
    except SQLAlchemyError:
        log.exception("could not keep the answer of %s for %s", request.operation,
                      request.caller)


def forget_expired(ctx: ServiceContext) -> int:
    """Delete the keys older than `LIFETIME` (their answers hold case data); how many."""
    with ctx.uow() as uow:
        result = uow.session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.created_at <= ctx.clock.now() - LIFETIME))
        uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)
