"""The `Idempotency-Key` header of the commands that create: sent again with the same key, a
command answers its first result (with `Idempotent-Replayed: true`) and creates nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Header
from pydantic import BaseModel
from starlette.responses import Response

from app.auth import policy
from app.auth.principal import Principal
from app.services import idempotency
from app.services.context import ServiceContext
from app.services.steps import Command

REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKeyHeader = Annotated[str | None, Header(
    alias=idempotency.KEY_HEADER, max_length=idempotency.MAX_KEY_LENGTH,
    json_schema_extra={"pattern": "^[ -~]+$"}, description=(
        "Any unique value of 1 to 255 printable ASCII characters (a UUID, for example). The "
        "same key with the same body, for 24 hours, answers the first result again (header "
        "`Idempotent-Replayed: true`) and creates nothing; with another body it is a 422; "
        "while the first request is still being answered, a 409."))]


ResultT = TypeVar("ResultT")
ModelT = TypeVar("ModelT", bound=BaseModel)


def serve(ctx: ServiceContext, principal: Principal, action: str, key: str | None,
          body: BaseModel, status_code: int, command: Command,
          use_case: Callable[[Command], ResultT],
          present: Callable[[ResultT], ModelT]) -> ModelT | Response:
    """Run `use_case` (which needs the permission `action`) once per key, handing it `command`
    with the key's claim; without a key, run it with `command` as it is (blocking: call it on a
    worker thread). `present` makes the response model of its result.

    The answer is that model as JSON, kept with the key in the use case's transaction, and
    byte for byte the same on a replay."""
    if key is None:
        return present(use_case(command))
    policy.require(principal, action)  # a replay shows nothing to one who may no longer act
    request = idempotency.Request(
        idempotency.caller_of(principal), action, idempotency.check_key(key),
        idempotency.fingerprint(body.model_dump(mode="json")))
    answer = idempotency.once(
        ctx, request, status_code,
        lambda claim: use_case(Command(audit=command.audit, claim=claim)),
        lambda result: present(result).model_dump_json(by_alias=True))
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else None
    return Response(answer.body, status_code=answer.status_code, headers=headers,
                    media_type="application/json")
