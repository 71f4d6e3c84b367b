"""Form validation that no value can stall: RE2 regexes, linear keywords and a time budget.

jsonschema runs `pattern`, `patternProperties` (and the `additionalProperties` that depends on
them) with Python's `re`, which backtracks: `^(a+)+$` on thirty a's and a `!` takes tens of
seconds inside one C call that holds the GIL, so every other request, `/health` included,
waits. Here those keywords run on RE2 (`google-re2`, linear in the input), the `date` format
is checked with RE2, and `uniqueItems` is linear instead of quadratic. A pattern RE2 cannot run
(backreferences, lookaround) is refused when the form is deployed (`regex_problems`).

Every keyword also checks a per-thread deadline (`budget`): once a submission has taken longer
than its budget, the remaining keywords do nothing, and validation reports one error on the
field where time ran out (`exceeded_at`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import re2
from jsonschema import FormatChecker, ValidationError

DEFAULT_BUDGET_SECONDS = 1.0
"""The default of the `form_validation_seconds` setting."""
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported to the designer, not to stderr
_SHOWN = 60  # characters of a value quoted in an error message

UNSUPPORTED_HINT = ("RE2, the linear-time engine forms use, has no backreferences (\\1) and no "
                    "lookaround ((?=, (?!, (?<=, (?<!)")


# ------------------------------------------------------------------------------- regexes


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> tuple[Any, str | None]:
    try:
        return re2.compile(pattern, options=_OPTIONS), None
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        return None, reason.decode() if isinstance(reason, bytes) else str(reason)


def regex_problem(pattern: object) -> str | None:
    """Why RE2 cannot run `pattern`, or None when it can."""
    if not isinstance(pattern, str):
        return "a pattern must be a string"
    return _compiled(pattern)[1]


def _search(pattern: str, text: str) -> bool:
    """Whether RE2 finds `pattern` in `text`; raises ValueError for a pattern it cannot run
    and UnicodeEncodeError for text that is not valid Unicode (a lone surrogate)."""
    regexp, problem = _compiled(pattern)
    if regexp is None:
        raise ValueError(f"the form's pattern {pattern!r} cannot be used: {problem}")
    return regexp.search(text) is not None


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def _pattern(validator: Any, pattern: str, instance: Any,
             _schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        found = _search(pattern, instance)
    except ValueError as exc:
        yield ValidationError(str(exc))
        return
    except UnicodeEncodeError:
        yield ValidationError("is not valid text (it holds a lone surrogate)")
        return
    if not found:
        yield ValidationError(f"{_shown(instance)} does not match {pattern!r}")


def _matches_any(patterns: Iterable[str], name: str) -> bool:
    try:
        return any(_search(pattern, name) for pattern in patterns)
    except (ValueError, UnicodeEncodeError):
        return False


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any,
                        _schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        problem = regex_problem(pattern)
        if problem is not None:
            yield ValidationError(f"the form's pattern {pattern!r} cannot be used: {problem}")
            continue
        for name, value in instance.items():
            if _matches_any((pattern,), name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any,
                           schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    """jsonschema's `additionalProperties`, with the `patternProperties` regexes on RE2."""
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties") or {}
    patterns = list(schema.get("patternProperties") or {})
    extras = [name for name in instance
              if name not in properties and not _matches_any(patterns, name)]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif not additional and extras:
        names = ", ".join(repr(name) for name in sorted(extras, key=str))
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            yield ValidationError(f"{names} {verb} not match any of the regexes: "
                                  + ", ".join(repr(p) for p in sorted(patterns)))
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({names} {verb} "
                                  "unexpected)")


def _canonical(value: Any) -> Any:
    """A hashable key equal for values JSON Schema calls equal (1 == 1.0, True != 1)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list | tuple):
        return ("array", tuple(_canonical(item) for item in value))
    if isinstance(value, Mapping):
        return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))
    return ("other", repr(value))


def _unique_items(validator: Any, unique: Any, instance: Any,
                  _schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    """Linear `uniqueItems` (jsonschema compares unhashable items pairwise)."""
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError("has non-unique elements")
            return
        seen.add(key)


_DATE = re2.compile(r"^\d{4}-\d{2}-\d{2}$", options=_OPTIONS)


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return _DATE.search(value) is not None and bool(dt.date.fromisoformat(value))
    except (ValueError, UnicodeEncodeError):
        return False


FORMAT_CHECKER = FormatChecker(formats=())
"""Dates are checked (`YYYY-MM-DD`, on RE2); the Board's other `format`s (textarea) only guide
display."""
FORMAT_CHECKER.checks("date")(_is_date)
SCHEMA_FORMAT_CHECKER = FormatChecker()
"""For checking a form against its meta-schema: a `regex` is what RE2 can run (Python's `re`
refuses `\\p{L}`, which RE2 and JSON Schema's ECMA-262 regexes accept)."""
SCHEMA_FORMAT_CHECKER.checks("regex")(
    lambda value: not isinstance(value, str) or regex_problem(value) is None)

LINEAR_KEYWORDS: dict[str, Callable[..., Any]] = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "uniqueItems": _unique_items,
}


