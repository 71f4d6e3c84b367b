"""POST /api/v1/messages: deliver a BPMN message to the instance waiting for it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api import idempotent, serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.idempotent import IdempotencyKeyHeader
from app.api.schemas import ERROR_RESPONSES, InstanceDetail, instance_detail
from app.services import messages

router = APIRouter(prefix="/api/v1/messages", tags=["messages"], dependencies=[CHECKED_INPUT])


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, description="The BPMN message name")
    business_key: str = Field(min_length=1, max_length=255)
    data: dict[str, Any] = Field(default_factory=dict)


@router.post("", response_model=InstanceDetail, responses=ERROR_RESPONSES)
async def send_message(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                       body: MessageCreate,
                       idempotency_key: IdempotencyKeyHeader = None) -> InstanceDetail | Response:
    """The payload lands in the process data; the instance runs on to its next wait state.
    With an `Idempotency-Key`, a message sent again is not delivered again."""
    return await serving.command(audit, lambda command: idempotent.serve(
        ctx, principal, "send_message", idempotency_key, body, status.HTTP_200_OK, command,
        lambda command: messages.deliver(
            ctx, principal, body.name, body.business_key, body.data, command),
        instance_detail))
