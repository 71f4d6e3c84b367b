"""Evaluate DMN decisions on their own, outside any BPMN process.

A deployment's DMN files are parsed the way `app.engine.definitions.parse_files` parses them
(hardened XML parser, then SpiffWorkflow's parser with schema validation) and every decision is
built eagerly, so a broken table is reported when it is loaded rather than when a referral is
graded. Decisions run with the script engine that processes use, so an expression behaves the same
here as in a business rule task.

SpiffWorkflow 3.2.0 knows two hit policies, UNIQUE and COLLECT, and gives every other policy the
outputs of the first matching rule. This module accepts what the engine evaluates as a DMN reader
expects: FIRST (first matching rule), COLLECT without an aggregation (every matching rule, outputs
as lists) and UNIQUE (SpiffWorkflow does not check that only one rule matches; it stops at the
first match, so a UNIQUE table must not overlap). ANY, PRIORITY, RULE ORDER, OUTPUT ORDER and
COLLECT with an aggregation are refused because the engine would silently evaluate them as FIRST.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.specs.model import DecisionTable, HitPolicy, Rule
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from app.engine.definitions import DMN_NAMESPACES, SourceFile
from app.engine.errors import InvalidDefinition, Problem, StepFailed
from app.engine.scripting import build_script_engine
from app.engine.xml import parse_document, source_line

FIRST = "FIRST"
SUPPORTED_HIT_POLICIES = {HitPolicy.UNIQUE.value, FIRST, HitPolicy.COLLECT.value}


class DecisionFailed(StepFailed):
    """A decision could not be evaluated; `element_id` is the decision id."""


class UnknownDecision(DecisionFailed):
    """No decision with that id in the given DMN files."""


class MatchedRule(TypedDict):
    id: str
    description: str


@dataclass(frozen=True)
class DecisionResult:
    """The outputs of one evaluation and the rules that produced them.

    `matched_rules` lists the rules whose outputs were applied: the first matching rule for
    FIRST and UNIQUE, every matching rule for COLLECT; empty when no rule matched (the outputs
    are then empty too).
    """

    decision_id: str
    outputs: dict[str, Any]
    matched_rules: list[MatchedRule] = field(default_factory=list)


@dataclass(frozen=True)
class LoadedDecision:
    """A parsed decision, ready to evaluate any number of times."""

    id: str
    name: str
    file: str
    engine: DMNEngine

    @property
    def table(self) -> DecisionTable:
        return self.engine.decision_table


# The smallest stand-in for a workflow task that SpiffWorkflow's DMN engine accepts: DMNEngine
# and Rule read `task.data` and `task.workflow.script_engine`; the exceptions they raise on a
# failing expression also read `task.task_spec.bpmn_name`, `task.workflow.spec.file` and
# `task.workflow.top_workflow`.


@dataclass(frozen=True)
class _DecisionSpec:
    bpmn_id: str
    bpmn_name: str
    file: str


@dataclass
class _DecisionWorkflow:
    script_engine: PythonScriptEngine
    spec: _DecisionSpec

    @property
    def top_workflow(self) -> _DecisionWorkflow:
        return self

    @property
    def parent_workflow(self) -> None:
        return None


@dataclass
class _DecisionTask:
    data: dict[str, Any]
    workflow: _DecisionWorkflow
    task_spec: _DecisionSpec


def _dmn_root(source: SourceFile) -> etree._Element:
    root = parse_document(source.content, source.name)
    qname = etree.QName(root)
    if qname.localname != "definitions" or qname.namespace not in DMN_NAMESPACES:
        raise InvalidDefinition([Problem(source.name, "not a DMN document (root element "
                                                      f"'{qname.localname}')")])
    return root


def decision_ids(source: SourceFile) -> list[str]:
    """The ids of the decisions one DMN document defines, in document order.

    Raises `InvalidDefinition` when the bytes are not a well-formed DMN document. The document
    is not otherwise checked: `load_decisions` does that.
    """
    return _decision_ids_in(_dmn_root(source))


def _decision_ids_in(root: etree._Element) -> list[str]:
    namespace = etree.QName(root).namespace
    return [node.get("id", "") for node in root.iterfind(f"{{{namespace}}}decision")]


def applied_rules(hit_policy: str, matched: list[Rule]) -> list[Rule]:
    """The matched rules whose outputs SpiffWorkflow applies under this hit policy.

    `DMNEngine.decide` returns every matching rule for FIRST (and the first one only for
    UNIQUE); `DMNEngine.result` applies the first one unless the policy is COLLECT.
    """
    if hit_policy == HitPolicy.COLLECT.value:
        return list(matched)
    return list(matched[:1])


def _check_syntax(text: str, allow_operator: bool) -> str | None:
    """Mirror DMNEngine: an entry is an expression, or an operator and an operand."""
    try:
        ast.parse(text)
        return None
    except SyntaxError as exc:
        error = exc.msg
    if allow_operator:
        try:
            ast.parse(f"v {text}")
            return None
        except SyntaxError:
            pass
    return error


def _check_table(table: DecisionTable, decision_id: str, filename: str) -> list[Problem]:
    problems: list[Problem] = []
    if table.hit_policy not in SUPPORTED_HIT_POLICIES:
        problems.append(Problem(filename, f"hit policy {table.hit_policy} is not supported; use "
                                          "FIRST, UNIQUE or COLLECT", element_id=table.id))
    for item in table.inputs:
        if not item.expression:
            problems.append(Problem(filename, "input has no input expression",
                                    element_id=item.id))
        elif (error := _check_syntax(item.expression, allow_operator=False)) is not None:
            problems.append(Problem(filename, f"input expression is not valid: {error}",
                                    element_id=item.id))
    seen: set[str] = set()
    for rule in table.rules:
        if rule.id in seen:
            problems.append(Problem(filename, f"rule id '{rule.id}' is used twice in decision "
                                              f"'{decision_id}'", element_id=rule.id))
        seen.add(rule.id)
        if len(rule.inputEntries) != len(table.inputs):
            problems.append(Problem(filename, f"rule has {len(rule.inputEntries)} input entries "
                                              f"for {len(table.inputs)} inputs",
                                    element_id=rule.id))
        for entry in rule.inputEntries:
            for text in entry.lhs:
                if text is None:
                    continue
                error = _check_syntax(text, allow_operator=True)
                if error is not None:
                    problems.append(Problem(filename, f"input entry is not valid: {error}",
                                            element_id=entry.id))
    return problems


def _unsupported_aggregation(root: etree._Element, filename: str) -> list[Problem]:
    namespace = etree.QName(root).namespace
    return [Problem(filename, f"aggregation {node.get('aggregation')} is not supported",
                    element_id=node.get("id"), line=source_line(node))
            for node in root.iter(f"{{{namespace}}}decisionTable") if node.get("aggregation")]


def _problem(exc: Exception, filename: str) -> Problem:
    if isinstance(exc, ValidationException):
        line = exc.line_number if isinstance(exc.line_number, int) else None
        return Problem(exc.file_name or filename, str(exc).split("\n")[0],
                       element_id=exc.id or None, line=line)
    return Problem(filename, str(exc) or exc.__class__.__name__)


def _describe(exc: BaseException) -> str:
    """The engine's message, its notes (which row failed) and the underlying Python error."""
    message = str(exc.args[0]) if exc.args else ""
    details = [str(note).strip() for note in getattr(exc, "notes", []) if str(note).strip()]
    root = exc
    for _ in range(20):  # an exception chain is short; the bound guards against a cycle
        inner = root.__cause__ or root.__context__
        if inner is None:
            break
        root = inner
    if root is not exc:
        details.append(f"{root.__class__.__name__}: {root}")
    message = message.strip() or exc.__class__.__name__
    return f"{message} ({'; '.join(details)})" if details else message


