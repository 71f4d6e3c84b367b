"""Errors raised by the engine; the service layer and the HTTP edge translate them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a deployed file, located as precisely as the parser allows."""

    file: str
    reason: str
    element_id: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "element_id": self.element_id, "line": self.line,
                "reason": self.reason}


class EngineError(Exception):
    """Base class of every engine error."""


class InvalidDefinition(EngineError):
    """One or more BPMN/DMN files cannot be deployed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.file}: {p.reason}" for p in problems))


class StepFailed(EngineError):
    """A script, expression or decision failed while the engine ran a step."""

    def __init__(self, message: str, element_id: str | None, element_name: str | None = None,
                 line: int | None = None) -> None:
        self.message = message
        self.element_id = element_id
        self.element_name = element_name
        self.line = line
        super().__init__(message)

    def as_dict(self) -> dict[str, object]:
        return {"message": self.message, "element_id": self.element_id,
                "element_name": self.element_name, "line": self.line}


class StateUnreadable(EngineError):
    """An instance's saved state does not load (cut short, edited by hand, restored wrongly)."""


class TaskNotReady(EngineError):
    """The task exists but cannot be completed now."""


class UnknownTask(EngineError):
    """No task with that id in the workflow."""


class NoMatchingEvent(EngineError):
    """The workflow waits for no such message."""
