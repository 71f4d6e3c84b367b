"""Timer literals and working-day helpers, checked against SpiffWorkflow's real parser and timers.

SpiffWorkflow compares timers with its own wall clock (datetime.now), so the BPMN tests use due
dates far in the future (2037) to keep the timer waiting, and bound relative durations by the
wall clock read around the step.
"""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from app.clock import ManualClock
from app.engine.calendar import WorkingCalendar
from app.engine.timer_expressions import (
    expression_helpers,
    is_iso_timer_literal,
    normalize_timer_expression,
    rewrite_timer_literals,
    working_days_duration,
    working_days_from,
)

CAL = WorkingCalendar()

# Normalization ---------------------------------------------------------------------------------

DURATIONS = ["PT2H", "P5D", "PT3S", "P1W", "P1Y2M3DT4H5M6S", "PT0.5S", "P1M", "PT90M", "P1DT12H"]
DATE_TIMES = [
    "2026-12-01T09:00:00Z",
    "2026-12-01T09:00:00+01:00",
    "2026-12-01T09:00:00.123Z",
    "2026-12-01T09:00Z",
    "2026-12-01T09:00:00",
    "2026-12-01",
    "20261201T090000Z",
    "2026-W49-2T09:00:00Z",
]
CYCLES = [
    "R3/P1D",
    "R3/PT1H",
    "R/PT1H",
    "R3/2026-12-01T09:00:00Z/P1D",
    "R2/P1D/2026-12-10T09:00:00Z",
    "R5/20261201T090000Z/PT30M",
]


@pytest.mark.parametrize("literal", DURATIONS + DATE_TIMES + CYCLES)
def test_iso_literals_are_quoted(literal: str) -> None:
    assert is_iso_timer_literal(literal)
    assert normalize_timer_expression(literal) == f'"{literal}"'
    assert normalize_timer_expression(f"\n        {literal}\n      ") == f'"{literal}"'
    assert eval(normalize_timer_expression(literal)) == literal


@pytest.mark.parametrize("literal", DURATIONS)
def test_quoted_durations_are_what_spiffworkflow_parses(literal: str) -> None:
    parsed = TimerEventDefinition.parse_iso_duration(eval(normalize_timer_expression(literal)))
    assert TimerEventDefinition.get_timedelta_from_start(parsed) > dt.timedelta(0)


# A date alone is taken at midnight in the server's zone, so its UTC date may differ: left out.
@pytest.mark.parametrize("literal", [d for d in DATE_TIMES if d != "2026-12-01"])
def test_quoted_date_times_are_what_spiffworkflow_parses(literal: str) -> None:
    parsed = TimerEventDefinition.parse_time_or_duration(eval(normalize_timer_expression(literal)))
    assert isinstance(parsed, dt.datetime)
    assert parsed.date() == dt.date(2026, 12, 1)


@pytest.mark.parametrize("literal", CYCLES)
def test_quoted_cycles_are_what_spiffworkflow_parses(literal: str) -> None:
    expression = eval(normalize_timer_expression(literal))
    cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
    assert cycles in (-1, 2, 3, 5)
    assert isinstance(start, dt.datetime)
    assert duration > dt.timedelta(0)


def test_a_bare_date_would_be_arithmetic() -> None:
    assert eval("2026-12-31") == 1983  # why date literals must be quoted too
    assert normalize_timer_expression("2026-12-31") == '"2026-12-31"'


@pytest.mark.parametrize(
    "expression",
    [
        '"PT2H"',
        "'PT2H'",
        '"R3/PT1H"',
        "add_working_days(decision_date, 15)",
        "working_days_from(notified_on, 5)",
        "deadline",
        'deadline or "P1D"',
        "p5d",  # lower case: could be a variable
        "P",
        "PT",
        "P1DT",
        "R3",
        "2026-12-01T09:00:00Z/2026-12-02T09:00:00Z",  # an interval without R is not a timer form
        "",
    ],
)
def test_expressions_are_left_alone(expression: str) -> None:
    assert not is_iso_timer_literal(expression)
    assert normalize_timer_expression(expression) == expression


def test_expressions_lose_surrounding_whitespace_only() -> None:
    assert normalize_timer_expression("\n  add_days(d, 1)\n") == "add_days(d, 1)"
    assert normalize_timer_expression('  "PT2H" ') == '"PT2H"'


