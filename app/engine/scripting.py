"""The script engine that evaluates BPMN scripts, conditions and DMN expressions.

It carries the clock (timers ask it for "now"), gives expressions the working-day helpers, and
takes the calls that service tasks make (`spiffworkflow:serviceTaskOperator`): the engine only
records each call; the service layer applies it to the domain tables in the same transaction as
the step, so a failed step leaves no trace in them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.task import Task

from app.engine.calendar import WorkingCalendar
from app.engine.clock_rules import EMPTY_RULES, ClockRules
from app.engine.sandbox import DEFAULT_MEMORY_LIMIT, SandboxedEnvironment, SandboxedScriptEngine
from app.engine.timer_expressions import expression_helpers

Now = Callable[[], dt.datetime]
Query = Callable[[dict[str, Any]], Any]
SCRIPT_TIME_LIMIT = 2.0
"""Seconds a script or expression may run before its step fails."""
SCRIPT_MEMORY_BYTES = DEFAULT_MEMORY_LIMIT
"""Bytes a script or expression may add to the process before its step fails (the
`script_memory_bytes` setting)."""
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
    """Runs every script and expression in the RestrictedPython sandbox (`app.engine.sandbox`).

    A service task naming a query operator gets its answer at once (read-only, from the
    service layer); any other operator call is recorded for the service layer to apply.
    """

    def __init__(self, environment: Any, now: Now, calendar: WorkingCalendar,
                 queries: Mapping[str, Query] | None = None) -> None:
        super().__init__(environment=environment)
        self.now = now
        self.calendar = calendar
        self.queries = dict(queries or {})
        self.calls: list[OperatorCall] = []

    def call_service(self, task: Task, operation_name: str = "",
                     operation_params: dict[str, dict[str, Any]] | None = None,
                     **_kwargs: Any) -> str:
        params = {name: param.get("value") for name, param in (operation_params or {}).items()}
        query = self.queries.get(operation_name)
        if query is not None:
            return json.dumps(query(params), default=str)
        spec = task.task_spec
        self.calls.append(OperatorCall(operation_name, params, spec.bpmn_id, spec.bpmn_name))
        return json.dumps({"operator": operation_name, "recorded": True})

    def drain(self) -> list[OperatorCall]:
        calls, self.calls = self.calls, []
        return calls


def due_moment(value: str | dt.date | dt.datetime) -> dt.datetime:
    """A date is due at the end of that day (UTC); a date-time is due at that moment."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), dt.UTC)


def family_names_in(texts: list[Any], names: list[Any]) -> list[str]:
    """The names that appear, as whole words and in any case, in any of the texts.

    Published documents name the child by a pseudonym; this finds the family's real names
    (as recorded in the genograms) before anything is published.
    """
    found: list[str] = []
    joined = "\n".join(str(text) for text in texts if text)
    for name in names:
        name = str(name).strip()
        if len(name) > 1 and name not in found and re.search(
                rf"(?<!\w){re.escape(name)}(?!\w)", joined, flags=re.IGNORECASE):
            found.append(name)
    return found


@dataclass(frozen=True)
class EngineEnv:
    """What scripts and timers see of the world: the clock, the calendar, the deadline rules."""

    now: Now = system_now
    calendar: WorkingCalendar = DEFAULT_CALENDAR
    clock_rules: ClockRules = field(default_factory=lambda: EMPTY_RULES)
    time_limit: float = SCRIPT_TIME_LIMIT
    memory_limit: int = SCRIPT_MEMORY_BYTES
    queries: Mapping[str, Query] = field(default_factory=dict)


def build_script_engine(env: EngineEnv | None = None) -> ReviewflowScriptEngine:
    env = env or EngineEnv()
    return ReviewflowScriptEngine(_sandbox(env.now, env.calendar, env.clock_rules,
                                           env.time_limit, env.memory_limit),
                                  env.now, env.calendar, env.queries)


_SANDBOXES: dict[tuple[Any, ...], tuple[tuple[Any, ...], SandboxedEnvironment]] = {}
_SANDBOXES_LOCK = threading.Lock()


def _sandbox(now: Now, calendar: WorkingCalendar, clock_rules: ClockRules,
             time_limit: float, memory_limit: int) -> SandboxedEnvironment:
    """The sandbox for these settings, built once: it holds no state between runs, and
    building it (wrapping every helper) costs more than a small step. Keyed by the clock
    function (a bound method compares by its object) and the identity of the calendar and
    rules, which the entry keeps alive so that no other object can take their ids."""
    parts = (now, calendar, clock_rules, time_limit, memory_limit)
    key = (now, id(calendar), id(clock_rules), time_limit, memory_limit)
    found = _SANDBOXES.get(key)
    if found is not None:
        return found[1]
    sandbox = _build_sandbox(now, calendar, clock_rules, time_limit, memory_limit)
    with _SANDBOXES_LOCK:
        if len(_SANDBOXES) >= 64:
            _SANDBOXES.clear()
        _SANDBOXES[key] = (parts, sandbox)
    return sandbox


def _build_sandbox(now: Now, calendar: WorkingCalendar, rules: ClockRules,
                   time_limit: float, memory_limit: int) -> SandboxedEnvironment:
    helpers = expression_helpers(calendar, now=now)

    def clock_due(clock_id: str, start: str) -> str:
        """The due date of a configured clock counted from `start` (an ISO date)."""
        rule = rules.get(clock_id)
        anchor = rule.from_ or rule.on or rule.before or ""
        due = rule.due({anchor: start}, calendar)
        if due is None:
            raise ValueError(f"clock '{clock_id}' needs a start date")
        return due

    def due_time(day: str) -> str:
        """The moment a due date passes: the end of that day, UTC (a `timeDate` value)."""
        return due_moment(day).isoformat()

    helpers["clock_due"] = clock_due
    helpers["due_time"] = due_time
    helpers["family_names_in"] = family_names_in
    return SandboxedEnvironment(helpers, time_limit=time_limit, memory_limit=memory_limit)
