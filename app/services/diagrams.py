"""Diagrams: a process version's diagram to draw, with an instance's progress or a heat view.

`app.rendering.diagram.draw` turns the result into SVG."""

from __future__ import annotations

from collections.abc import Mapping, Set

from sqlalchemy import func, or_, select

from app.auth import policy
from app.auth.principal import Principal
from app.db.models import HumanTask, ProcessInstance, ProcessVersion
from app.engine import runner
from app.engine.diagram import Diagram, NoDiagram, read_diagram
from app.engine.errors import InvalidDefinition
from app.engine.xml import parse_document
from app.services import deployments, instances, steps
from app.services.context import ServiceContext
from app.services.errors import NotFound


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