# -------------------------------------------------------------------------------- budget


class _Budget(threading.local):
    deadline: float = math.inf
    seconds: float = 0.0
    exceeded_at: Any = None
    exceeded: bool = False


_BUDGET = _Budget()


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[_Budget]:
    """Validation inside runs against a deadline `seconds` from now; the yielded state says
    whether it passed (`exceeded`) and on which value (`exceeded_at`)."""
    state = _BUDGET
    saved = (state.deadline, state.seconds, state.exceeded_at, state.exceeded)
    state.deadline = time.monotonic() + seconds
    state.seconds, state.exceeded_at, state.exceeded = seconds, None, False
    try:
        yield state
    finally:
        state.deadline, state.seconds, state.exceeded_at, state.exceeded = saved


def out_of_time(instance: Any) -> bool:
    """Whether the budget is spent; the first time it is, remember the value being checked."""
    state = _BUDGET
    if state.exceeded:
        return True
    if time.monotonic() <= state.deadline:
        return False
    state.exceeded, state.exceeded_at = True, instance
    return True


def budgeted(keyword: Callable[..., Any]) -> Callable[..., Any]:
    """A keyword function that does nothing once the budget is spent."""

    @functools.wraps(keyword)
    def checked(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if out_of_time(instance):
            return ()
        return keyword(validator, value, instance, schema)

    return checked


def budget_message(seconds: float) -> str:
    return (f"checking this answer took longer than the limit of {seconds:g} s; give a "
            "shorter or simpler answer")


def path_of(data: Any, target: Any) -> str:
    """The field path (`a.0.b`) of the object `target` inside `data`, "(form)" when it is the
    whole submission or cannot be found."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if value is target:
            return ".".join(path) or "(form)"
        if isinstance(value, Mapping):
            stack.extend((item, (*path, str(key))) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*path, str(index))) for index, item in enumerate(value))
    return "(form)"


# ------------------------------------------------------------------------ deploy checks

_SCHEMA = ("additionalItems", "additionalProperties", "contains", "else", "if", "not",
           "propertyNames", "then", "unevaluatedItems", "unevaluatedProperties")
_SCHEMA_MAPS = ("$defs", "definitions", "dependentSchemas", "properties", "patternProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def regex_problems(schema: Any, path: str = "") -> list[str]:
    """Every `pattern` and `patternProperties` regex of a schema that RE2 cannot run, and
    `unevaluatedProperties` next to `patternProperties` (jsonschema would run those regexes
    on Python's backtracking engine), each with its place in the schema."""
    problems: list[str] = []
    if not isinstance(schema, Mapping):
        return problems
    if not path and _mentions(schema, "patternProperties") \
            and _mentions(schema, "unevaluatedProperties"):
        problems.append("unevaluatedProperties cannot be used in a form that has "
                        "patternProperties")
    pattern = schema.get("pattern")
    if "pattern" in schema and (problem := regex_problem(pattern)) is not None:
        problems.append(f"{path}/pattern: the pattern {pattern!r} cannot be used: {problem}; "
                        f"{UNSUPPORTED_HINT}")
    named = schema.get("patternProperties")
    if isinstance(named, Mapping):
        for key in named:
            if (problem := regex_problem(key)) is not None:
                problems.append(f"{path}/patternProperties: the pattern {key!r} cannot be "
                                f"used: {problem}; {UNSUPPORTED_HINT}")
    for key in _SCHEMA:
        problems.extend(regex_problems(schema.get(key), f"{path}/{key}"))
    for key in _SCHEMA_MAPS:
        subschemas = schema.get(key)
        if isinstance(subschemas, Mapping):
            for name, sub in subschemas.items():
                problems.extend(regex_problems(sub, f"{path}/{key}/{name}"))
    items = schema.get("items")
    for key, value in (("items", items), *((k, schema.get(k)) for k in _SCHEMA_LISTS)):
        if isinstance(value, list):
            for index, sub in enumerate(value):
                problems.extend(regex_problems(sub, f"{path}/{key}/{index}"))
        elif key == "items":
            problems.extend(regex_problems(value, f"{path}/items"))
    return problems


def _mentions(schema: Any, keyword: str) -> bool:
    if isinstance(schema, Mapping):
        return keyword in schema or any(_mentions(value, keyword) for value in schema.values())
    if isinstance(schema, list):
        return any(_mentions(item, keyword) for item in schema)
    return False
