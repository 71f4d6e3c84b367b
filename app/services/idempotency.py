"""Idempotency keys: a command sent again with the same key answers its first result and creates
nothing new.

`once` hands the command a `Claim`, which the command passes to `steps.commit`: the key's row is
inserted by `join`, with the command's answer, in the transaction of what the command creates,
so none is ever kept without the others; the primary key (caller, operation, key) lets only one
of two racing requests commit, and the other answers what the first did. A command that commits
without giving its answer has it added right after the commit, in a statement of its own: a
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
    """A key waiting to be inserted by the command's step commit (see `join`)."""

    request: Request
    status_code: int
    created_at: dt.datetime
    answer: Callable[[Any], str] | None = None
    """The JSON document of the command's result, as `once` was told to answer it."""
    replaces_expired: bool = False
    body: str | None = None
    """The answer inserted with the key."""
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
         command: Callable[[Claim], ResultT], answer: Callable[[ResultT], str]) -> Answer:
    """Run `command` with the key's claim unless the key was used; `answer` is the JSON
    document its result is answered with (`status_code`), kept for replays.

    Raises `Invalid` (the key was used for another request) or `Conflict` (the first request
    with the key is still being answered)."""
    recorded = _find(ctx, request)
    if recorded is not None and recorded.created_at > ctx.clock.now() - LIFETIME:
        return _replay(request, recorded)
    claim = Claim(request, status_code, ctx.clock.now(), answer,
                  replaces_expired=recorded is not None)
    try:
        result = command(claim)
    except ServiceError:
        # A racing request with the key may have committed first: this one then failed on
        # what that one did (a conflict, or a message no longer awaited) and answers as it.
        recorded = _find(ctx, request)
        if recorded is None or recorded.created_at <= claim.created_at - LIFETIME:
            raise
        return _replay(request, recorded)
    if claim.body is not None:
        return Answer(status_code, claim.body, replayed=False)
    body = answer(result)
    if claim.committed:
        _keep_answer(ctx, request, body)
    return Answer(status_code, body, replayed=False)


def join(uow: UnitOfWork, claim: Claim, instance_id: str | None, result: object = None) -> None:
    """Insert the claimed key in the unit's transaction (call it before the commit), with the
    answer to `result` when given, unless it is there or committed already. A racing request's
    committed key raises `KeyInUse`: the transaction is then rolled back. A unit that failed to
    commit may be followed by another (a retry), which inserts the key again."""
    if claim.committed or claim.joined is uow:
        return
    request = claim.request
    claim.body = (claim.answer(result) if result is not None and claim.answer is not None
                  else None)
    try:
        if claim.replaces_expired:
            uow.session.execute(delete(IdempotencyKey).where(
                *_identifies(request),
                IdempotencyKey.created_at <= claim.created_at - LIFETIME))
        uow.session.execute(insert(IdempotencyKey).values(
            caller=request.caller, operation=request.operation, key=request.key,
            fingerprint=request.fingerprint, status_code=claim.status_code,
            response_body=claim.body, instance_id=instance_id, created_at=claim.created_at))
    except IntegrityError:
        raise KeyInUse(f"another request with this {request.field} was answered first",
                       field=request.field) from None
    claim.joined = uow
    uow.after_commit(functools.partial(setattr, claim, "committed", True))


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
