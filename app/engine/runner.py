"""Create, load, step and inspect workflows; report what happened in each step.

Each function works on an in-memory `BpmnWorkflow`; saving is the service layer's job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import ExclusiveGateway, InclusiveGateway
from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition as BaseMessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task, TaskState

from app.engine import instructions, timers
from app.engine.decisions import applied_rules
from app.engine.definitions import FORM_PROPERTY
from app.engine.errors import (
    NoMatchingEvent,
    StateUnreadable,
    StepFailed,
    TaskNotReady,
    UnknownTask,
)
from app.engine.scripting import (
    EngineEnv,
    OperatorCall,
    ReviewflowScriptEngine,
    build_script_engine,
    due_moment,
)
from app.engine.serializer import workflow_from_json, workflow_to_json

__all__ = ["EngineEnv", "OperatorCall", "ReadyTask", "Step", "StepRecord", "Workflow"]

Workflow: TypeAlias = BpmnWorkflow
"""A running workflow, for layers that hold one without importing SpiffWorkflow."""

MAX_ENGINE_ROUNDS = 100
AGENCY_LANE = "agency_lead"
"""Tasks in this lane belong to one agency: the `agency` in their data (a multi-instance item)."""
READS_PROPERTY = "reads"
"""A user task's `spiffworkflow:property name="reads"`: the comma-separated data keys it may
read beyond its form's; its instructions are rendered from these alone."""


@dataclass(frozen=True)
class StepRecord:
    """Something the engine did during a step that belongs on the timeline."""

    kind: str
    element_id: str
    element_name: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadyTask:
    """A user task that a person can complete now."""

    id: str
    bpmn_id: str
    title: str
    lane: str | None
    form: str | None
    instructions: str | None
    agency: str | None
    due_at: dt.datetime | None = None
    process: str | None = None
    """The BPMN process the task belongs to (a called process's id inside a call activity)."""


@dataclass
class Step:
    """Collects records while the engine runs."""

    items: list[StepRecord | OperatorCall] = field(default_factory=list)
    """Timeline records and service-task calls, in the order they happened."""
    _decisions: dict[UUID, list[str]] = field(default_factory=dict)

    def before(self, task: Task) -> None:
        spec = task.task_spec
        if isinstance(spec, BusinessRuleTaskMixin):
            try:
                table = spec.dmnEngine.decision_table
                rules = applied_rules(table.hit_policy, spec.dmnEngine.decide(task))
            except Exception:  # the task's own run reports the failure
                rules = []
            self._decisions[task.id] = [rule.id for rule in rules if rule.id]

    def after(self, task: Task) -> None:
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        if bpmn_id is None:
            return
        name = getattr(spec, "bpmn_name", None)
        if isinstance(spec, BusinessRuleTaskMixin):
            table = spec.dmnEngine.decision_table
            outputs = {out.name: task.data.get(out.name) for out in table.outputs if out.name}
            self.items.append(StepRecord("decision_evaluated", bpmn_id, name, {
                "decision_table_id": getattr(table, "id", None),
                "matched_rules": self._decisions.pop(task.id, []),
                "outputs": outputs,
            }))
        elif isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
            self.items.append(StepRecord("timer_fired", bpmn_id, name, {
                "timer": getattr(spec.event_definition, "expression", None)}))
        elif isinstance(spec, ExclusiveGateway | InclusiveGateway) and len(spec.outputs) > 1:
            taken = [child.task_spec.bpmn_id for child in task.children
                     if child.has_state(TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK)
                     and not child.has_state(TaskState.CANCELLED)]
            self.items.append(StepRecord("gateway_path", bpmn_id, name, {"taken": taken}))
        engine = task.workflow.script_engine
        if isinstance(engine, ReviewflowScriptEngine):
            self.items.extend(engine.drain())


