"""Run a process in memory from a scenario: scripted answers per task, messages, moved time.

Nothing is stored and service-task operators only record their calls, so a designer can try a
changed route before deploying it. The report says which path was taken, which decisions were
made, where the process ended, and which of the scenario's expectations failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import TaskState

from app.engine import runner
from app.engine.errors import EngineError, NoMatchingEvent, StepFailed, TaskNotReady
from app.engine.scripting import EngineEnv, OperatorCall

FormCheck = Callable[[str, dict[str, Any]], list[dict[str, str]]]


class Step(BaseModel):
    """One thing that happens: a person completes a task, a message arrives, or time passes."""

    model_config = ConfigDict(extra="forbid")

    task: str | None = Field(None, description="the BPMN id of the user task to complete")
    agency: str | None = Field(None, description="which agency's instance of the task")
    data: dict[str, Any] = Field(default_factory=dict)
    message: str | None = Field(None, description="a BPMN message name to deliver")
    wait: str | None = Field(None, description="an ISO 8601 duration to move the clock by")
    expect_error: str | None = Field(None, description="the step must fail with this text")

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        if sum(x is not None for x in (self.task, self.message, self.wait)) != 1:
            raise ValueError("each step needs exactly one of task, message or wait")
        return self


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["running", "waiting", "completed"] | None = None
    path: list[str] = Field(default_factory=list,
                            description="elements that must have completed, in this order")
    not_path: list[str] = Field(default_factory=list,
                                description="elements that must not have run")
    ready: list[str] | None = Field(None, description="the user tasks ready at the end")
    data: dict[str, Any] = Field(default_factory=dict)
    decisions: dict[str, dict[str, Any]] = Field(default_factory=dict)
    operators: list[str] = Field(default_factory=list,
                                 description="service operators that must have been called")


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    process: str = Field("", description="the process key; the URL or command line gives it")
    start_at: dt.datetime = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    data: dict[str, Any] = Field(default_factory=dict)
    answers: dict[str, Any] = Field(default_factory=dict,
                                    description="what each query operator answers, since "
                                                "nothing is read from a database here")
    steps: list[Step] = Field(default_factory=list)
    expect: Expectations = Field(default_factory=Expectations)


@dataclass
class SimulationReport:
    process: str = Field("", description="the process key; the URL or command line gives it")
    status: str = "running"
    path: list[str] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    gateways: list[dict[str, Any]] = field(default_factory=list)
    operators: list[dict[str, Any]] = field(default_factory=list)
    timers: list[str] = field(default_factory=list)
    ready: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    ended_at: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures


class _Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def now(self) -> dt.datetime:
        return self.moment


def _record(report: SimulationReport, step: runner.Step) -> None:
    for item in step.items:
        if isinstance(item, OperatorCall):
            report.operators.append({"operator": item.name, "element_id": item.element_id,
                                     "params": item.params})
        elif item.kind == "decision_evaluated":
            report.decisions.append({"element_id": item.element_id, **item.detail})
        elif item.kind == "gateway_path":
            report.gateways.append({"element_id": item.element_id, **item.detail})
        elif item.kind == "timer_fired":
            report.timers.append(item.element_id)


def _path(workflow: BpmnWorkflow) -> list[str]:
    finished = [task for task in workflow.get_tasks(state=TaskState.COMPLETED)
                if getattr(task.task_spec, "bpmn_id", None)]
    finished.sort(key=lambda task: task.last_state_change)
    return [task.task_spec.bpmn_id for task in finished]


def _ready_task(workflow: BpmnWorkflow, step: Step) -> runner.ReadyTask:
    candidates = [t for t in runner.ready_tasks(workflow) if t.bpmn_id == step.task
                  and (step.agency is None or t.agency == step.agency)]
    if not candidates:
        ready = ", ".join(f"{t.bpmn_id}" + (f" ({t.agency})" if t.agency else "")
                          for t in runner.ready_tasks(workflow)) or "none"
        raise TaskNotReady(f"task '{step.task}' is not ready (ready: {ready})")
    return candidates[0]


def _run_step(workflow: BpmnWorkflow, step: Step, clock: _Clock,
              check_form: FormCheck | None) -> runner.Step:
    if step.wait is not None:
        parsed = TimerEventDefinition.parse_iso_duration(step.wait)
        clock.moment += TimerEventDefinition.get_timedelta_from_start(parsed, clock.moment)
        return runner.run_engine(workflow)
    if step.message is not None:
        return runner.deliver_message(workflow, step.message, step.data)
    task = _ready_task(workflow, step)
    if check_form is not None and task.form:
        errors = check_form(task.form, step.data)
        if errors:
            names = ", ".join(f"{e['field']} ({e['message']})" for e in errors)
            raise TaskNotReady(f"the form of '{task.bpmn_id}' rejects the answer: {names}")
    return runner.complete_task(workflow, task.id, step.data)


def simulate(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
             scenario: Scenario, env: EngineEnv,
             check_form: FormCheck | None = None) -> SimulationReport:
    clock = _Clock(scenario.start_at)
    answers = {name: (lambda _params, value=value: value)
               for name, value in scenario.answers.items()}
    env = EngineEnv(now=clock.now, calendar=env.calendar, clock_rules=env.clock_rules,
                    time_limit=env.time_limit, memory_limit=env.memory_limit,
                    queries=answers)
    report = SimulationReport(process=scenario.process)
    workflow = runner.create(spec, subprocess_specs, scenario.data, env)
    try:
        _record(report, runner.run_engine(workflow))
        for number, step in enumerate(scenario.steps, start=1):
            try:
                _record(report, _run_step(workflow, step, clock, check_form))
            except (StepFailed, TaskNotReady, NoMatchingEvent, EngineError) as exc:
                message = exc.message if isinstance(exc, StepFailed) else str(exc)
                if step.expect_error and step.expect_error in message:
                    continue
                report.failures.append(f"step {number}: {message}")
                break
            else:
                if step.expect_error:
                    report.failures.append(f"step {number}: expected an error containing "
                                           f"'{step.expect_error}', but the step succeeded")
    except StepFailed as exc:
        report.failures.append(f"start: {exc.message}")
    report.status = runner.status(workflow)
    report.path = _path(workflow)
    report.ready = sorted(t.bpmn_id for t in runner.ready_tasks(workflow))
    report.data = runner.data(workflow)
    report.ended_at = clock.moment.isoformat()
    _check(report, scenario.expect)
    return report


def _in_order(path: list[str], expected: list[str]) -> bool:
    remaining = iter(path)
    return all(element in remaining for element in expected)


def _check(report: SimulationReport, expect: Expectations) -> None:
    failures = report.failures
    if expect.status and report.status != expect.status:
        failures.append(f"expected status {expect.status}, got {report.status}")
    if expect.path and not _in_order(report.path, expect.path):
        missing = [e for e in expect.path if e not in report.path]
        detail = f"missing {missing}" if missing else "in another order"
        failures.append(f"expected the path {expect.path}: {detail}")
    for element in expect.not_path:
        if element in report.path:
            failures.append(f"expected '{element}' not to run")
    if expect.ready is not None and sorted(expect.ready) != report.ready:
        failures.append(f"expected ready tasks {sorted(expect.ready)}, got {report.ready}")
    for key, value in expect.data.items():
        if report.data.get(key) != value:
            failures.append(f"expected data {key} = {value!r}, got {report.data.get(key)!r}")
    for element_id, outputs in expect.decisions.items():
        made = [d for d in report.decisions if d["element_id"] == element_id]
        if not made:
            failures.append(f"expected decision '{element_id}' to be made")
            continue
        for key, value in outputs.items():
            if made[-1]["outputs"].get(key) != value:
                failures.append(f"expected decision {element_id} {key} = {value!r}, got "
                                f"{made[-1]['outputs'].get(key)!r}")
    called = {o["operator"] for o in report.operators}
    for name in expect.operators:
        if name not in called:
            failures.append(f"expected operator '{name}' to be called")
