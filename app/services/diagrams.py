"""Diagrams: a process version's diagram to draw, with an instance's progress or a heat view.

`app.rendering.diagram.draw` turns the result into SVG."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func, or_, select

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import HumanTask, ProcessInstance, ProcessVersion
from app.engine import runner
from app.engine.diagram import Diagram, NoDiagram, local_name, read_diagram
from app.engine.errors import InvalidDefinition
from app.engine.xml import parse_document
from app.services import cases, deployments, instances, steps
from app.services.context import ServiceContext
from app.services.errors import NotFound, Unreadable


def _read(source: bytes, version: ProcessVersion, *, completed: Set[str] = frozenset(),
          active: Set[str] = frozenset(), waiting: Set[str] = frozenset(),
          counts: Mapping[str, int] | None = None) -> Diagram:
    try:
        root = parse_document(source, version.source_file)
        return read_diagram(root, title=f"{version.name} (version {version.version})",
                            completed=completed, active=active, waiting=waiting, counts=counts)
    except (NoDiagram, InvalidDefinition) as exc:
        raise NotFound(f"'{version.source_file}' has no diagram to show: {exc}",
                       process_key=version.process_key) from None


def heat(ctx: ServiceContext, principal: Principal, key: str,
         version: int | None = None) -> dict[str, int]:
    """How many running instances wait at each user task of the process, counting only the
    tasks the principal may see (an agency lead learns nothing of other agencies' cases).

    A review route runs as a call activity of the referral, so its tasks are counted by the
    process they are drawn in, not by their instance's process. `version` filters the
    instances started from that version of the process; a called process's tasks are counted
    whatever the version (the referral's instance does not record which one it called)."""
    policy.require(principal, "read_definitions")
    drawn_in = func.coalesce(HumanTask.element_process, HumanTask.process_key)
    with ctx.uow(read_only=True) as uow:
        query = (select(HumanTask.bpmn_id, func.count(func.distinct(HumanTask.instance_id)))
                 .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                 .where(drawn_in == key, HumanTask.state == "ready",
                        policy.visible_tasks(principal))
                 .group_by(HumanTask.bpmn_id))
        if version is not None:
            query = query.where(or_(ProcessInstance.process_key != key,
                                    ProcessInstance.version == version))
        return {bpmn_id: count for bpmn_id, count in uow.session.execute(query).all()}


def definition_diagram(ctx: ServiceContext, principal: Principal, key: str,
                       version: int | None = None, with_heat: bool = True) -> Diagram:
    """The version's diagram (the latest when no version), with the heat view unless not."""
    policy.require(principal, "read_definitions")
    with ctx.uow(read_only=True) as uow:
        row = (deployments.get_version(uow, key, version) if version
               else deployments.latest_version(uow, key))
        source = deployments.version_source(uow, row)
    counts = heat(ctx, principal, key, row.version) if with_heat else None
    return _read(source, row, counts=counts)


def instance_diagram(ctx: ServiceContext, principal: Principal, instance_id: str) -> Diagram:
    """The instance's process, with completed, active and waiting elements highlighted."""
    policy.require(principal, "read_instances")
    with ctx.uow(read_only=True) as uow:
        instance = instances.get_row(uow, instance_id)
        row = uow.session.get(ProcessVersion, instance.process_version_id)
        if row is None:
            raise NotFound("the instance's process version is missing")
        source = deployments.version_source(uow, row)
        states = runner.element_states(steps.load_workflow(ctx, uow, instance))
    return _read(source, row, completed=set(states.completed), active=set(states.active),
                 waiting=set(states.waiting))


# ---- a case's diagrams: the referral and its review route's own -----------------------------

STEP_STATES = {"completed": "done", "active": "in progress", "waiting": "waiting"}
_STEP_KINDS = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask",
               "receiveTask", "manualTask", "callActivity", "subProcess", "transaction",
               "adHocSubProcess", "startEvent", "endEvent", "intermediateCatchEvent",
               "intermediateThrowEvent", "boundaryEvent"}


@dataclass(frozen=True)
class CaseProgress:
    """One process of a case, drawn with its state, and its steps so far in words: (name,
    "done" / "in progress" / "waiting"), finished ones first in the order they finished."""

    title: str
    diagram: Diagram
    steps: list[tuple[str, str]]


def _order(workflow: Any) -> dict[str, float]:
    """When each element of this (sub)workflow last changed state, to list steps in order."""
    order: dict[str, float] = {}
    for task in workflow.get_tasks(skip_subprocesses=True):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id:
            changed = float(getattr(task, "last_state_change", 0.0) or 0.0)
            order[bpmn_id] = max(order.get(bpmn_id, 0.0), changed)
    return order


def _steps(diagram: Diagram, order: Mapping[str, float]) -> list[tuple[str, str]]:
    found: list[tuple[int, float, str, str]] = []
    for rank, (state, ids) in enumerate((("completed", diagram.completed),
                                         ("active", diagram.active),
                                         ("waiting", diagram.waiting))):
        for element_id in ids:
            sem = diagram.lookup(element_id)
            if sem is None or local_name(sem) not in _STEP_KINDS:
                continue
            name = " ".join((sem.get("name") or "").split())
            if name:
                found.append((rank, order.get(element_id, 0.0), name, STEP_STATES[state]))
    found.sort(key=lambda item: (item[0], item[1], item[2]))
    return [(name, state) for _rank, _at, name, state in found]


def case_progress(ctx: ServiceContext, principal: Principal,
                  reference: str) -> list[CaseProgress]:
    """The case's referral process and the processes it called (its review route, the action
    plan's monitoring), each with its own state; nothing for people who may not see diagrams
    (an agency lead). `app.rendering.diagram_case.case_diagrams` draws them."""
    if not policy.is_case_reader(principal):
        return []
    view = cases.get(ctx, principal, reference)
    instance_id = view.case.referral_instance_id
    if not instance_id:
        return []
    found: list[CaseProgress] = []
    with ctx.uow(read_only=True) as uow:
        instance = instances.get_row(uow, instance_id)
        row = uow.session.get(ProcessVersion, instance.process_version_id)
        if row is None:
            return []
        try:
            workflow = steps.load_workflow(ctx, uow, instance)
        except Unreadable:  # the case page still shows; the operator restores the state
            return []
        states = runner.element_states(workflow)
        try:
            diagram = _read(deployments.version_source(uow, row), row,
                            completed=set(states.completed), active=set(states.active),
                            waiting=set(states.waiting))
            found.append(CaseProgress(row.name, diagram, _steps(diagram, _order(workflow))))
        except NotFound:
            pass
        # A called process (the review route) runs inside the referral's instance: its own
        # state is that of its subworkflow; a route called again shows its latest run.
        called: dict[str, Any] = {}
        for sub in cast(Any, workflow).subprocesses.values():
            name = getattr(sub.spec, "name", None)
            if not name:
                continue
            if name not in called or not sub.completed or called[name].completed:
                called[name] = sub
        for key, sub in called.items():
            try:
                version = deployments.latest_version(uow, key)
                source = deployments.version_source(uow, version)
            except NotFound:
                continue
            sub_states = runner.element_states(sub)
            try:
                diagram = _read(source, version, completed=set(sub_states.completed),
                                active=set(sub_states.active), waiting=set(sub_states.waiting))
            except NotFound:
                continue
            found.append(CaseProgress(version.name, diagram, _steps(diagram, _order(sub))))
    return found