def _translate(exc: Exception, fallback_task: Task | None = None) -> StepFailed:
    task = getattr(exc, "task", None) or fallback_task
    spec = task.task_spec if task is not None else getattr(exc, "task_spec", None)
    element_id = getattr(spec, "bpmn_id", None) if spec is not None else None
    element_name = getattr(spec, "bpmn_name", None) if spec is not None else None
    # SpiffWorkflow's str() already appends the notes; take the message alone, then the notes.
    base = exc.args[0] if isinstance(exc, SpiffWorkflowException) and exc.args else str(exc)
    message = str(base).strip() or exc.__class__.__name__
    notes = getattr(exc, "notes", None) or []
    if notes:
        message = f"{message} ({' '.join(str(n) for n in notes)})"
    line = getattr(exc, "line_number", None) if isinstance(exc, WorkflowTaskException) else None
    return StepFailed(message, element_id, element_name, line if isinstance(line, int) else None)


def create(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
           data: dict[str, Any], env: EngineEnv | None = None) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=build_script_engine(env))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


def load(state: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec],
         env: EngineEnv | None = None) -> BpmnWorkflow:
    try:
        workflow = workflow_from_json(state, spec, subprocess_specs)
    except Exception as exc:  # whatever the stored text is, it does not describe a workflow
        raise StateUnreadable(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                              if str(exc) else type(exc).__name__) from exc
    workflow.script_engine = build_script_engine(env)
    return workflow


def dump(workflow: BpmnWorkflow) -> str:
    """Serialize; data that JSON cannot hold (a set, an object) fails like a script would."""
    try:
        return workflow_to_json(workflow)
    except (TypeError, ValueError) as exc:
        last = workflow.last_task
        spec = last.task_spec if last is not None else None
        raise StepFailed(f"the process data holds a value that cannot be saved: {exc}",
                         getattr(spec, "bpmn_id", None), getattr(spec, "bpmn_name", None)) from exc


def run_engine(workflow: BpmnWorkflow, step: Step | None = None) -> Step:
    """Run every engine task until only people or events can move the workflow on."""
    step = step or Step()
    current: list[Task] = []

    def before(task: Task) -> None:
        current[:] = [task]
        step.before(task)

    try:
        for _round in range(MAX_ENGINE_ROUNDS):
            workflow.do_engine_steps(will_complete_task=before, did_complete_task=step.after)
            # do_engine_steps refreshes timers last; a timer that fired then is ready but not
            # yet run, so go round again until nothing the engine can run is left.
            if not workflow.get_tasks(state=TaskState.READY, manual=False):
                break
        # An event thrown with nobody waiting for it (a review to stop when none runs) is kept
        # by SpiffWorkflow for a caller outside; none exists here, so it is let go.
        workflow.get_events()
    except (SpiffWorkflowException, Exception) as exc:
        raise _translate(exc, current[0] if current else None) from exc
    return step


def next_timer_at(workflow: BpmnWorkflow) -> dt.datetime | None:
    """The earliest moment a waiting timer of the workflow is due, if it waits for one."""
    due = [moment for task in workflow.event_manager.tasks.values()
           if (moment := timers.due_at(task)) is not None]
    return min(due) if due else None


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task:
    try:
        uuid = UUID(task_id)
    except ValueError:
        raise UnknownTask(task_id) from None
    try:
        task = workflow.get_task_from_id(uuid)
    except (WorkflowException, KeyError):
        task = None
    if task is None:
        raise UnknownTask(task_id)
    return task


