"""The RestrictedPython sandbox: ordinary process code works, escapes and runaway code do not.

Everything runs for real: RestrictedPython compiles, SpiffWorkflow parses and runs BPMN/DMN.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.task import TaskState

from app.engine.sandbox import (
    MAX_SEQUENCE_LENGTH,
    SandboxedEnvironment,
    SandboxedScriptEngine,
    ScriptLimitExceeded,
    ScriptNotAllowed,
    ScriptTimeout,
    build_sandboxed_engine,
    check_expression,
)

PROCESSES = Path(__file__).resolve().parents[2] / "processes"


def add_working_days(start: dt.date, days: int) -> dt.date:
    """A helper like the ones the app offers to process code."""
    current = start
    while days > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


HELPERS: dict[str, Any] = {"datetime": dt, "add_working_days": add_working_days}


@pytest.fixture
def env() -> SandboxedEnvironment:
    return SandboxedEnvironment(HELPERS)


def data() -> dict[str, Any]:
    return {
        "review_needed": True,
        "count": 3,
        "name": "  Alice Smith ",
        "agencies": ["police", "health"],
        "scores": {"risk": 4},
        "received": "2026-03-02",
    }


# ---------------------------------------------------------------- (a) ordinary code


@pytest.mark.parametrize(("expression", "expected"), [
    ("review_needed == True", True),
    ("count > 2 and not review_needed", False),
    ("count * 2 + 1", 7),
    ("count ** 2 % 5", 4),
    ("10 / 4", 2.5),
    ("name.strip().lower()", "alice smith"),
    ("name.strip().split()[0].upper()", "ALICE"),
    ("'{} agencies: {}'.format(len(agencies), ', '.join(agencies))", "2 agencies: police, health"),
    ("'{name}!'.format_map({'name': 'Bob'})", "Bob!"),
    ("f'{count:>3}|{name.strip()!r}'", "  3|'Alice Smith'"),
    ("'%s has %d' % (name.strip(), count)", "Alice Smith has 3"),
    ("[a.title() for a in agencies if a != 'police']", ["Health"]),
    ("{a: len(a) for a in agencies}", {"police": 6, "health": 6}),
    ("sorted(agencies, key=lambda a: -len(a) if a else 0)", ["police", "health"]),
    ("sum(i * i for i in range(4))", 14),
    ("max(scores.values()) if scores else 0", 4),
    ("'police' in agencies", True),
    ("scores['risk'] >= 4", True),
    ("globals().get('missing', 'default')", "default"),
    ("globals().get('count', 0)", 3),
    ("datetime.date.fromisoformat(received) + datetime.timedelta(days=7)", dt.date(2026, 3, 9)),
    ("add_working_days(datetime.date.fromisoformat(received), 5)", dt.date(2026, 3, 9)),
    ("list(map(str.upper, agencies))", ["POLICE", "HEALTH"]),
    ("isinstance(count, int) and abs(-count) == round(3.2)", True),
    ("dict(zip(['a', 'b'], [1, 2]))", {"a": 1, "b": 2}),
    ("list(reversed(agencies))", ["health", "police"]),
])
def test_expressions_work(env: SandboxedEnvironment, expression: str, expected: Any) -> None:
    assert env.evaluate(expression, data()) == expected


SCRIPT = """
total = 0
for agency in agencies:
    total += len(agency)
count += 1
label = "n=" + str(count)
label += "!"
agencies += ["education"]
agencies.append("housing")
scores["risk"] += 1
scores["levels"] = [s * 2 for s in range(3)]
del scores["levels"][0]
summary = {"who": name.strip().lower(), "when": "{:%d/%m/%Y}".format(
    datetime.date.fromisoformat(received))}
due = add_working_days(datetime.date.fromisoformat(received), 10)
a, (b, c) = 1, [2, 3]
def double(value):
    return value * 2
doubled = double(count)
pairs = [(i, j) for i in range(2) for j in range(2) if i != j]
try:
    broken = 1 / 0
except ZeroDivisionError as error:
    broken = str(error)
