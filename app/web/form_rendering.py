"""User-task forms in the browser, the page side: a JSON Schema, the values typed so far and
the validator's errors become field specs (`_Field`), which the Jinja macros in
`templates/form_macros.html` draw as plain HTML fields (autoescaped, no inline style or script).

Field names and ids, and reading submitted fields back, are `app.web.form_parsing`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from markupsafe import Markup

from app.web.form_parsing import (
    _INDEX,
    ACTION_FIELD,
    Path,
    _action_path,
    _id_part,
    _items,
    _min_items,
    _option_value,
    _properties,
    _type,
    _widget,
    field_id,
    field_name,
    path_key,
)
from app.web.templating import TEMPLATES

FORM_ERRORS: Final = "(form)"
"""The `field` of errors that belong to the whole form rather than to one field."""
MACROS: Final = "form_macros.html"
"""The template whose macros draw the fields."""

_REQUIRED_MESSAGE = re.compile(r"'(?P<name>.*)' is required")


# --------------------------------------------------------------------------------------------
# Labels and hints


def _humanise(name: str) -> str:
    """`relationship_to_child` -> `Relationship to child`."""
    words = re.sub(r"[_\s]+", " ", str(name)).strip()
    return words[:1].upper() + words[1:] if words else str(name)


def _title(schema: Mapping[str, Any], name: str | int) -> str:
    title = schema.get("title")
    return title if isinstance(title, str) and title.strip() else _humanise(str(name))


def _lower_first(text: str) -> str:
    """`Lesson` -> `lesson`, but `SMART actions` stays as it is."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


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


def _conditional_hints(schema: Mapping[str, Any]) -> dict[str, str]:
    """'required when …' for each property that an allOf if/then makes required."""
    properties = _properties(schema)
    always = set(schema.get("required") or [])
    rules = [rule for rule in (schema.get("allOf") or []) if isinstance(rule, Mapping)]
    if "if" in schema:
        rules.append(schema)
    single: dict[str, dict[str, list[str]]] = {}
    multiple: dict[str, list[str]] = {}
    unknown: set[str] = set()
    for rule in rules:
        then = rule.get("then")
        if "if" not in rule or not isinstance(then, Mapping):
            continue
        targets = [name for name in (then.get("required") or [])
                   if name in properties and name not in always]
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
            hints[target] = "required when " + " or when ".join(phrases)
        elif target in unknown:
            hints[target] = "required depending on other answers"
    return hints


def _answer_phrase(properties: Mapping[str, Mapping[str, Any]], name: str,
                   labels: list[str]) -> str:
    title = _title(properties[name], name)
    return f"the answer to '{title}' is " + " or ".join(labels)


def _describe(schema: Mapping[str, Any], where: str) -> tuple[list[str], str, str] | None:
    """For an error's field: the labels of what it sits in (the list, the row), its own
    label, and its property name; None if the schema has no such field."""
    current: Mapping[str, Any] = schema
    labels: list[str] = []
    name = ""
    for raw in where.split("."):
        kind = _type(current)
        if kind == "object" and raw in _properties(current):
            current = _properties(current)[raw]
            labels.append(_title(current, raw))
        elif kind == "array" and _INDEX.fullmatch(raw):
            current = _items(current)
            labels.append(_row_label(current, int(raw)))
        else:
            return None
        name = raw
    return labels[:-1], labels[-1], name

# --------------------------------------------------------------------------------------------
# Errors


