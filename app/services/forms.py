"""User task forms: JSON Schema files deployed with the processes that name them."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError

from app.engine.definitions import SourceFile
from app.engine.errors import Problem
from app.services.form_keywords import (
    FormContext,
    compile_validator,
    context_errors,
    keyword_problems,
)
from app.services.form_limits import (
    DEFAULT_BUDGET_SECONDS,
    SCHEMA_FORMAT_CHECKER,
    budget,
    budget_message,
    path_of,
    regex_problems,
)


def parse_form_files(files: list[SourceFile]) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Read form files by base name; report those that are not JSON Schema."""
    forms: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for source in files:
        name = source.name.rsplit("/", 1)[-1]
        try:
            schema = json.loads(source.content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(Problem(source.name, f"not valid JSON: {exc}"))
            continue
        if not isinstance(schema, dict):
            problems.append(Problem(source.name, "a form must be a JSON object (a JSON Schema)"))
            continue
        unusable = regex_problems(schema)  # before the meta-schema, which says less
        if unusable:
            problems.extend(Problem(source.name, problem) for problem in unusable)
            continue
        try:
            # jsonschema's check_schema takes format_checker; its typing Protocol omits it.
            validators.validator_for(schema, default=Draft202012Validator).check_schema(
                schema, format_checker=SCHEMA_FORMAT_CHECKER)  # type: ignore[call-arg]
        except SchemaError as exc:
            problems.append(Problem(source.name, f"not a valid JSON Schema: {exc.message}"))
            continue
        misused = keyword_problems(schema)
        if misused:
            problems.extend(Problem(source.name, problem) for problem in misused)
            continue
        forms[name] = schema
    return forms, problems


def _errors(error: Any) -> list[dict[str, str]]:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        return [{"field": ".".join([*path, name]), "message": f"'{name}' is required"}
                for name in error.validator_value if name not in error.instance]
    return [{"field": ".".join(path) or "(form)", "message": error.message}]


def validator_for(schema: dict[str, Any]) -> Any:
    """The compiled validator: the schema's draft and the Board's context-free keywords."""
    return compile_validator(schema)


def validate_submission(schema: dict[str, Any], data: dict[str, Any],
                        validator: Any = None,
                        context: FormContext | None = None,
                        time_budget: float | None = None) -> list[dict[str, str]]:
    """Return one error per failing field, named by its path in the form (`a.0.b`). With a
    context, the keywords that need one (today, the task's data, the agency register) too.

    The whole check runs within `time_budget` seconds (by default the context's, else
    `DEFAULT_BUDGET_SECONDS`); past it, the only error is one on the field where time ran out.
    """
    validator = validator or validator_for(schema)
    seconds = time_budget if time_budget is not None else (
        context.time_budget if context is not None else DEFAULT_BUDGET_SECONDS)
    unique: dict[tuple[str, str], dict[str, str]] = {}
    extra: list[dict[str, str]] = []
    with budget(seconds) as spent:
        found = list(validator.iter_errors(data))
        if context is not None and not spent.exceeded:
            extra = context_errors(schema, data, context)
        if spent.exceeded:
            return [{"field": path_of(data, spent.exceeded_at),
                     "message": budget_message(seconds)}]
    found.sort(key=lambda e: [str(p) for p in e.absolute_path])
    for error in found:  # an if/then under allOf can report the same field twice
        for item in _errors(error):
            unique.setdefault((item["field"], item["message"]), item)
    for item in extra:
        unique.setdefault((item["field"], item["message"]), item)
    return list(unique.values())
