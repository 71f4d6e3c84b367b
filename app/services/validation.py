"""Check a set of BPMN, DMN and form files and report every problem, file by file.

Used before every deployment, by `POST /api/v1/deployments?dry_run=true` and by
`reviewflow validate`. The checks of `app.engine.validation` see every problem at once; the
engine's own parser then runs on the files that passed, for what only it can tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from app.engine.decisions import LoadedDecision, load_decisions
from app.engine.definitions import ParsedProcess, SourceFile, parse_files
from app.engine.errors import InvalidDefinition, Problem
from app.engine.validation import FileReport, check_bpmn
from app.engine.xml import parse_document
from app.services.forms import parse_form_files
from app.services.operators import OPERATORS, QUERIES

DEFINITION_SUFFIXES = (".bpmn", ".dmn", ".bpmn20.xml", ".xml")
FORM_SUFFIX = ".json"


@dataclass
class Validation:
    reports: list[FileReport]
    processes: list[ParsedProcess] = field(default_factory=list)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: dict[str, LoadedDecision] = field(default_factory=dict)

    @property
    def problems(self) -> list[Problem]:
        return list(dict.fromkeys(p for report in self.reports for p in report.problems))


def _report(reports: dict[str, FileReport], name: str) -> FileReport:
    return reports.setdefault(name, FileReport(name))


def validate(files: list[SourceFile]) -> Validation:
    reports: dict[str, FileReport] = {}
    seen: set[str] = set()
    bpmn: list[tuple[SourceFile, etree._Element]] = []
    dmn: list[SourceFile] = []
    form_files: list[SourceFile] = []
    if not files:
        return Validation([FileReport("", problems=[Problem("", "no files were given")])])
    for source in files:
        report = _report(reports, source.name)
        lower = source.name.lower()
        if source.name in seen:
            report.problems.append(Problem(source.name, "the same file name is given twice"))
            continue
        seen.add(source.name)
        if lower.endswith(FORM_SUFFIX):
            form_files.append(source)
        elif lower.endswith(".dmn"):
            dmn.append(source)
        elif lower.endswith(DEFINITION_SUFFIXES):
            try:
                bpmn.append((source, parse_document(source.content, source.name)))
            except InvalidDefinition as exc:
                report.problems.extend(exc.problems)
        else:
            report.problems.append(Problem(source.name, "unsupported file type: expected "
                                                        ".bpmn, .dmn or a .json form"))
    forms, form_problems = parse_form_files(form_files)
    for problem in form_problems:
        _report(reports, problem.file).problems.append(problem)
    decisions: dict[str, LoadedDecision] = {}
    try:
        decisions = load_decisions(dmn)
    except InvalidDefinition as exc:
        for problem in exc.problems:
            _report(reports, problem.file or dmn[0].name).problems.append(problem)
    form_names = {source.name.rsplit("/", 1)[-1] for source in form_files}  # invalid ones too
    for report in check_bpmn([(source.name, root) for source, root in bpmn],
                             forms=form_names, operators=set(OPERATORS) | set(QUERIES)):
        merged = _report(reports, report.file)
        merged.processes, merged.executable = report.processes, report.executable
        merged.problems.extend(report.problems)
    validation = Validation(list(reports.values()), forms=forms, decisions=decisions)
    if not bpmn and not dmn and not validation.problems:
        _report(reports, "").problems.append(Problem("", "no .bpmn or .dmn file was given"))
        validation.reports = list(reports.values())
    if validation.problems:
        return validation
    try:
        validation.processes = parse_files([s for s, _ in bpmn] + dmn)
    except InvalidDefinition as exc:
        for problem in exc.problems:
            _report(reports, problem.file).problems.append(problem)
        validation.reports = list(reports.values())
    return validation