def _failed_rule(table: DecisionTable, exc: BaseException) -> Rule | None:
    """The rule whose input entry failed, from the row SpiffWorkflow notes."""
    notes = " ".join(str(note) for note in getattr(exc, "__notes__", None) or
                     getattr(exc, "notes", None) or [])
    return next((rule for rule in table.rules if f"row {rule.row_number}" in notes), None)


def _in_rule(rule: Rule | None, message: str) -> str:
    return f"rule '{rule.id}': {message}" if rule is not None else message


def load_decisions(dmn_files: list[SourceFile],
                   validate_schema: bool = True) -> dict[str, LoadedDecision]:
    """Parse DMN files and build every decision they define, keyed by decision id.

    Raises `InvalidDefinition` listing every problem: XML or schema errors, a document with no
    decision or more than one (SpiffWorkflow reads one decision per document), a decision id
    defined twice, a decision without a decision table, an unsupported hit policy, expressions
    that do not parse, repeated rule ids.
    """
    parser = SpiffBpmnParser(validator=VALIDATOR if validate_schema else None)
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    for source in dmn_files:
        try:
            root = _dmn_root(source)
        except InvalidDefinition as exc:
            problems.extend(exc.problems)
            continue
        ids = _decision_ids_in(root)
        if len(ids) != 1:
            problems.append(Problem(source.name, f"defines {len(ids)} decisions; put exactly one "
                                                 "decision in each DMN file"))
            continue
        if not ids[0]:
            problems.append(Problem(source.name, "the decision has no id"))
            continue
        if ids[0] in owner:
            problems.append(Problem(source.name, f"decision '{ids[0]}' is also defined in "
                                                 f"{owner[ids[0]]}", element_id=ids[0]))
            continue
        owner[ids[0]] = source.name
        problems.extend(_unsupported_aggregation(root, source.name))
        try:
            parser.add_dmn_xml(root, filename=source.name)
        except (SpiffWorkflowException, etree.LxmlError, ValueError, KeyError) as exc:
            problems.append(_problem(exc, source.name))
    decisions: dict[str, LoadedDecision] = {}
    for decision_id, dmn_parser in parser.dmn_parsers.items():
        filename = dmn_parser.filename or ""
        try:
            dmn_parser.parse()
        except (SpiffWorkflowException, ValueError, KeyError, IndexError,
                AttributeError) as exc:  # AttributeError: an XML comment inside a table
            problems.append(_problem(exc, filename))
            continue
        decision = dmn_parser.decision
        if not decision.decisionTables:
            problems.append(Problem(filename, "the decision has no decision table (the only "
                                              "kind of decision the engine runs)",
                                    element_id=decision_id))
            continue
        table = decision.decisionTables[0]
        problems.extend(_check_table(table, decision_id, filename))
        decisions[decision_id] = LoadedDecision(decision_id, decision.name or decision_id,
                                                filename, DMNEngine(table))
    if problems:
        raise InvalidDefinition(problems)
    return decisions


