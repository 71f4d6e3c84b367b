"""The Board's own JSON Schema keywords, enforced on every form submission.

Two kinds. `x-reason` and `x-date-order` (and the `date` format) depend only on the answer, so
they are keywords of the compiled, cached validator (`FormValidator`). `x-not-future`,
`x-not-after`, `x-same-as` and `x-agency` need what only the running service knows (today's
date from its clock, the task's process data, the agency register, who can act for an agency):
`context_errors` checks them in a second pass over the schema's `properties`, `items` and
`allOf`, where the Board's forms put them.

- `"x-reason": true` on a string: must contain words (letters or digits), not only spaces or
  punctuation.
- `"x-date-order": [["a", "b", "c"], ...]` on an object: the named ISO dates, where present,
  strictly increase along each list; a violation is an error on each of the two fields, each
  naming both.
- `"x-not-future": true` on a date: not later than today.
- `"x-not-after": {"date": "<process variable>", "unless": "<sibling field>"}` on a date: not
  later than that date of the task's process data, unless the sibling field gives a reason.
- `"x-same-as": {"data": "<process variable>", "unless": "<sibling field>"}`: equal to that
  process value when it is set, unless the sibling field gives a reason.
- `"x-agency": true` on a string: an agency id from the register; `"actionable"`: also one
  that someone can act for (an active agency lead); `{"actionable_if": "<sibling>"}`:
  actionable when the sibling boolean field is true (an agency that will get a task).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from app.services.agencies import AgencyRegister, no_lead_message, unknown_message
from app.services.form_limits import (
    DEFAULT_BUDGET_SECONDS,
    FORMAT_CHECKER,
    LINEAR_KEYWORDS,
    budgeted,
    out_of_time,
)

REASON_MESSAGE = "Enter the reasons in words: an answer of only spaces or punctuation is not " \
                 "a reason"


def has_words(text: object) -> bool:
    """Whether a reason says something: at least one letter or digit."""
    return isinstance(text, str) and any(char.isalnum() for char in text)


def parse_date(value: object) -> dt.date | None:
    """An ISO date (or the date of an ISO datetime); None when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _reason(_validator: Any, enabled: Any, instance: Any,
            _schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if enabled and isinstance(instance, str) and not has_words(instance):
        yield ValidationError(REASON_MESSAGE)


def _title_of(schema: Mapping[str, Any], name: str) -> str:
    """A property's title, as its question says it ("Period under review: from")."""
    properties = schema.get("properties")
    found = properties.get(name) if isinstance(properties, Mapping) else None
    title = found.get("title") if isinstance(found, Mapping) else None
    return title if isinstance(title, str) and title.strip() else name.replace("_", " ")


def _words(name: str) -> str:
    """A process variable or field name in words: `format_change_reason` -> `format change
    reason`."""
    return name.replace("_", " ")


def _day(day: dt.date) -> str:
    """`2025-03-01` as people write it: `1 March 2025`."""
    return f"{day.day} {day:%B %Y}"


def _date_order(_validator: Any, chains: Any, instance: Any,
                schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not isinstance(instance, Mapping) or not isinstance(chains, list):
        return
    for chain in chains:
        present = [(name, day) for name in chain
                   if (day := parse_date(instance.get(name))) is not None]
        for (first, early), (second, late) in itertools.pairwise(present):
            if early < late:
                continue
            yield ValidationError(f"Enter a date before '{_title_of(schema, second)}' "
                                  f"({_day(late)})", path=[first])
            yield ValidationError(f"Enter a date after '{_title_of(schema, first)}' "
                                  f"({_day(early)})", path=[second])


# types-jsonschema leaves `validators.extend` unannotated.
_KEYWORDS = validators.extend(Draft202012Validator, {  # type: ignore[no-untyped-call]
    **LINEAR_KEYWORDS, "x-reason": _reason, "x-date-order": _date_order})
FormValidator = validators.extend(_KEYWORDS, {  # type: ignore[no-untyped-call]
    name: budgeted(keyword) for name, keyword in _KEYWORDS.VALIDATORS.items()})
"""Draft 2020-12 with the context-free keywords (the others pass through it untouched), its
regex keywords on RE2 (`app.services.form_limits`), every keyword under the time budget."""


def compile_validator(schema: Mapping[str, Any]) -> Any:
    return FormValidator(schema, format_checker=FORMAT_CHECKER)


@dataclass(frozen=True)
class FormContext:
    """What the context-dependent keywords read; a keyword whose input is missing is skipped."""

    today: dt.date | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    agencies: AgencyRegister | None = None
    can_act: Callable[[str], bool] | None = None
    register_problem: str | None = None
    """Why there is no register (a missing or broken file): agency fields are refused with it."""
    time_budget: float = DEFAULT_BUDGET_SECONDS
    """Seconds the whole submission may take to check (the `form_validation_seconds` setting)."""


def context_errors(schema: Mapping[str, Any], instance: Any,
                   context: FormContext) -> list[dict[str, str]]:
    """Errors of `x-not-future`, `x-not-after`, `x-same-as` and `x-agency`, by field path."""
    errors: list[dict[str, str]] = []
    _walk(schema, instance, (), {}, context, errors)
    return errors


def _walk(schema: Any, instance: Any, path: tuple[str | int, ...], parent: Mapping[str, Any],
          context: FormContext, errors: list[dict[str, str]]) -> None:
    if not isinstance(schema, Mapping) or out_of_time(instance):
        return
    _check(schema, instance, path, parent, context, errors)
    for sub in schema.get("allOf") or []:
        _walk(sub, instance, path, parent, context, errors)
    condition = schema.get("if")
    if isinstance(condition, Mapping) and ("then" in schema or "else" in schema):
        holds = compile_validator(condition).is_valid(instance)
        _walk(schema.get("then" if holds else "else"), instance, path, parent, context, errors)
    properties = schema.get("properties")
    if isinstance(instance, Mapping) and isinstance(properties, Mapping):
        for name, sub in properties.items():
            if name in instance:
                _walk(sub, instance[name], (*path, name), instance, context, errors)
    items = schema.get("items")
    if isinstance(instance, list) and isinstance(items, Mapping):
        for index, item in enumerate(instance):
            _walk(items, item, (*path, index), {}, context, errors)


def _check(schema: Mapping[str, Any], value: Any, path: tuple[str | int, ...],
           parent: Mapping[str, Any], context: FormContext,
           errors: list[dict[str, str]]) -> None:
    where = ".".join(str(part) for part in path) or "(form)"

    def refuse(message: str) -> None:
        errors.append({"field": where, "message": message})

    day = parse_date(value)
    if schema.get("x-not-future") and day is not None and context.today is not None \
            and day > context.today:
        refuse(f"Enter a date that is today or in the past: {_day(day)} is after today "
               f"({_day(context.today)})")
    not_after = schema.get("x-not-after")
    if isinstance(not_after, Mapping) and day is not None:
        variable = str(not_after.get("date", ""))
        limit = parse_date(context.data.get(variable))
        unless = not_after.get("unless")
        if limit is not None and day > limit and not (unless and has_words(parent.get(unless))):
            refuse(f"Enter a date no later than the {_words(variable)} ({_day(limit)})"
                   + (f", or give the reason in '{unless}'" if unless else ""))
    same_as = schema.get("x-same-as")
    if isinstance(same_as, Mapping):
        variable = str(same_as.get("data", ""))
        expected = context.data.get(variable)
        unless = same_as.get("unless")
        if expected is not None and value != expected \
                and not (unless and has_words(parent.get(unless))):
            refuse(f"This answer ({_words(str(value))}) differs from the {_words(variable)} "
                   f"({_words(str(expected))})"
                   + (f": give the reason in '{unless}'" if unless else ""))
    agency = schema.get("x-agency")
    if agency and isinstance(value, str):
        if context.agencies is not None:
            _check_agency(agency, value, parent, context, refuse)
        elif context.register_problem:
            refuse(context.register_problem)


def _check_agency(rule: Any, value: str, parent: Mapping[str, Any], context: FormContext,
                  refuse: Callable[[str], None]) -> None:
    assert context.agencies is not None
    if context.agencies.unknown([value]):
        refuse(unknown_message([value], context.agencies))
        return
    actionable = rule == "actionable" or (
        isinstance(rule, Mapping) and parent.get(str(rule.get("actionable_if", ""))) is True)
    if actionable and context.can_act is not None and not context.can_act(value):
        refuse(no_lead_message(value))


def _rule_problem(keyword: str, value: Any) -> str | None:
    if keyword in ("x-reason", "x-not-future"):
        return None if isinstance(value, bool) else "must be true or false"
    if keyword == "x-date-order":
        fine = isinstance(value, list) and all(
            isinstance(chain, list) and len(chain) >= 2
            and all(isinstance(name, str) for name in chain) for chain in value)
        return None if fine else "must be a list of lists of two or more field names"
    if keyword in ("x-not-after", "x-same-as"):
        source = "date" if keyword == "x-not-after" else "data"
        fine = isinstance(value, Mapping) and isinstance(value.get(source), str) \
            and set(value) <= {source, "unless"} \
            and isinstance(value.get("unless", ""), str)
        return None if fine else f"must be {{\"{source}\": <process variable>, " \
                                 "\"unless\": <field>}"
    if keyword == "x-agency":
        fine = value in (True, False, "actionable") or (
            isinstance(value, Mapping) and set(value) == {"actionable_if"}
            and isinstance(value["actionable_if"], str))
        return None if fine else 'must be true, "actionable" or {"actionable_if": <field>}'
    return None


def keyword_problems(schema: Any, path: str = "") -> list[str]:
    """The Board's keywords used with a value they cannot take (checked when forms deploy)."""
    problems: list[str] = []
    if isinstance(schema, Mapping):
        for key, value in schema.items():
            where = f"{path}/{key}"
            problem = _rule_problem(key, value) if isinstance(key, str) else None
            if problem:
                problems.append(f"{where}: {key} {problem}")
            problems.extend(keyword_problems(value, where))
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            problems.extend(keyword_problems(item, f"{path}/{index}"))
    return problems


def with_agency_choices(schema: Any, found: AgencyRegister) -> Any:
    """A copy of the schema whose `x-agency` fields list the register as choices (`enum`,
    `enumNames`): the browser shows them as a select, an agency system reads them."""
    if isinstance(schema, list):
        return [with_agency_choices(item, found) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    copy = {key: with_agency_choices(value, found) for key, value in schema.items()}
    if copy.get("x-agency") and "enum" not in copy:
        copy["enum"] = [agency.id for agency in found.agencies]
        copy["enumNames"] = [agency.name for agency in found.agencies]
    return copy
