"""How a task form's questions read and which answers reveal which questions.

From a JSON Schema: a question's title, its options and how an answer reads in a hint, and the
`if`/`then` (or `else`) rules by which one answer of a radio question makes another question
required, so that the page draws it inside that answer (`app.web.form_rendering`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.web.form_parsing import _option_value, _properties, _widget


def _humanise(name: str) -> str:
    """`relationship_to_child` -> `Relationship to child`."""
    words = re.sub(r"[_\s]+", " ", str(name)).strip()
    return words[:1].upper() + words[1:] if words else str(name)


def _title(schema: Mapping[str, Any], name: str | int) -> str:
    title = schema.get("title")
    return title if isinstance(title, str) and title.strip() else _humanise(str(name))


def _options(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(submitted value, label) for each enum option; labels from `enumNames` when given."""
    options = list(schema.get("enum") or [])
    names = schema.get("enumNames")
    labels = names if isinstance(names, list) and len(names) == len(options) else None
    result = []
    for index, option in enumerate(options):
        if labels is not None:
            label = str(labels[index])
        elif isinstance(option, str):
            label = _humanise(option)
        else:
            label = _option_value(option)
        result.append((_option_value(option), label))
    return result


def _value_label(schema: Mapping[str, Any], value: Any) -> str:
    """How an answer reads in a hint: Yes / No, or the option's label in quotes."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    encoded = _option_value(value)
    for submitted, label in _options(schema):
        if submitted == encoded:
            return f"'{label}'"
    return f"'{value}'" if isinstance(value, str) else encoded


def _condition(rule_if: Any, properties: Mapping[str, Mapping[str, Any]],
               ) -> list[tuple[str, list[str]]] | None:
    """The `if` of an if/then as [(property, [answer labels])], or None if it is not the
    simple "these answers were given" pattern."""
    if not isinstance(rule_if, Mapping):
        return None
    props = rule_if.get("properties")
    required = rule_if.get("required") or []
    if not isinstance(props, Mapping) or not props or not isinstance(required, list):
        return None
    terms: list[tuple[str, list[str]]] = []
    for name, test in props.items():
        if name not in properties or name not in required or not isinstance(test, Mapping):
            return None
        if "const" in test:
            values = [test["const"]]
        elif isinstance(test.get("enum"), list) and test["enum"]:
            values = list(test["enum"])
        else:
            return None
        terms.append((name, [_value_label(properties[name], value) for value in values]))
    return terms


def _rules(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rules = [rule for rule in (schema.get("allOf") or []) if isinstance(rule, Mapping)]
    if "if" in schema:
        rules.append(schema)
    return [rule for rule in rules if "if" in rule]


def _requires(rule: Mapping[str, Any], branch: str) -> list[str]:
    found = rule.get(branch)
    required = found.get("required") if isinstance(found, Mapping) else None
    return [name for name in required if isinstance(name, str)] \
        if isinstance(required, list) else []


def _reveals(schema: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """For each property that one answer of one radio question makes required (and nothing
    else does): (that question's property, the answer's submitted value). The page draws the
    property inside that answer (GOV.UK's conditional reveal)."""
    properties = _properties(schema)
    always = set(schema.get("required") or [])
    triggers: dict[str, set[tuple[str, str]]] = {}
    for rule in _rules(schema):
        terms = _raw_condition(rule["if"], properties)
        for branch in ("then", "else"):
            for target in _requires(rule, branch):
                if target not in properties or target in always:
                    continue
                answer = _answer(properties, terms, negate=branch == "else")
                triggers.setdefault(target, set()).add(answer or ("", ""))
    reveals: dict[str, tuple[str, str]] = {}
    for target, answers in triggers.items():
        if len(answers) != 1:
            continue
        [(question, value)] = answers
        if question and question != target and question not in triggers \
                and _widget(properties[question]) in ("yesno", "radios"):
            reveals[target] = (question, value)
    return reveals


def _raw_condition(rule_if: Any, properties: Mapping[str, Mapping[str, Any]],
                   ) -> list[tuple[str, list[Any]]] | None:
    if not isinstance(rule_if, Mapping):
        return None
    props = rule_if.get("properties")
    required = rule_if.get("required") or []
    if not isinstance(props, Mapping) or len(props) != 1 or not isinstance(required, list):
        return None
    [(name, test)] = props.items()
    if name not in properties or name not in required or not isinstance(test, Mapping):
        return None
    if "const" in test:
        return [(name, [test["const"]])]
    if isinstance(test.get("enum"), list) and len(test["enum"]) == 1:
        return [(name, list(test["enum"]))]
    return None


def _answer(properties: Mapping[str, Mapping[str, Any]],
            terms: list[tuple[str, list[Any]]] | None, *, negate: bool) -> tuple[str, str] | None:
    """The one (question, submitted answer) a condition (or its negation) stands for."""
    if not terms:
        return None
    [(name, values)] = terms
    value = values[0]
    if negate:
        if not isinstance(value, bool):
            return None
        value = not value
    return name, ("yes" if value else "no") if isinstance(value, bool) else _option_value(value)


def _conditional_hints(schema: Mapping[str, Any]) -> dict[str, str]:
    """'Required if …' for each property that an allOf if/then makes required (and that is
    not revealed under the answer that needs it)."""
    properties = _properties(schema)
    always = set(schema.get("required") or [])
    revealed = _reveals(schema)
    single: dict[str, dict[str, list[str]]] = {}
    multiple: dict[str, list[str]] = {}
    unknown: set[str] = set()
    for rule in _rules(schema):
        targets = [name for name in _requires(rule, "then")
                   if name in properties and name not in always and name not in revealed]
        terms = _condition(rule["if"], properties)
        for target in targets:
            if terms is None:
                unknown.add(target)
            elif len(terms) == 1:
                name, labels = terms[0]
                known = single.setdefault(target, {}).setdefault(name, [])
                known.extend(label for label in labels if label not in known)
            else:
                multiple.setdefault(target, []).append(" and ".join(
                    _answer_phrase(properties, name, labels) for name, labels in terms))
    hints: dict[str, str] = {}
    for target in properties:
        phrases = [_answer_phrase(properties, name, labels)
                   for name, labels in single.get(target, {}).items()]
        phrases += multiple.get(target, [])
        if phrases:
            hints[target] = "Required if " + " or if ".join(phrases)
        elif target in unknown:
            hints[target] = "Required depending on other answers"
    return hints


def _answer_phrase(properties: Mapping[str, Mapping[str, Any]], name: str,
                   labels: list[str]) -> str:
    title = _title(properties[name], name)
    return f"the answer to '{title}' is " + " or ".join(labels)
