"""The script engine that evaluates BPMN scripts, conditions and DMN expressions.

It carries the clock (timers ask it for "now"), gives expressions the working-day helpers, and
takes the calls that service tasks make (`spiffworkflow:serviceTaskOperator`): the engine only
records each call; the service layer applies it to the domain tables in the same transaction as
the step, so a failed step leaves no trace in them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.task import Task

from app.engine.calendar import WorkingCalendar
from app.engine.sandbox import SandboxedEnvironment, SandboxedScriptEngine
from app.engine.timer_expressions import expression_helpers

Now = Callable[[], dt.datetime]
SCRIPT_TIME_LIMIT = 2.0
"""Seconds a script or expression may run before its step fails."""
DEFAULT_CALENDAR = WorkingCalendar()


def system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class OperatorCall:
    """A service task's call, to be applied by the service layer."""

    name: str
    params: dict[str, Any]
    element_id: str
    element_name: str | None


class ReviewflowScriptEngine(SandboxedScriptEngine):
    """Runs every script and expression in the RestrictedPython sandbox (`app.engine.sandbox`)."""

    def __init__(self, environment: Any, now: Now, calendar: WorkingCalendar) -> None:
        super().__init__(environment=environment)
        self.now = now
        self.calendar = calendar
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


def build_script_engine(now: Now = system_now, calendar: WorkingCalendar = DEFAULT_CALENDAR,
                        time_limit: float = SCRIPT_TIME_LIMIT) -> ReviewflowScriptEngine:
    helpers = expression_helpers(calendar, now=now)
    return ReviewflowScriptEngine(SandboxedEnvironment(helpers, time_limit=time_limit), now,
                                  calendar)