def complete_task(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> Step:
    task = find_task(workflow, task_id)
    if not task.task_spec.manual or not task.has_state(TaskState.READY):
        raise TaskNotReady(f"task {task_id} is {TaskState.get_name(task.state).lower()}")
    task.data.update(data)
    try:
        task.run()
    except (SpiffWorkflowException, Exception) as exc:
        raise _translate(exc, task) from exc
    return run_engine(workflow)


def internal_messages(workflow: BpmnWorkflow) -> set[str]:
    """Messages the process throws itself (to stop a review it is replacing, say): they are
    not for anyone outside to send, so they are neither listed as awaited nor delivered."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    return {definition.name for spec in specs for task_spec in spec.task_specs.values()
            if isinstance(task_spec, ThrowingEvent)
            and isinstance(definition := getattr(task_spec, "event_definition", None),
                           BaseMessageEventDefinition) and definition.name}


def _message_names(definition: Any) -> set[str]:
    """The messages an event waits for; an event-based gateway waits for all of its events."""
    if isinstance(definition, MultipleEventDefinition):
        return {name for item in definition.event_definitions for name in _message_names(item)}
    if isinstance(definition, BaseMessageEventDefinition) and definition.name:
        return {definition.name}
    return set()


def waiting_messages(workflow: BpmnWorkflow) -> set[str]:
    names = {name for task in workflow.event_manager.tasks.values()
             for name in _message_names(getattr(task.task_spec, "event_definition", None))}
    return names - internal_messages(workflow) if names else names


def deliver_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> Step:
    """Catch a message sent from outside; the payload is merged into the catching task's data.

    A catching event with a message variable (`spiffworkflow:messageVariable`) gets the payload
    under that name instead.
    """
    catching = [task for task in workflow.event_manager.tasks.values()
                if name in _message_names(getattr(task.task_spec, "event_definition", None))]
    if not catching or name in internal_messages(workflow):
        raise NoMatchingEvent(name)
    for task in catching:
        if getattr(task.task_spec.event_definition, "message_var", None) is None:
            task.data.update(payload)
            # A waiting event takes its parent's data again when it fires, and a value the path
            # already had (the advice of an earlier wait, a former escalation's grade) would
            # then win over the message's: the path has the message's data from here on.
            if task.parent is not None:
                task.parent.data.update(payload)
    try:
        workflow.catch(BpmnEvent(MessageEventDefinition(name), payload))
    except (SpiffWorkflowException, Exception) as exc:
        raise _translate(exc, catching[0]) from exc
    return run_engine(workflow)


def errored_tasks(workflow: BpmnWorkflow) -> list[Task]:
    errored: list[Task] = workflow.get_tasks(state=TaskState.ERROR)  # untyped SpiffWorkflow
    return errored


def retry(workflow: BpmnWorkflow, data: dict[str, Any] | None = None) -> Step:
    """Put every failed task back to ready, with corrected data if given, and run again."""
    for task in errored_tasks(workflow):
        # SpiffWorkflow's own way to run a task again: its branch is reset, and as its parent
        # has finished it is ready at once, with its parent's data; the corrections go on top.
        workflow.reset_from_task_id(task.id)
        if data:
            task.data.update(data)
    return run_engine(workflow)


def ready_tasks(workflow: BpmnWorkflow) -> list[ReadyTask]:
    tasks: list[ReadyTask] = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        spec = task.task_spec
        extensions = getattr(spec, "extensions", {}) or {}
        properties = extensions.get("properties", {}) or {}
        agency = task.data.get("agency") if spec.lane == AGENCY_LANE else None
        readable = _declared_reads(properties)
        tasks.append(ReadyTask(
            due_at=_due_at(task, properties),
            id=str(task.id),
            bpmn_id=spec.bpmn_id,
            title=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            form=properties.get(FORM_PROPERTY),
            instructions=instructions.render(extensions.get("instructionsForEndUser"), {
                key: value for key, value in task.data.items() if key in readable}),
            agency=agency if isinstance(agency, str) else None,
            process=task.workflow.spec.name,
        ))
    return tasks


def reads(task: Task) -> frozenset[str]:
    """The data keys the task's BPMN declares it reads (`READS_PROPERTY`)."""
    extensions = getattr(task.task_spec, "extensions", {}) or {}
    return _declared_reads(extensions.get("properties", {}) or {})


def _declared_reads(properties: dict[str, str]) -> frozenset[str]:
    value = properties.get(READS_PROPERTY) or ""
    return frozenset(key.strip() for key in value.split(",") if key.strip())


def _due_at(task: Task, properties: dict[str, str]) -> dt.datetime | None:
    """When a user task is due, from one of its properties.

    `dueIn` an ISO duration from now (`P5D`, `PT48H`); `dueInWorkingDays` a number of working days
    from now; `dueDate` an expression giving a date or date-time (`report_due`,
    `add_months(referred_on, 1)`). A date alone is due at the end of that day (UTC).
    """
    engine = task.workflow.script_engine
    if not isinstance(engine, ReviewflowScriptEngine):
        return None
    spec = task.task_spec
    try:
        if properties.get("dueIn"):
            parsed = TimerEventDefinition.parse_iso_duration(properties["dueIn"].strip())
            now = engine.now()
            delta: dt.timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, now)
            return now + delta
        if properties.get("dueInWorkingDays"):
            days = engine.evaluate(task, properties["dueInWorkingDays"])
            result = engine.calendar.add_working_days(engine.now(), int(days))
            return result if isinstance(result, dt.datetime) else None
        if properties.get("dueDate"):
            return _as_due(engine.evaluate(task, properties["dueDate"]))
    except (SpiffWorkflowException, Exception) as exc:
        raise StepFailed(f"the task's due date cannot be worked out: {exc}", spec.bpmn_id,
                         spec.bpmn_name) from exc
    return None