def evaluate(decisions: Mapping[str, LoadedDecision], decision_id: str,
             data: Mapping[str, Any]) -> DecisionResult:
    """Evaluate one loaded decision against a copy of `data`.

    Raises `UnknownDecision` when there is no such decision and `DecisionFailed` when an
    expression fails; both carry the decision id as `element_id`.
    """
    loaded = decisions.get(decision_id)
    if loaded is None:
        known = ", ".join(sorted(decisions)) or "none"
        raise UnknownDecision(f"no decision '{decision_id}' (known decisions: {known})",
                              decision_id)
    spec = _DecisionSpec(decision_id, loaded.name, loaded.file)
    task = _DecisionTask(dict(data), _DecisionWorkflow(build_script_engine(), spec), spec)
    try:
        matched = loaded.engine.decide(task)
    except Exception as exc:  # any failing expression: NameError, TypeError, ...
        raise DecisionFailed(_in_rule(_failed_rule(loaded.table, exc), _describe(exc)),
                             decision_id, loaded.name) from exc
    rules = applied_rules(loaded.table.hit_policy, matched)
    outputs: dict[str, Any] = {}
    for rule in rules:  # as `DMNEngine.result`, without deciding a second time
        try:
            rule_outputs = rule.output_as_dict(task)
        except Exception as exc:
            raise DecisionFailed(_in_rule(rule, _describe(exc)), decision_id,
                                 loaded.name) from exc
        if loaded.table.hit_policy != HitPolicy.COLLECT.value:
            outputs = dict(rule_outputs)
            break
        for key, value in rule_outputs.items():
            outputs.setdefault(key, []).append(value)
    return DecisionResult(
        decision_id=decision_id,
        outputs=outputs,
        matched_rules=[MatchedRule(id=rule.id, description=(rule.description or "").strip())
                       for rule in rules],
    )


def evaluate_decision(dmn_files: list[SourceFile], decision_id: str,
                      data: Mapping[str, Any]) -> DecisionResult:
    """Parse DMN files and evaluate one decision: `load_decisions`, then `evaluate`."""
    return evaluate(load_decisions(dmn_files), decision_id, data)