# A small BPMN ----------------------------------------------------------------------------------

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def timer_bpmn(kind: str, text: str) -> bytes:
    """Start -> intermediate timer catch event -> end, pretty-printed as a modeller would."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="timer_process" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Wait" />
    <bpmn:intermediateCatchEvent id="Wait" name="Wait for it">
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerEventDefinition_1">
        <bpmn:{kind} xsi:type="bpmn:tFormalExpression">{text}</bpmn:{kind}>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Wait" targetRef="EndEvent_1" />
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def start_workflow(
    root: etree._Element, data: dict | None = None, clock: ManualClock | None = None
) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_xml(root.getroottree(), filename="timer.bpmn")
    spec = parser.get_spec("timer_process")
    helpers = expression_helpers(CAL, now=clock.now if clock else None)
    engine = PythonScriptEngine(environment=TaskDataEnvironment(helpers))
    workflow = BpmnWorkflow(spec, script_engine=engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data or {})
    workflow.do_engine_steps()
    return workflow


def waiting(workflow: BpmnWorkflow) -> list[tuple[str, str, object]]:
    return [(e.name, e.event_type, e.value) for e in workflow.waiting_events()]


def test_rewrite_timer_literals_in_a_tree() -> None:
    root = etree.fromstring(timer_bpmn("timeDuration", "PT2H"))
    assert rewrite_timer_literals(root) == ["Wait"]
    text = root.find(f".//{{{BPMN}}}timeDuration").text
    assert text == '"PT2H"'
    assert rewrite_timer_literals(root) == []  # idempotent
    assert rewrite_timer_literals(root.getroottree()) == []


def test_rewrite_leaves_expressions_but_trims_them() -> None:
    root = etree.fromstring(timer_bpmn("timeDate", "\n  add_working_days(decision_date, 5)\n"))
    assert rewrite_timer_literals(root) == ["Wait"]
    assert root.find(f".//{{{BPMN}}}timeDate").text == "add_working_days(decision_date, 5)"
    root = etree.fromstring(timer_bpmn("timeDate", "deadline"))
    assert rewrite_timer_literals(root) == []


def test_rewrite_finds_every_kind_and_boundary_events() -> None:
    xml = f"""<bpmn:definitions xmlns:bpmn="{BPMN}" id="d">
      <bpmn:process id="p" isExecutable="true">
        <bpmn:boundaryEvent id="Overdue" attachedToRef="Task">
          <bpmn:timerEventDefinition><bpmn:timeDate>2026-12-01</bpmn:timeDate>
          </bpmn:timerEventDefinition>
        </bpmn:boundaryEvent>
        <bpmn:startEvent id="Daily">
          <bpmn:timerEventDefinition><bpmn:timeCycle>R/P1D</bpmn:timeCycle>
          </bpmn:timerEventDefinition>
        </bpmn:startEvent>
        <bpmn:intermediateCatchEvent id="Quoted">
          <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration>
          </bpmn:timerEventDefinition>
        </bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="Empty">
          <bpmn:timerEventDefinition><bpmn:timeDuration/></bpmn:timerEventDefinition>
        </bpmn:intermediateCatchEvent>
      </bpmn:process>
    </bpmn:definitions>"""
    root = etree.fromstring(xml)
    assert rewrite_timer_literals(root) == ["Overdue", "Daily"]
    assert root.find(f".//{{{BPMN}}}timeCycle").text == '"R/P1D"'


def test_plain_literal_fails_in_spiffworkflow_without_rewriting() -> None:
    root = etree.fromstring(timer_bpmn("timeDuration", "PT2H"))
    with pytest.raises(SpiffWorkflowException, match="Error evaluating expression"):
        start_workflow(root)


def test_duration_literal_waits_two_hours() -> None:
    root = etree.fromstring(timer_bpmn("timeDuration", "PT2H"))
    rewrite_timer_literals(root)
    before = dt.datetime.now(dt.UTC)
    workflow = start_workflow(root)
    after = dt.datetime.now(dt.UTC)
    [(name, kind, value)] = waiting(workflow)
    assert (name, kind) == ("Wait for it", "DurationTimerEventDefinition")
    due = dt.datetime.fromisoformat(value)
    assert before + dt.timedelta(hours=2) <= due <= after + dt.timedelta(hours=2)
    assert not workflow.is_completed()


def test_date_timer_in_working_days_from_process_data() -> None:
    root = etree.fromstring(timer_bpmn("timeDate", "add_working_days(decision_date, 5)"))
    assert rewrite_timer_literals(root) == []
    # Friday 18 December 2037; Christmas Day is a Friday and Boxing Day's substitute a Monday.
    workflow = start_workflow(root, {"decision_date": "2037-12-18T10:00:00Z"})
    assert waiting(workflow) == [("Wait for it", "TimeDateEventDefinition", "2037-12-29T10:00:00Z")]


def test_working_days_from_a_date_gives_an_aware_date_time() -> None:
    root = etree.fromstring(timer_bpmn("timeDate", "working_days_from(notified_on, 15)"))
    workflow = start_workflow(root, {"notified_on": "2037-12-14"})
    # 15-18, 21-24, 29-31 December, 4-7 January (1 January is a Friday).
    assert waiting(workflow) == [("Wait for it", "TimeDateEventDefinition", "2038-01-07T00:00:00Z")]


def test_date_literal_timer() -> None:
    root = etree.fromstring(timer_bpmn("timeDate", "2037-12-01T09:00:00Z"))
    assert rewrite_timer_literals(root) == ["Wait"]
    workflow = start_workflow(root)
    assert waiting(workflow) == [("Wait for it", "TimeDateEventDefinition", "2037-12-01T09:00:00Z")]


def test_cycle_literal_timer() -> None:
    root = etree.fromstring(timer_bpmn("timeCycle", "R3/2037-12-01T09:00:00Z/P1D"))
    rewrite_timer_literals(root)
    workflow = start_workflow(root)
    assert waiting(workflow) == [
        ("Wait for it", "CycleTimerEventDefinition", "2037-12-01T09:00:00+00:00")
    ]


def test_a_past_due_date_fires_at_once() -> None:
    root = etree.fromstring(timer_bpmn("timeDate", "add_working_days(decision_date, 1)"))
    workflow = start_workflow(root, {"decision_date": "2020-12-24T09:00:00Z"})
    assert waiting(workflow) == []
    assert workflow.is_completed()


def test_working_days_duration_with_an_injected_clock() -> None:
    clock = ManualClock(dt.datetime(2026, 12, 24, 9, 0, tzinfo=dt.UTC))  # Christmas Eve
    assert working_days_duration(CAL, clock.now(), 1) == "P5D"  # to Tuesday 29 December
    root = etree.fromstring(timer_bpmn("timeDuration", "working_days_duration(1)"))
    before = dt.datetime.now(dt.UTC)
    workflow = start_workflow(root, clock=clock)
    after = dt.datetime.now(dt.UTC)
    [(_, kind, value)] = waiting(workflow)
    assert kind == "DurationTimerEventDefinition"
    due = dt.datetime.fromisoformat(value)  # SpiffWorkflow adds it to its own wall clock
    assert before + dt.timedelta(days=5) <= due <= after + dt.timedelta(days=5)


# Helpers ---------------------------------------------------------------------------------------


def test_helpers_without_a_clock_read_no_clock() -> None:
    helpers = expression_helpers(CAL)
    assert set(helpers) == {
        "add_working_days",
        "add_days",
        "add_months",
        "working_days_between",
        "is_working_day",
        "working_days_from",
    }
    assert helpers["add_working_days"]("2026-12-24", 1) == "2026-12-29"
    assert helpers["add_months"]("2026-01-31", 1) == "2026-02-28"
    assert helpers["add_days"]("2026-12-31", 1) == "2027-01-01"
    assert helpers["working_days_between"]("2026-12-21", "2027-01-04") == 7
    assert helpers["is_working_day"]("2026-12-28") is False
    assert helpers["working_days_from"]("2026-12-24T10:00:00+01:00", 1) == (
        "2026-12-29T10:00:00+01:00"
    )


def test_helpers_with_an_injected_clock() -> None:
    clock = ManualClock(dt.datetime(2026, 3, 6, 16, 30, tzinfo=dt.UTC))
    helpers = expression_helpers(CAL, now=clock.now)
    assert helpers["now"]() == "2026-03-06T16:30:00Z"
    assert helpers["today"]() == "2026-03-06"
    assert helpers["working_days_duration"](1) == "P3D"
    clock.advance(dt.timedelta(days=1))
    assert helpers["today"]() == "2026-03-07"
    assert helpers["working_days_duration"](0) == "P2D"  # Saturday: Monday is day 0


def test_working_days_from_variants() -> None:
    assert working_days_from(CAL, dt.date(2026, 12, 24), 1) == "2026-12-29T00:00:00Z"
    assert working_days_from(CAL, "2026-12-24T10:00:00", 1) == "2026-12-29T10:00:00Z"  # naive=UTC
    assert working_days_from(CAL, dt.datetime(2026, 12, 24, 10, tzinfo=dt.UTC), 1) == (
        "2026-12-29T10:00:00Z"
    )


def test_helpers_in_a_script_keep_task_data_json() -> None:
    engine = PythonScriptEngine(environment=TaskDataEnvironment(expression_helpers(CAL)))
    context = {"notified_on": "2026-12-14"}
    engine.environment.execute(
        "deadline = add_working_days(notified_on, 15)\ndecision_due = add_months(notified_on, 1)\n",
        context,
    )
    assert context == {
        "notified_on": "2026-12-14",
        "deadline": "2027-01-07",
        "decision_due": "2027-01-14",
    }
