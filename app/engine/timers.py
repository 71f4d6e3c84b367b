"""Timer events that read the injected clock, and when each waiting timer is due.

SpiffWorkflow's timer definitions compare due times with the wall clock. These subclasses ask the
workflow's script engine for "now" instead, so tests move time and the worker decides what is due.
They replace SpiffWorkflow's classes through the parser's class map and the serializer registry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from SpiffWorkflow.bpmn.parser.event_parsers import EventDefinitionParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.task import Task


def _now(task: Task) -> dt.datetime:
    now = getattr(task.workflow.script_engine, "now", None)
    return now() if callable(now) else dt.datetime.now(dt.UTC)


class ClockedTimeDate(TimeDateEventDefinition):
    def has_fired(self, my_task: Task) -> bool:
        value = my_task.internal_data.get("event_value")
        if value is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task.internal_data["event_value"] = value
        if TimerEventDefinition.parse_time_or_duration(value) <= _now(my_task):
            my_task.internal_data["event_fired"] = True
        return bool(my_task.internal_data.get("event_fired", False))


class ClockedDuration(DurationTimerEventDefinition):
    def has_fired(self, my_task: Task) -> bool:
        value = my_task.internal_data.get("event_value")
        if value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            start = _now(my_task)
            value = (start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
                     ).isoformat()
            my_task.internal_data["event_value"] = value
        if TimerEventDefinition.get_datetime(value) <= _now(my_task):
            my_task.internal_data["event_fired"] = True
        return bool(my_task.internal_data.get("event_fired", False))


class ClockedCycle(CycleTimerEventDefinition):
    def cycle_complete(self, my_task: Task) -> bool:
        value = my_task.internal_data.get("event_value")
        now = _now(my_task)
        if value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _parse_cycle(expression, now)
            value = {"cycles": cycles, "next": start.isoformat(),
                     "duration": duration.total_seconds()}
        ready = False
        if value["cycles"] != 0:
            next_event = dt.datetime.fromisoformat(value["next"])
            if next_event <= now:
                value["next"] = (next_event + dt.timedelta(seconds=value["duration"])).isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task.internal_data["event_value"] = value
        return ready


def _parse_cycle(expression: str, now: dt.datetime) -> tuple[int, dt.datetime, dt.timedelta]:
    """SpiffWorkflow's parser, except that a bare interval starts from the injected now."""
    components = expression.upper().replace("--", "/").strip("R").split("/")
    if len(components) == 2 and components[1].startswith("P"):
        cycles = int(components[0]) if components[0] else -1
        parsed = TimerEventDefinition.parse_iso_duration(components[1])
        duration = TimerEventDefinition.get_timedelta_from_start(parsed, now)
        return cycles, now + duration, duration
    result: tuple[int, dt.datetime, dt.timedelta] = \
        TimerEventDefinition.parse_iso_recurring_interval(expression)
    return result


CLOCKED: dict[type, type] = {
    TimeDateEventDefinition: ClockedTimeDate,
    DurationTimerEventDefinition: ClockedDuration,
    CycleTimerEventDefinition: ClockedCycle,
}


class _ClockedTimerParsing(EventDefinitionParser):
    def parse_timer_event(self, event: Any) -> TimerEventDefinition:
        parsed = super().parse_timer_event(event)
        clocked = CLOCKED.get(type(parsed))
        if clocked is None:
            return parsed
        return clocked(parsed.name, parsed.expression, description=parsed.description)


class ClockedStartEventParser(_ClockedTimerParsing, SpiffStartEventParser):
    pass


class ClockedIntermediateCatchEventParser(_ClockedTimerParsing,
                                          SpiffIntermediateCatchEventParser):
    pass


class ClockedBoundaryEventParser(_ClockedTimerParsing, SpiffBoundaryEventParser):
    pass


PARSER_OVERRIDES = {
    full_tag("startEvent"): (ClockedStartEventParser, StartEvent),
    full_tag("intermediateCatchEvent"): (ClockedIntermediateCatchEventParser,
                                         IntermediateCatchEvent),
    full_tag("boundaryEvent"): (ClockedBoundaryEventParser, BoundaryEvent),
}


def due_at(task: Task) -> dt.datetime | None:
    """When a waiting timer event is next due, from what it stored when it started waiting.

    An event-based gateway waits for all of its events at once (SpiffWorkflow moves them onto
    the gateway): its timer is due as that one timer would be.
    """
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        due = [moment for item in definition.event_definitions
               if (moment := _due(task, item)) is not None]
        return min(due) if due else None
    return _due(task, definition)


def _due(task: Task, definition: Any) -> dt.datetime | None:
    value = task.internal_data.get("event_value")
    if not isinstance(definition, TimerEventDefinition) or value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return None
        return dt.datetime.fromisoformat(value["next"]).astimezone(dt.UTC)
    if isinstance(definition, DurationTimerEventDefinition):
        due: dt.datetime = TimerEventDefinition.get_datetime(value)  # SpiffWorkflow is untyped
        return due
    parsed = TimerEventDefinition.parse_time_or_duration(value)
    return parsed if isinstance(parsed, dt.datetime) else None
