"""Find every problem in a set of BPMN files at once, each with file, line, element and reason.

SpiffWorkflow's parser stops at the first problem and some of its messages mislead, so these
checks run first, on the XML alone, and report everything they find. Elements are matched by
namespace, never by prefix, so files written with `bpmn:`, `bpmn2:`, `semantic:` or the default
namespace read the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.spiff.parser import VALIDATOR

from app.engine.definitions import check_references
from app.engine.errors import Problem
from app.engine.sandbox import check_expression
from app.engine.timer_expressions import normalize_timer_expression
from app.engine.xml import source_line

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}

EXECUTABLE_NODES = frozenset({
    "startEvent", "endEvent", "userTask", "task", "subProcess", "manualTask", "exclusiveGateway",
    "parallelGateway", "inclusiveGateway", "callActivity", "transaction", "adHocSubProcess",
    "scriptTask", "serviceTask", "intermediateCatchEvent", "intermediateThrowEvent",
    "boundaryEvent", "receiveTask", "sendTask", "eventBasedGateway", "businessRuleTask",
})
NOT_EXECUTABLE = {
    "complexGateway": "complex gateways have no executable semantics in the engine",
    "implicitThrowEvent": "implicit throw events are not supported",
}
DUE_PROPERTIES = ("dueDate", "dueInWorkingDays")
FORM_PROPERTY = "formJsonSchemaFilename"


@dataclass
class FileReport:
    file: str
    processes: list[str] = field(default_factory=list)
    executable: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def deployable(self) -> bool:
        return bool(self.executable) and not self.problems


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _bpmn_children(node: etree._Element) -> Iterator[etree._Element]:
    for child in node:
        if isinstance(child.tag, str) and etree.QName(child).namespace == BPMN:
            yield child


def _line(node: etree._Element) -> int | None:
    return source_line(node)


class _FileChecker:
    def __init__(self, name: str, root: etree._Element, all_process_ids: set[str],
                 forms: set[str] | None, operators: set[str] | None) -> None:
        self.name = name
        self.root = root
        self.all_process_ids = all_process_ids
        self.forms = forms
        self.operators = operators
        self.problems: list[Problem] = []

    def problem(self, reason: str, node: etree._Element | None = None,
                element_id: str | None = None) -> None:
        self.problems.append(Problem(self.name, reason,
                                     element_id=element_id or (node.get("id") if node is not None
                                                               else None),
                                     line=_line(node) if node is not None else None))

    def check_schema(self) -> None:
        schema = VALIDATOR.validator
        copy = etree.fromstring(etree.tostring(self.root))
        VALIDATOR.preprocess(copy)
        if schema.validate(copy):
            return
        for error in schema.error_log:
            message = error.message.replace(f"{{{BPMN}}}", "bpmn:")
            self.problems.append(Problem(self.name, f"does not match the BPMN schema: {message}",
                                         line=error.line or None))

    def check_process(self, process: etree._Element) -> None:
        ids = {node.get("id") for node in process.iter() if isinstance(node.tag, str)}
        in_lane = {ref.text.strip() for ref in process.iterfind(".//bpmn:flowNodeRef", NS)
                   if ref.text}
        flows = {flow.get("id"): flow for flow in process.iter(f"{{{BPMN}}}sequenceFlow")}
        for node in process.iter():
            if not isinstance(node.tag, str) or etree.QName(node).namespace != BPMN:
                continue
            kind = _local(node)
            if kind in NOT_EXECUTABLE:
                self.problem(f"{kind} '{node.get('name') or node.get('id')}': "
                             f"{NOT_EXECUTABLE[kind]}", node)
            elif kind.endswith("Gateway") and kind in ("exclusiveGateway", "inclusiveGateway"):
                self._check_gateway(node, flows)
            elif kind == "dataStoreReference":
                self.problem("data stores have no implementation in the engine; keep the data "
                             "in the process or a service task", node)
            elif kind == "serviceTask" and node.find(
                    ".//spiffworkflow:serviceTaskOperator", NS) is None:
                self.problem(f"service task '{node.get('name') or node.get('id')}' names no "
                             "operator (spiffworkflow:serviceTaskOperator)", node)
            elif kind == "timerEventDefinition" and not any(
                    _local(child) in ("timeDate", "timeDuration", "timeCycle")
                    for child in _bpmn_children(node)):
                self.problem("timer has no timeDate, timeDuration or timeCycle",
                             self._owner(node))
            elif kind == "multiInstanceLoopCharacteristics" and not any(
                    _local(child) in ("loopCardinality", "loopDataInputRef")
                    for child in _bpmn_children(node)):
                self.problem("multi-instance activity needs a loop cardinality or an input "
                             "collection", self._owner(node))
            elif kind in ("subProcess", "transaction") and node.get("triggeredByEvent") != "true":
                starts = node.findall("bpmn:startEvent", NS)
                if len(starts) != 1:
                    self.problem(f"sub-process '{node.get('name') or node.get('id')}' needs "
                                 f"exactly one start event; it has {len(starts)}", node)
            if kind in EXECUTABLE_NODES and not kind.endswith(("Gateway", "Event")) and len(
                    node.findall("bpmn:outgoing", NS)) > 1:
                self.problem(f"'{node.get('name') or node.get('id')}' has several outgoing flows "
                             "without a gateway; split with a parallel or exclusive gateway",
                             node)
            if kind == "userTask" and node.get("id") not in in_lane:
                self.problem(f"user task '{node.get('name') or node.get('id')}' is in no lane: "
                             "the lane names the role that may do it", node)
            elif kind == "callActivity":
                called = node.get("calledElement")
                if not called:
                    self.problem("call activity names no process (calledElement)", node)
                elif called not in self.all_process_ids:
                    self.problem(f"call activity calls '{called}', which none of the deployed "
                                 "files defines", node)
            elif kind == "conditionExpression" and node.text and node.text.strip():
                self._check_code(node.text, "eval", node.getparent(), "condition")
            elif kind == "script" and node.text and node.text.strip():
                self._check_code(node.text, "exec", node.getparent(), "script")
            elif kind in ("timeDate", "timeDuration", "timeCycle") and node.text:
                event = self._owner(node)
                self._check_code(normalize_timer_expression(node.text), "eval", event,
                                 f"timer ({kind})")
        for node in process.iter(f"{{{SPIFF}}}*"):
            self._check_extension(node, ids)

    def _owner(self, node: etree._Element) -> etree._Element:
        current: etree._Element | None = node
        while current is not None and _local(current) not in EXECUTABLE_NODES:
            current = current.getparent()
        return current if current is not None else node

    def _check_gateway(self, gateway: etree._Element,
                       flows: dict[str | None, etree._Element]) -> None:
        named = [flows.get(out.text.strip()) for out in gateway.iterfind("bpmn:outgoing", NS)
                 if out.text]
        outgoing = [flow for flow in named if flow is not None]
        if len(outgoing) < 2:
            return
        default = gateway.get("default")
        if default and default not in {flow.get("id") for flow in outgoing}:
            self.problem(f"gateway's default flow '{default}' is not one of its outgoing flows",
                         gateway)
        missing = [flow.get("id") for flow in outgoing if flow.get("id") != default
                   and not (flow.findtext("bpmn:conditionExpression", namespaces=NS) or "").strip()]
        if missing:
            self.problem(f"gateway '{gateway.get('name') or gateway.get('id')}' has outgoing "
                         f"flows without a condition ({', '.join(str(m) for m in missing)}); give "
                         "each a condition, or make one of them the default", gateway)

    def _check_code(self, text: str, mode: str, owner: etree._Element | None,
                    what: str) -> None:
        for message in check_expression(text.strip(), mode):  # type: ignore[arg-type]
            self.problem(f"{what} does not compile in the sandbox: {message}", owner)

    def _check_extension(self, node: etree._Element, ids: set[str | None]) -> None:
        kind = _local(node)
        owner = self._owner(node)
        if kind in ("preScript", "postScript") and node.text and node.text.strip():
            self._check_code(node.text, "exec", owner, kind)
        elif kind == "property" and node.get("name") in DUE_PROPERTIES and node.get("value"):
            self._check_code(node.get("value") or "", "eval", owner, node.get("name") or "")
        elif kind == "property" and node.get("name") == FORM_PROPERTY and self.forms is not None:
            form = node.get("value") or ""
            if form not in self.forms:
                self.problem(f"names the form '{form}', which is not among the deployed files",
                             owner)
        elif kind == "serviceTaskOperator":
            name = node.get("id") or ""
            if self.operators is not None and name not in self.operators:
                self.problem(f"service task calls the operator '{name}', which does not exist "
                             f"(known: {', '.join(sorted(self.operators))})", owner)
        elif kind == "parameter" and node.get("value") is not None:
            self._check_code(node.get("value") or "", "eval", owner,
                             f"parameter '{node.get('id')}'")
        elif kind == "calledDecisionId" and not (node.text or "").strip():
            self.problem("business rule task names no decision", owner)


def process_ids(root: etree._Element) -> list[tuple[str, bool]]:
    """(process id, executable) for every process the document defines."""
    return [(process.get("id") or "", process.get("isExecutable", "true") != "false")
            for process in root.iterfind("bpmn:process", NS)]


def check_bpmn(named_roots: list[tuple[str, etree._Element]], forms: set[str] | None = None,
               operators: set[str] | None = None) -> list[FileReport]:
    """Check every BPMN document; `forms` and `operators`, when given, are what exists."""
    all_ids = {pid for _, root in named_roots for pid, _ in process_ids(root)}
    reports: list[FileReport] = []
    for name, root in named_roots:
        checker = _FileChecker(name, root, all_ids, forms, operators)
        checker.problems.extend(check_references(root, name))
        checker.check_schema()
        ids = process_ids(root)
        for process in root.iterfind("bpmn:process", NS):
            checker.check_process(process)
        report = FileReport(name, [pid for pid, _ in ids],
                            [pid for pid, executable in ids if executable], checker.problems)
        if ids and not report.executable:
            report.problems.append(Problem(name, "every process is marked isExecutable=\"false\": "
                                                 "a descriptive model that Reviewflow does not "
                                                 "run"))
        elif not ids:
            report.problems.append(Problem(name, "defines no process"))
        reports.append(report)
    return reports
