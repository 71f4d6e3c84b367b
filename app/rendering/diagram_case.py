"""A case's diagrams as the case page shows them: each process drawn as SVG, with its steps
so far as text (`app.services.diagrams.case_progress` finds them)."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.principal import Principal
from app.rendering.diagram import draw
from app.services import diagrams
from app.services.context import ServiceContext


@dataclass(frozen=True)
class CaseDiagram:
    """title: the process's name; svg: its drawing; steps: (step name, "done" / "in progress"
    / "waiting"), the finished ones first, in the order they finished."""

    title: str
    svg: str
    steps: list[tuple[str, str]]


def case_diagrams(ctx: ServiceContext, principal: Principal,
                  reference: str) -> list[CaseDiagram]:
    """The referral's diagram and its review route's own (empty for people who may not see
    diagrams, such as an agency lead)."""
    return [CaseDiagram(item.title, draw(item.diagram), item.steps)
            for item in diagrams.case_progress(ctx, principal, reference)]