def errors_by_field(errors: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Group `validate_submission` errors by field path (`a.0.b`); `(form)` keeps its name."""
    grouped: dict[str, list[str]] = {}
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        name = str(error.get("field") or FORM_ERRORS)
        grouped.setdefault(name, []).append(str(error.get("message", "")))
    return grouped


def _message(message: str, title: str, name: str) -> str:
    """`'new_grade' is required` -> `'Grade you propose instead' is required`."""
    found = _REQUIRED_MESSAGE.fullmatch(message)
    if found and found.group("name") == name:
        return f"'{title}' is required"
    return message


@dataclass(frozen=True)
class _SummaryItem:
    """One line of the error summary; `target` is the id it links to (None for the form)."""

    message: str
    target: str | None = None


def form_errors_summary(errors: Iterable[Mapping[str, Any]], *,
                        schema: Mapping[str, Any] | None = None, prefix: str = "f") -> Markup:
    """The error summary for the top of the page (GOV.UK pattern): every error, linked to its
    field's id; errors on `(form)` are listed without a link. Empty when there are no errors.

    With the schema, messages name the field and the row it is in
    ("Chronology of significant events, entry 2: 'Date' is required").
    """
    items: list[_SummaryItem] = []
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        where = str(error.get("field") or FORM_ERRORS)
        message = str(error.get("message", ""))
        if where == FORM_ERRORS:
            items.append(_SummaryItem(message))
            continue
        described = _describe(schema, where) if schema is not None else None
        if described is not None:
            context, title, name = described
            message = _message(message, title, name)
            if not _REQUIRED_MESSAGE.fullmatch(message):
                context = [*context, title]
            if context:
                message = f"{', '.join(context)}: {message}"
        items.append(_SummaryItem(message, field_id(prefix, where.split("."))))
    if not items:
        return Markup("")
    return _macro("error_summary", f"{_id_part(prefix)}--error-summary-title", items)


# --------------------------------------------------------------------------------------------
# Field specs


def _macro(name: str, *args: Any) -> Markup:
    """Call a macro of the form template; it escapes every value it draws."""
    html = getattr(TEMPLATES.get_template(MACROS).module, name)(*args)
    if not isinstance(html, Markup):  # only an autoescaping environment returns Markup
        raise RuntimeError(f"{MACROS} must be rendered with autoescaping on")
    return html


def _text_value(value: Any) -> str:
    if value is None or isinstance(value, Mapping | list):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _row_label(items: Mapping[str, Any], index: int) -> str:
    title = items.get("title")
    if isinstance(title, str) and title.strip():
        return f"{title} {index + 1}"
    return f"Entry {index + 1}"


@dataclass(frozen=True)
class _Option:
    """One radio, checkbox or <option>: what it submits, its label, whether it is chosen."""

    value: str
    label: str
    checked: bool
    id: str = ""


@dataclass(frozen=True)
class _Button:
    """A submit button of the page's own (`name="_action"`): add a row, remove a row."""

    value: str
    label: str
    aria_label: str | None = None
    name: str = ACTION_FIELD


@dataclass
class _Field:
    """What the macros need to draw one field: where it is, what it is called, what to say
    about it, and what its widget shows (`widget` is `_widget`'s name for it)."""

    path: Path
    label: str
    required: bool
    hint: str | None
    messages: list[str]
    prefix: str
    remove: _Button | None = None
    """A row's Remove button, drawn last inside the row."""
    widget: str = "text"
    text: str = ""
    """The value of a text, textarea, date or number input."""
    integer: bool = False
    options: list[_Option] = field(default_factory=list)
    children: list[_Field] = field(default_factory=list)
    """An object's properties, or an array's rows."""
    marker: bool = False
    """An object that is a row submits an empty hidden field named by its path."""
    add: _Button | None = None

    @property
    def id(self) -> str:
        return field_id(self.prefix, self.path)

    @property
    def name(self) -> str:
        return field_name(self.prefix, self.path)

    @property
    def hint_id(self) -> str | None:
        return f"{self.id}--hint" if self.hint else None

    @property
    def error_id(self) -> str | None:
        return f"{self.id}--error" if self.messages else None

    @property
    def describedby(self) -> str | None:
        ids = [i for i in (self.hint_id, self.error_id) if i]
        return " ".join(ids) or None

    def css(self, kind: str) -> str:
        return f"field field--{kind}" + (" has-error" if self.messages else "")


class _Specs:
    """Builds the field specs of a form, with each field's messages from the validator."""

    def __init__(self, prefix: str, errors: dict[str, list[str]]) -> None:
        self.prefix = prefix
        self.errors = errors

    def messages(self, path: Path, title: str) -> list[str]:
        name = str(path[-1]) if path else ""
        return [_message(message, title, name) for message in self.errors.get(path_key(path), [])]

    def properties(self, schema: Mapping[str, Any], values: Any, path: Path) -> list[_Field]:
        values = values if isinstance(values, Mapping) else {}
        required = set(schema.get("required") or [])
        hints = _conditional_hints(schema)
        fields: list[_Field] = []
        for name, sub in _properties(schema).items():
            title = _title(sub, name)
            spec = _Field(path=(*path, name), label=title, required=name in required,
                          hint=_join_hints(sub.get("description"), hints.get(name)),
                          messages=self.messages((*path, name), title), prefix=self.prefix)
            fields.append(self.field(sub, values.get(name), spec))
        return fields

    def field(self, schema: Mapping[str, Any], value: Any, spec: _Field) -> _Field:
        spec.widget = widget = _widget(schema)
        if widget == "object":
            spec.children = self.properties(schema, value, spec.path)
        elif widget == "array":
            self.array(schema, value, spec)
        elif widget == "checkboxes":
            chosen = {_option_value(item) for item in value} if isinstance(value, list) else set()
            spec.options = self._choices(_options(_items(schema)), chosen, spec)
        elif widget == "yesno":
            spec.options = self._choices([("yes", "Yes"), ("no", "No")], {_text_value(value)},
                                         spec)
        elif widget in ("radios", "select"):
            current = _option_value(value) if value is not None else ""
            spec.options = self._choices(_options(schema), {current}, spec)
        else:
            spec.text = _text_value(value)
            spec.integer = _type(schema) == "integer"
        return spec

    def _choices(self, options: list[tuple[str, str]], checked: set[str],
                 spec: _Field) -> list[_Option]:
        return [_Option(submitted, label, submitted in checked,
                        spec.id if index == 0 else f"{spec.id}--{index}")
                for index, (submitted, label) in enumerate(options)]

    def array(self, schema: Mapping[str, Any], value: Any, spec: _Field) -> None:
        items = _items(schema)
        if isinstance(value, list):
            rows: list[Any] = value
        elif value is None:
            rows = [None] * _min_items(schema)
        else:
            rows = []
        for index, row in enumerate(rows):
            label = _row_label(items, index)
            row_path = (*spec.path, index)
            remove = _Button(f"remove:{_action_path(row_path)}", "Remove",
                             f"Remove {_lower_first(label)} from {spec.label}")
            row_spec = _Field(path=row_path, label=label, required=False,
                              hint=_join_hints(items.get("description")),
                              messages=self.messages(row_path, label), prefix=self.prefix,
                              remove=remove)
            row_spec = self.field(items, row, row_spec)
            row_spec.marker = row_spec.widget == "object"
            spec.children.append(row_spec)
        titled = isinstance(items.get("title"), str) and items["title"].strip()
        add_label = (f"Add {_lower_first(items['title'])}" if titled
                     else f"Add entry to {_lower_first(spec.label)}")
        spec.add = _Button(f"add:{_action_path(spec.path)}", add_label)


def _join_hints(*hints: Any) -> str | None:
    texts = [hint.strip() for hint in hints if isinstance(hint, str) and hint.strip()]
    return " ".join(texts) or None


def render_form(schema: Mapping[str, Any], values: Mapping[str, Any] | None,
                errors: Iterable[Mapping[str, Any]] = (), *, prefix: str = "f") -> Markup:
    """The HTML of the form's fields (no <form>, CSRF field or buttons of the page's own).

    Every field has a label (or a legend, for groups), "(required)" and aria-required when the
    schema requires it, a "required when …" hint for allOf if/then requirements, its current
    value, and its error messages from `validate_submission` next to it, referenced by
    aria-describedby. Arrays show one row per item (at least `minItems` when there is no value
    yet) with Remove buttons and an Add button, all `name="_action"` submit buttons.
    """
    specs = _Specs(prefix, errors_by_field(errors))
    return _macro("fields", specs.properties(schema, values or {}, ()))