print("done", total)
"""


def test_script_reads_and_writes_task_data(env: SandboxedEnvironment) -> None:
    context = data()
    assert env.execute(SCRIPT, context) is True
    assert context["total"] == 12
    assert context["count"] == 4
    assert context["label"] == "n=4!"
    assert context["agencies"] == ["police", "health", "education", "housing"]
    assert context["scores"] == {"risk": 5, "levels": [2, 4]}
    assert context["summary"] == {"who": "alice smith", "when": "02/03/2026"}
    assert context["due"] == dt.date(2026, 3, 16)
    assert (context["a"], context["b"], context["c"]) == (1, 2, 3)
    assert context["doubled"] == 8
    assert context["pairs"] == [(0, 1), (1, 0)]
    assert context["broken"] == "division by zero"
    # functions, helpers, builtins and the sandbox's own names are not left in the data
    assert "double" not in context and "datetime" not in context
    assert "add_working_days" not in context and "__builtins__" not in context
    assert not [key for key in context if key.startswith("_")]


COMPATIBLE_SCRIPTS = [
    'decision = "review" if endorsed else "declined"',
    "per_record = 100 / answer_count",
    "x = 1\ny = x + 2\nitems = [x, y]\nitems.append(3)\nfound = 3 in items",
    "names = {'a': 1}\nnames['b'] = 2\nkeys = sorted(names)\ndef f(v):\n    return v\nz = f(1)",
    "total = 0\nfor i in range(5):\n    total += i\nmsg = 'total %d' % total",
]


@pytest.mark.parametrize("script", COMPATIBLE_SCRIPTS)
def test_scripts_leave_the_same_data_as_task_data_environment(script: str) -> None:
    initial = {"endorsed": True, "answer_count": 4, "_private_input": "kept"}
    expected, actual = copy.deepcopy(initial), copy.deepcopy(initial)
    TaskDataEnvironment({"datetime": dt}).execute(script, expected)
    SandboxedEnvironment({"datetime": dt}).execute(script, actual)
    assert actual == expected


def test_expressions_see_data_like_task_data_environment() -> None:
    context = {"count": 1, "datetime": "data wins over a global of the same name"}
    for environment in (TaskDataEnvironment({"datetime": dt}), SandboxedEnvironment(HELPERS)):
        assert environment.evaluate("count + extra", context, {"extra": 2}) == 3
        assert environment.evaluate("datetime", context) == context["datetime"]
    with pytest.raises(ValueError, match="overwrites a predefined function"):
        SandboxedEnvironment(HELPERS).execute("x = 1", {"add_working_days": 1})


def test_data_named_like_a_refused_builtin_still_works(env: SandboxedEnvironment) -> None:
    assert env.evaluate("type == 'full' and input == 2", {"type": "full", "input": 2})


def test_compiled_code_is_cached() -> None:
    from app.engine.sandbox.compiling import _compile

    source = "cached_value_7 + 1"
    env = SandboxedEnvironment()
    env.evaluate(source, {"cached_value_7": 1})
    before = _compile.cache_info()
    for _ in range(5):
        env.evaluate(source, {"cached_value_7": 1})
    after = _compile.cache_info()
    assert after.hits - before.hits == 5 and after.misses == before.misses
    assert after.maxsize is not None


# ---------------------------------------------------------------- (b) escape attempts

ESCAPES = [
    ("import os", "exec", "import statements are not allowed (line 1)"),
    ("x = 1\nfrom os import path", "exec", "import statements are not allowed (line 2)"),
    ("__import__('os').system('id')", "eval", 'the name "__import__" is not allowed'),
    ("().__class__.__mro__", "eval", 'private attribute "__class__" is not allowed'),
    ("().__class__.__bases__[0].__subclasses__()", "eval",
     'private attribute "__subclasses__" is not allowed'),
    ("open('/etc/passwd').read()", "eval", "open() is not allowed"),
    ("eval('1 + 1')", "eval", "eval() is not allowed"),
    ("exec('x = 1')", "exec", "exec() is not allowed"),
    ("compile('1', 'f', 'eval')", "eval", "compile() is not allowed"),
    ("locals()", "eval", "locals() is not allowed"),
    ("vars(count)", "eval", "vars() is not allowed"),
    ("type(count)", "eval", "type() is not allowed"),
    ("getattr(count, '__class__')", "eval", 'private attribute "__class__" is not allowed'),
    ("getattr(add_working_days, '__globals__')", "eval",
     'private attribute "__globals__" is not allowed'),
    ("add_working_days.__globals__", "eval", 'private attribute "__globals__" is not allowed'),
    ("(lambda: 1).__code__", "eval", 'private attribute "__code__" is not allowed'),
    ("getattr(lambda: 1, '__code__')", "eval", 'private attribute "__code__" is not allowed'),
    ("hasattr(count, '_secret')", "eval", 'private attribute "_secret" is not allowed'),
    ("'{0.__class__}'.format(count)", "eval", 'private attribute "__class__" is not allowed'),
    ("'{0.__class__.__mro__}'.format(count)", "eval", 'private attribute "__class__"'),
    ("'{x.__init__.__globals__}'.format_map({'x': add_working_days})", "eval",
     'private attribute "__init__"'),
    ("str.format('{0.__class__}', count)", "eval", 'private attribute "__class__"'),
    ("f'{count.__class__}'", "eval", 'private attribute "__class__" is not allowed'),
    ("(x for x in []).gi_frame", "eval", 'the attribute "gi_frame" is not allowed'),
    ("class A:\n    pass", "exec", "class definitions are not allowed (line 1)"),
    ("datetime.date = None", "exec", "changing a Namespace object is not allowed"),
    ("setattr(datetime, 'date', None)", "exec", "setattr() is not allowed"),
    ("_secret = 1", "exec", 'the name "_secret" is not allowed'),
    ("x = __builtins__", "exec", 'the name "__builtins__" is not allowed'),
    ("nonlocal x", "exec", "nonlocal statements are not allowed"),
]


@pytest.mark.parametrize(("code", "mode", "message"), ESCAPES)
def test_escape_attempts_fail_with_a_clear_message(env: SandboxedEnvironment, code: str,
                                                   mode: str, message: str) -> None:
    context = data()
    before = copy.deepcopy(context)
    with pytest.raises(ScriptNotAllowed) as caught:
        if mode == "eval":
            env.evaluate(code, context)
        else:
            env.execute(code, context)
    assert message in str(caught.value)
    assert "not allowed" in str(caught.value)
    assert context == before


def test_rejected_script_runs_nothing(env: SandboxedEnvironment, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    attempts = [
        f"marker = 1\nimport os\nos.system('touch {target}')",
        f"marker = 1\nopen('{target}', 'w').write('x')",
        f"marker = 1\n__import__('os').system('touch {target}')",
        f"marker = 1\ngetattr(add_working_days, '__globals__')['os'].system('touch {target}')",
        f"marker = 1\n'{{0.__globals__[os]}}'.format(add_working_days).system('touch {target}')",
    ]
    for script in attempts:
        context: dict[str, Any] = {}
        with pytest.raises(ScriptNotAllowed, match="not allowed"):
            env.execute(script, context)
        assert not target.exists()
    # compile-time refusals leave the data untouched: the first line did not run either
    context = {}
    with pytest.raises(ScriptNotAllowed):
        env.execute(attempts[0], context)
    assert context == {}


def test_modules_are_offered_as_namespaces_without_their_modules(
        env: SandboxedEnvironment) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'sys'"):
        env.evaluate("datetime.sys", {})  # the real datetime module has datetime.sys
    assert env.evaluate("datetime.datetime(2026, 1, 1).year", {}) == 2026


@pytest.mark.parametrize(("code", "message"), [
    ("'a' * 10**10", "the repeated sequence would be too large"),
    ("[0] * (10**7)", "the repeated sequence would be too large"),
    ("10**10**10", "the number would be too large"),
    ("1 << 10**10", "the number would be too large"),
    ("pow(7, 10**9)", "the number would be too large"),
    ("range(10**12)", "the range would be too large"),
    ("'a'.ljust(10**10)", "the padded text would be too large"),
    ("str.center('a', 10**10)", "the padded text would be too large"),
    ("('a' * 1000).replace('a', 'b' * 100000)", "the replaced text would be too large"),
    ("('a' * 100000).join(['x'] * 100)", "the joined text would be too large"),
    ("'{:>9999999999}'.format(1)", "format width or precision 9999999999 is too large"),
    ("'{:{}}'.format(1, 10**9)", "format width or precision 1000000000 is too large"),
    ("f'{count:>{10**10}}'", "format width or precision 10000000000 is too large"),
    ("format(count, '099999999')", "is too large"),
    ("'%9999999999d' % count", "format width or precision 9999999999 is too large"),
    ("(1).to_bytes(10**10, 'big')", "the bytes would be too large"),
    ("round(5, -10**9)", "round() with more than 1,000 digits"),
    ("sum([[0] * 1000] * 10000, [])", "the sum would be too large"),
])
def test_oversized_values_are_refused(env: SandboxedEnvironment, code: str,
                                      message: str) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match=r"too large|not allowed") as caught:
        env.evaluate(code, {"count": 3})
    assert message in str(caught.value)
    assert time.monotonic() - started < 1


def test_in_place_operators_are_checked_too(env: SandboxedEnvironment) -> None:
    with pytest.raises(ScriptLimitExceeded):
        env.execute("text = 'a'\ntext *= 10**10", {})
    with pytest.raises(ScriptLimitExceeded):
        env.execute("n = 10\nn **= 10**10", {})
    assert len(env.evaluate("'a' * limit", {"limit": MAX_SEQUENCE_LENGTH})) == MAX_SEQUENCE_LENGTH


def test_check_expression_reports_problems_without_running() -> None:
    assert check_expression("review_needed == True", "eval") == []
    assert check_expression("x = 1\nimport os", "exec") == [
        "import statements are not allowed (line 2)"]
    assert check_expression("open('/etc/passwd')", "eval") == []  # refused only when run
    problems = check_expression("x.__class__\ny = (", "exec")
    assert len(problems) == 1 and problems[0].startswith("syntax error")
    assert check_expression("a ==", "eval")[0].startswith("syntax error")
    assert check_expression("().__class__", "eval") == [
        'access to the private attribute "__class__" is not allowed '
        '(names starting with "_" are off limits) (line 1)']
    with pytest.raises(ValueError):
        check_expression("1", "single")  # type: ignore[arg-type]


# ---------------------------------------------------------------- (c) run time


RUNAWAY = [
    ("while True: pass", "exec"),
    ("while True:\n    try:\n        while True:\n            pass\n    except:\n        pass",
     "exec"),
    ("try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass", "exec"),
    ("while True:\n    try:\n        x = 1\n    except Exception:\n        pass", "exec"),
    ("def f(n):\n    return 0 if n == 0 else f(n - 1) + f(n - 1)\nf(100)", "exec"),
    ("f = lambda n: 0 if n == 0 else f(n - 1) + f(n - 1)\nf(100)", "exec"),
    ("def gen():\n    while True:\n        yield 1\nfor _ in gen():\n    pass", "exec"),
    ("any(False for i in range(10**6) for j in range(10**6))", "eval"),
    ("sum(map(sum, [range(10**6)] * 10**6))", "eval"),
    ("add_working_days(datetime.date(2026, 1, 1), 10**9)", "eval"),
]


@pytest.mark.parametrize(("code", "mode"), RUNAWAY)
def test_runaway_code_stops_within_the_time_limit(code: str, mode: str) -> None:
    limit = 0.3
    env = SandboxedEnvironment(HELPERS, time_limit=limit)
    started = time.monotonic()
    with pytest.raises(ScriptTimeout, match=r"ran for longer than the time limit of 0\.3 seconds"):
        if mode == "eval":
            env.evaluate(code, {})
        else:
            env.execute(code, {})
    assert time.monotonic() - started < limit + 1.0


class Calendar:
    def __init__(self) -> None:
        self.holidays: set[dt.date] = set()

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        return add_working_days(start, days)


def test_bound_method_helpers_are_interrupted_too() -> None:
    calendar = Calendar()
    env = SandboxedEnvironment({"add": calendar.add_working_days}, time_limit=0.3)
    assert env.evaluate("add(start, 1)", {"start": dt.date(2026, 3, 6)}) == dt.date(2026, 3, 9)
    started = time.monotonic()
    with pytest.raises(ScriptTimeout):
        env.evaluate("add(start, 10**9)", {"start": dt.date(2026, 3, 6)})
    assert time.monotonic() - started < 1.3
    with pytest.raises(ScriptNotAllowed, match='"__self__"'):
        env.evaluate("getattr(add, '__self__')", {})
    # outside a sandbox run the wrapped helper is an ordinary function
    assert env.globals["add"](dt.date(2026, 3, 6), 1) == dt.date(2026, 3, 9)


def test_infinite_loop_in_a_script_task_names_the_task_and_line() -> None:
    workflow = make_workflow("score = 1\nwhile True:\n    pass", time_limit=0.3)
    started = time.monotonic()
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert time.monotonic() - started < 1.3
    assert caught.value.task.task_spec.bpmn_id == "score"
    assert caught.value.line_number == 2
    assert "ran for longer than the time limit" in str(caught.value)


def test_the_default_time_limit_is_two_seconds() -> None:
    engine = build_sandboxed_engine()
    assert isinstance(engine, SandboxedScriptEngine)
    assert engine.environment.time_limit == 2.0
    with pytest.raises(ValueError):
        SandboxedEnvironment(time_limit=0)


# ---------------------------------------------------------------- (d) real BPMN/DMN

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="sandbox_defs" targetNamespace="http://reviewflow.example/test">
  <bpmn:process id="sandbox_process" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="score" name="Score the referral">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gate" name="High score?" default="f_low">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f_high</bpmn:outgoing>
      <bpmn:outgoing>f_low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_high"><bpmn:incoming>f_high</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_low"><bpmn:incoming>f_low</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="score" />
    <bpmn:sequenceFlow id="f2" sourceRef="score" targetRef="gate" />
    <bpmn:sequenceFlow id="f_high" sourceRef="gate" targetRef="end_high">
      <bpmn:conditionExpression>CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_low" sourceRef="gate" targetRef="end_low" />
  </bpmn:process>
</bpmn:definitions>
"""


