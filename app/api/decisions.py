"""POST /api/v1/decisions/{decision_id}/evaluate: run a DMN decision and say which rule matched."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from app.api import serving
from app.api.deps import CHECKED_INPUT, AuditDep, ContextDep, PrincipalDep
from app.api.schemas import ERROR_RESPONSES
from app.services import decisions

router = APIRouter(prefix="/api/v1/decisions", tags=["decisions"], dependencies=[CHECKED_INPUT])


class DecisionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(default_factory=dict,
                                 description="The decision's inputs by name; a missing fact is "
                                             "false (or 'none') for the grading decision")


class MatchedRulePublic(BaseModel):
    id: str
    description: str


class DecisionOutput(BaseModel):
    decision_id: str
    version: int
    outputs: dict[str, Any]
    matched_rules: list[MatchedRulePublic]


@router.post("/{decision_id}/evaluate", response_model=DecisionOutput, responses=ERROR_RESPONSES)
async def evaluate_decision(ctx: ContextDep, principal: PrincipalDep, audit: AuditDep,
                            body: DecisionInput,
                            decision_id: str = Path(min_length=1, max_length=255),
                            ) -> DecisionOutput:
    """Evaluate the latest version of a decision; `matched_rules` says why."""
    found = await serving.answer(
        audit, lambda: decisions.evaluate(ctx, principal, decision_id, body.data))
    return DecisionOutput(decision_id=decision_id, version=found.version,
                          outputs=found.result.outputs,
                          matched_rules=[MatchedRulePublic(**rule)
                                         for rule in found.result.matched_rules])