def _as_due(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str | dt.date):
        raise ValueError(f"expected a date, got {value!r}")
    return due_moment(value)


def status(workflow: BpmnWorkflow) -> str:
    """`completed`; `running` while people have tasks; `waiting` when only events can move it."""
    if workflow.completed or workflow.is_completed():
        return "completed"
    if workflow.get_tasks(state=TaskState.READY, manual=True):
        return "running"
    return "waiting"


def status_and_ready(workflow: BpmnWorkflow) -> tuple[str, list[ReadyTask]]:
    """`status` and `ready_tasks` together, walking the task tree once."""
    if workflow.completed or workflow.is_completed():
        return "completed", []
    ready = ready_tasks(workflow)
    return ("running" if ready else "waiting"), ready


def data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process data as of the last completed task."""
    if workflow.is_completed():
        return dict(workflow.data)
    last = workflow.last_task
    if last is None:
        start = workflow.get_tasks(state=TaskState.FINISHED_MASK | TaskState.READY)
        return dict(start[0].data) if start else {}
    return {k: v for k, v in last.data.items()}


def subprocess_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """What the active subprocesses (call activities) have collected so far."""
    collected: dict[str, Any] = {}
    for subprocess in workflow.get_active_subprocesses():
        finished = subprocess.get_tasks(state=TaskState.COMPLETED)
        for task in sorted(finished, key=lambda t: t.last_state_change):
            collected.update(task.data)
    return collected


@dataclass(frozen=True)
class ElementStates:
    """Which BPMN elements of the top-level process have run, are active, or wait for an event."""

    completed: frozenset[str]
    active: frozenset[str]
    waiting: frozenset[str]


def element_states(workflow: BpmnWorkflow) -> ElementStates:
    """A call activity or sub-process counts as active while anything inside it is."""
    completed: set[str] = set()
    active: set[str] = set()
    waiting: set[str] = set()
    for task in workflow.get_tasks(skip_subprocesses=True):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        if task.has_state(TaskState.COMPLETED):
            completed.add(bpmn_id)
        elif task.has_state(TaskState.READY | TaskState.STARTED | TaskState.ERROR):
            active.add(bpmn_id)
        elif task.has_state(TaskState.WAITING):
            waiting.add(bpmn_id)
    return ElementStates(frozenset(completed - active), frozenset(active),
                         frozenset(waiting - active))


def cancel(workflow: BpmnWorkflow) -> None:
    workflow.cancel()
