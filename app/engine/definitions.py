"""Turn a set of BPMN/DMN files into deployable process specs.

Files deployed together are parsed together, so a process may call a DMN decision or another
process from any file of the same deployment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR

from app.engine.errors import InvalidDefinition, Problem
from app.engine.parser import ReviewflowBpmnParser
from app.engine.serializer import spec_to_json
from app.engine.timer_expressions import rewrite_timer_literals
from app.engine.xml import parse_document, source_line

FORM_PROPERTY = "formJsonSchemaFilename"

BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ID_NAMESPACES = {
    BPMN_MODEL_NS,
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DI",
}
DMN_NAMESPACES = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
}


@dataclass(frozen=True)
class SourceFile:
    name: str
    content: bytes


@dataclass
class ParsedProcess:
    """One executable process, ready to store as a version."""

    key: str
    name: str
    source_file: str
    spec_json: str
    content_hash: str
    element_ids: list[str] = field(default_factory=list)
    forms: dict[str, str] = field(default_factory=dict)


def _kind(root: etree._Element) -> str | None:
    qname = etree.QName(root)
    if qname.localname != "definitions":
        return None
    if qname.namespace == BPMN_MODEL_NS:
        return "bpmn"
    if qname.namespace in DMN_NAMESPACES:
        return "dmn"
    return None


def _line(node: etree._Element) -> int | None:
    return source_line(node)


def check_references(root: etree._Element, filename: str) -> list[Problem]:
    """Check what SpiffWorkflow reports confusingly: flows pointing at missing elements."""
    problems: list[Problem] = []
    ns = {"bpmn": BPMN_MODEL_NS}
    ids: dict[str, int] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace not in ID_NAMESPACES:
            continue
        node_id = node.get("id")
        if node_id:
            ids[node_id] = ids.get(node_id, 0) + 1
    for node_id, count in ids.items():
        if count > 1:
            problems.append(Problem(filename, f"the id '{node_id}' is used {count} times",
                                    element_id=node_id))
    for node in root.iter():
        if not isinstance(node.tag, str) or etree.QName(node).namespace in ID_NAMESPACES:
            continue
        if node.get("id") in ids:
            problems.append(Problem(
                filename, f"the extension element '{etree.QName(node).localname}' reuses the id "
                f"'{node.get('id')}' of a BPMN element; SpiffWorkflow would mistake one for the "
                "other, so rename one of them", element_id=node.get("id"), line=_line(node)))
    for process in root.iterfind("bpmn:process", ns):
        for flow in process.iter(f"{{{BPMN_MODEL_NS}}}sequenceFlow"):
            for attr in ("sourceRef", "targetRef"):
                ref = flow.get(attr)
                if not ref:
                    problems.append(Problem(filename, f"sequence flow has no {attr}",
                                            element_id=flow.get("id"), line=_line(flow)))
                elif ref not in ids:
                    problems.append(Problem(
                        filename, f"sequence flow {attr} '{ref}' names no element",
                        element_id=flow.get("id"), line=_line(flow)))
    return problems


def _problem_from(exc: Exception, filename: str) -> Problem:
    if isinstance(exc, ValidationException):
        line = exc.line_number if isinstance(exc.line_number, int) else None
        return Problem(exc.file_name or filename, str(exc).split("\n")[0],
                       element_id=exc.id or None, line=line)
    if isinstance(exc, etree.DocumentInvalid):
        # lxml-stubs lack `_BaseErrorLog.last_error`, which lxml documents.
        entry = exc.error_log.last_error if exc.error_log else None  # type: ignore[attr-defined]
        message = entry.message if entry else str(exc)
        return Problem(filename, f"does not match the BPMN schema: {message}",
                       line=entry.line if entry else None)
    return Problem(filename, str(exc))


def _content_hash(spec_json: str, source: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(spec_json.encode())
    digest.update(b"\0")
    digest.update(source)
    return digest.hexdigest()


def _forms_named(spec: BpmnProcessSpec,
                 subprocess_specs: dict[str, BpmnProcessSpec]) -> dict[str, str]:
    """Map each user task id to the form file it names."""
    forms: dict[str, str] = {}
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            extensions = getattr(task_spec, "extensions", None) or {}
            form = (extensions.get("properties") or {}).get(FORM_PROPERTY)
            if form:
                forms[task_spec.bpmn_id] = form
    return forms


def parse_files(files: list[SourceFile], validate_schema: bool = True) -> list[ParsedProcess]:
    """Parse files together and return every executable process they define.

    Raises `InvalidDefinition` listing every problem found.
    """
    if not files:
        raise InvalidDefinition([Problem("", "no files were given")])
    parser = ReviewflowBpmnParser(validator=VALIDATOR if validate_schema else None)
    problems: list[Problem] = []
    roots: dict[str, tuple[str, etree._Element]] = {}
    for source in files:
        try:
            root = parse_document(source.content, source.name)
        except InvalidDefinition as exc:
            problems.extend(exc.problems)
            continue
        kind = _kind(root)
        if kind is None:
            problems.append(Problem(source.name, "not a BPMN or DMN document (root element "
                                                 f"'{etree.QName(root).localname}')"))
            continue
        roots[source.name] = (kind, root)
    for name, (kind, root) in sorted(roots.items(), key=lambda item: item[1][0] != "dmn"):
        try:
            if kind == "dmn":
                parser.add_dmn_xml(root, filename=name)
            else:
                reference_problems = check_references(root, name)
                if reference_problems:
                    problems.extend(reference_problems)
                    continue
                rewrite_timer_literals(root)
                parser.add_bpmn_xml(root.getroottree(), filename=name)
        except (SpiffWorkflowException, etree.LxmlError, ValueError, KeyError) as exc:
            problems.append(_problem_from(exc, name))
    if problems:
        raise InvalidDefinition(problems)
    sources = {source.name: source.content for source in files}
    processes: list[ParsedProcess] = []
    for key in parser.get_process_ids():
        process_parser = parser.get_process_parser(key)
        filename = process_parser.filename or ""
        try:
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
        except (SpiffWorkflowException, ValueError, KeyError, AttributeError) as exc:
            problems.append(_problem_from(exc, filename))
            continue
        spec_json = spec_to_json(spec, subprocess_specs)
        processes.append(ParsedProcess(
            key=key,
            name=process_parser.get_name() or key,
            source_file=filename,
            spec_json=spec_json,
            content_hash=_content_hash(spec_json, sources.get(filename, b"")),
            element_ids=sorted(spec.task_specs),
            forms=_forms_named(spec, subprocess_specs),
        ))
    if problems:
        raise InvalidDefinition(problems)
    if not processes and any(kind == "bpmn" for kind, _ in roots.values()):
        raise InvalidDefinition([Problem(name, "defines no executable process")
                                 for name, (kind, _) in roots.items() if kind == "bpmn"])
    return processes
