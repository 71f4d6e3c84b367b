"""SpiffWorkflow's parser with Reviewflow's timer events (see `app.engine.timers`)."""

from __future__ import annotations

from typing import Any, ClassVar

from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from app.engine.timers import PARSER_OVERRIDES


class ReviewflowBpmnParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, tuple[Any, Any]]] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES, **PARSER_OVERRIDES}
