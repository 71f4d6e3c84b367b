"""The script engine that evaluates BPMN scripts, conditions and DMN expressions.

It also takes the calls that service tasks make (`spiffworkflow:serviceTaskOperator`): the engine
only records each call; the service layer applies it to the domain tables in the same
transaction as the step, so a failed step leaves no trace in them.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.task import Task

SAFE_GLOBALS: dict[str, Any] = {
    "datetime": datetime,
}


@dataclass(frozen=True)
class OperatorCall:
    """A service task's call, to be applied by the service layer."""

    name: str
    params: dict[str, Any]
    element_id: str
    element_name: str | None


class ReviewflowScriptEngine(PythonScriptEngine):
    def __init__(self, environment: Any) -> None:
        super().__init__(environment=environment)
        self.calls: list[OperatorCall] = []

    def call_service(self, task: Task, operation_name: str = "",
                     operation_params: dict[str, dict[str, Any]] | None = None,
                     **_kwargs: Any) -> str:
        params = {name: param.get("value") for name, param in (operation_params or {}).items()}
        spec = task.task_spec
        self.calls.append(OperatorCall(operation_name, params, spec.bpmn_id, spec.bpmn_name))
        return json.dumps({"operator": operation_name, "recorded": True})

    def drain(self) -> list[OperatorCall]:
        calls, self.calls = self.calls, []
        return calls


def build_script_engine() -> ReviewflowScriptEngine:
    return ReviewflowScriptEngine(TaskDataEnvironment(dict(SAFE_GLOBALS)))
