"""Evaluate a deployed DMN decision on its own, so a panel can see why a case got its grade."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.auth import policy
from app.auth.principal import Principal
from app.engine import decisions as engine_decisions
from app.engine.decisions import DecisionFailed, DecisionResult, LoadedDecision, load_decisions
from app.engine.definitions import SourceFile
from app.services import deployments
from app.services.context import ServiceContext
from app.services.errors import NotFound, StepError


@dataclass(frozen=True)
class Evaluation:
    version: int
    result: DecisionResult


def evaluate(ctx: ServiceContext, principal: Principal, decision_id: str,
             data: dict[str, Any]) -> Evaluation:
    policy.require(principal, "evaluate_decision")
    with ctx.uow(read_only=True) as uow:
        version = deployments.latest_decision(uow, decision_id)
        if version is None:
            raise NotFound(f"no decision is deployed with the id '{decision_id}'",
                           decision_id=decision_id)

        def load() -> dict[str, LoadedDecision]:
            content = deployments.deployment_file(uow, version.deployment_id, version.source_file)
            return load_decisions([SourceFile(version.source_file, content)])

        loaded = ctx.decisions.get(version.id, load)
    try:
        return Evaluation(version.version, engine_decisions.evaluate(loaded, decision_id, data))
    except DecisionFailed as failure:
        raise StepError(f"decision '{decision_id}' failed: {failure.message}",
                        **failure.as_dict()) from None