def make_workflow(script: str, condition: str = "score &gt; 10", time_limit: float = 2.0,
                  initial: dict[str, Any] | None = None) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    xml = BPMN.replace("SCRIPT", script).replace("CONDITION", condition)
    parser.add_bpmn_str(xml.encode(), filename="sandbox.bpmn")
    spec = parser.get_spec("sandbox_process")
    engine = build_sandboxed_engine(HELPERS, time_limit=time_limit)
    workflow = BpmnWorkflow(spec, script_engine=engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(initial or {})
    return workflow


def path_of(workflow: BpmnWorkflow) -> list[str]:
    return [task.task_spec.bpmn_id for task in workflow.get_tasks(state=TaskState.COMPLETED)
            if task.task_spec.bpmn_id]


@pytest.mark.parametrize(("values", "end"), [([3, 4], "end_high"), ([1, 2], "end_low")])
def test_bpmn_script_and_gateway_run_in_the_sandbox(values: list[int], end: str) -> None:
    script = ("score = sum(v * 2 for v in values)\n"
              "due = add_working_days(datetime.date(2026, 3, 6), 1).isoformat()")
    workflow = make_workflow(script, initial={"values": values})
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data["score"] == sum(values) * 2
    assert workflow.data["due"] == "2026-03-09"
    assert path_of(workflow) == ["start", "score", "gate", end]


def test_bpmn_script_with_import_fails_naming_the_task() -> None:
    workflow = make_workflow("import os\nscore = 1")
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    error = caught.value
    assert error.task.task_spec.bpmn_id == "score"
    assert error.task.task_spec.bpmn_name == "Score the referral"
    assert "Script not allowed: import statements are not allowed (line 1)" in str(error)
    assert error.line_number == 1 and error.error_line == "import os"
    assert "score" not in error.task.data


def test_bpmn_condition_that_escapes_fails_with_the_reason() -> None:
    workflow = make_workflow("score = 1", condition="score.__class__ is int")
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    message = str(caught.value)
    assert "Error evaluating expression 'score.__class__ is int'" in message
    assert 'private attribute "__class__" is not allowed' in message


def test_ordinary_script_errors_keep_spiffworkflow_messages() -> None:
    workflow = make_workflow("score = 10 / divisor", initial={"divisor": 0})
    with pytest.raises(WorkflowTaskException) as caught:
        workflow.do_engine_steps()
    assert "division by zero" in str(caught.value)
    assert caught.value.line_number == 1


GRADING_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="grading_defs" targetNamespace="http://reviewflow.example/test">
  <bpmn:process id="grading_process" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="grade" name="Grade">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>grading</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="grade" />
    <bpmn:sequenceFlow id="f2" sourceRef="grade" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def run_grading(engine: PythonScriptEngine, facts: dict[str, Any]) -> dict[str, Any]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(GRADING_BPMN.encode(), filename="grading_test.bpmn")
    parser.add_dmn_file(str(PROCESSES / "grading.dmn"))
    workflow = BpmnWorkflow(parser.get_spec("grading_process"), script_engine=engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(facts)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    return workflow.data


@pytest.mark.skipif(not (PROCESSES / "grading.dmn").exists(), reason="no grading.dmn")
@pytest.mark.parametrize("facts", [
    {},
    {"child_died": True},
    {"seriously_harmed": True, "interagency_concern": "concern"},
    {"interagency_concern": "curiosity", "compliance_failure": "internal"},
    {"good_practice": True},
])
def test_the_grading_table_gives_the_same_result_in_the_sandbox(facts: dict[str, Any]) -> None:
    """grading.dmn reads optional facts with globals().get(...): the sandbox must keep that."""
    plain = run_grading(PythonScriptEngine(environment=TaskDataEnvironment({"datetime": dt})),
                        facts)
    sandboxed = run_grading(build_sandboxed_engine({"datetime": dt}), facts)
    assert sandboxed == plain
    assert sandboxed["grade"]


def test_call_service_reaches_the_environment() -> None:
    workflow = make_workflow("score = 1")
    task = workflow.get_tasks(state=TaskState.READY)[0]
    engine = build_sandboxed_engine()
    with pytest.raises(WorkflowTaskException, match="Service call lookup failed"):
        engine.call_service(task, operation_name="lookup", operation_params={})

    def caller(context: dict[str, Any], **kwargs: Any) -> str:
        return f"{kwargs['operation_name']}:{sorted(context)}"

    served = SandboxedScriptEngine(SandboxedEnvironment(service_caller=caller))
    assert served.call_service(task, operation_name="lookup") == "lookup:[]"


# ---------------------------------------------------------------- (e) threads


def test_same_expression_from_many_threads_at_once() -> None:
    env = SandboxedEnvironment(HELPERS)
    expression = "sum(v * factor for v in values) if review_needed == True else -1"
    barrier = threading.Barrier(8)

    def work(worker: int) -> list[bool]:
        barrier.wait()
        results = []
        for i in range(300):
            context = {"values": [worker, i], "factor": 2, "review_needed": i % 2 == 0}
            expected = (worker + i) * 2 if i % 2 == 0 else -1
            results.append(env.evaluate(expression, context) == expected)
        return results

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = [ok for batch in pool.map(work, range(8)) for ok in batch]
    assert len(outcomes) == 2400 and all(outcomes)


def test_a_runaway_script_in_one_thread_does_not_disturb_others() -> None:
    slow = SandboxedEnvironment(time_limit=0.5)
    fast = SandboxedEnvironment(time_limit=0.5)
    started = threading.Event()
    errors: list[BaseException] = []

    def runaway() -> None:
        started.set()
        try:
            slow.execute("while True:\n    pass", {})
        except BaseException as exc:  # collected and checked below
            errors.append(exc)

    thread = threading.Thread(target=runaway)
    thread.start()
    started.wait()
    for i in range(200):  # these must neither time out nor see the other thread's deadline
        context = {"n": i}
        fast.execute("total = 0\nfor i in range(n):\n    total += i", context)
        assert context["total"] == sum(range(i))
    thread.join(timeout=3)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ScriptTimeout)
