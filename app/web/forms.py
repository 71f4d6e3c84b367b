"""User-task forms in the browser: JSON Schema to plain HTML fields, and submitted fields to JSON.

No JavaScript: rows of arrays are added and removed by ordinary submit buttons
(`name="_action" value="add:<path>"` / `value="remove:<path>.<index>"`); the page parses the
form, calls `apply_action` and renders the form again with everything typed kept.

Naming: every field is named by its JSON path under a prefix, `f.chronology.0.date`,
`f.genogram.people.1.name` (a `.` or `%` inside a property name is written `%2E` / `%25`).
Its id is the same path joined by `-` (`f-chronology-0-date`); ids that belong to a field but
are not its input end in `--<what>` (`f-analysis--error`, `f-analysis--hint`), which no path
can produce. Array containers and rows of objects also submit an empty hidden field named by
their own path, so an emptied array and a blank row are still seen by `parse_form`.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from markupsafe import Markup, escape

ACTION_FIELD: Final = "_action"
"""Name of the submit buttons that add or remove rows (and of the page's own buttons)."""
FORM_ERRORS: Final = "(form)"
"""The `field` of errors that belong to the whole form rather than to one field."""
RADIO_LIMIT: Final = 4
"""Enums with at most this many options are radios; longer ones are a <select>."""
MAX_INDEX_DIGITS: Final = 6
"""Row indexes in field names longer than this are ignored (no one types a million rows)."""

Path = tuple[str | int, ...]
FormItems = Mapping[str, Any] | Iterable[tuple[str, Any]]

_SAFE_ID_PART = re.compile(r"[A-Za-z0-9_]+")
_INDEX = re.compile(rf"[0-9]{{1,{MAX_INDEX_DIGITS}}}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_REQUIRED_MESSAGE = re.compile(r"'(?P<name>.*)' is required")


class _Missing:
    """Marks a value the form did not supply (so it is left out of the JSON)."""

    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Final = _Missing()


# --------------------------------------------------------------------------------------------
# Names, ids and paths


def _name_part(part: str | int) -> str:
    return str(part).replace("%", "%25").replace(".", "%2E")


def _decode_name_part(part: str) -> str:
    return re.sub(r"%(2[Ee]|25)", lambda m: "." if m.group(1) in ("2E", "2e") else "%", part)


def _id_part(part: str | int) -> str:
    text = str(part)
    if _SAFE_ID_PART.fullmatch(text):
        return text
    return ":" + text.encode("utf-8").hex()


def field_name(prefix: str, path: Sequence[str | int]) -> str:
    """The form field name for a JSON path: `f.chronology.0.date`."""
    return ".".join([prefix, *(_name_part(part) for part in path)])


def field_id(prefix: str, path: Sequence[str | int]) -> str:
    """The HTML id of the field (its first radio or checkbox, or its fieldset) for a path."""
    return "-".join([_id_part(prefix), *(_id_part(part) for part in path)])


def path_key(path: Sequence[str | int]) -> str:
    """A path as `validate_submission` names fields: `chronology.0.date`."""
    return ".".join(str(part) for part in path)


def _action_path(path: Sequence[str | int]) -> str:
    return ".".join(_name_part(part) for part in path)


# --------------------------------------------------------------------------------------------
# Reading the schema


def _type(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((kind for kind in declared if kind != "null"), None)
    if isinstance(declared, str):
        return declared
    if isinstance(schema.get("properties"), Mapping):
        return "object"
    if "items" in schema:
        return "array"
    options = schema.get("enum")
    if isinstance(options, list) and options:
        first = options[0]
        if isinstance(first, bool):
            return "boolean"
        if isinstance(first, int):
            return "integer"
        if isinstance(first, float):
            return "number"
    return "string"


def _properties(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found = schema.get("properties")
    if not isinstance(found, Mapping):
        return {}
    return {name: sub for name, sub in found.items() if isinstance(sub, Mapping)}


def _items(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    items = schema.get("items")
    return items if isinstance(items, Mapping) else {}


def _min_items(schema: Mapping[str, Any]) -> int:
    value = schema.get("minItems")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _has_enum(schema: Mapping[str, Any]) -> bool:
    options = schema.get("enum")
    return isinstance(options, list) and bool(options)


def _widget(schema: Mapping[str, Any]) -> str:
    """How a schema is shown: text, textarea, date, number, yesno, radios, select,
    checkboxes (an array of enum choices), array, object."""
    kind = _type(schema)
    if kind == "boolean":
        return "yesno"
    if _has_enum(schema) and kind not in ("object", "array"):
        return "radios" if len(schema["enum"]) <= RADIO_LIMIT else "select"
    if kind == "object":
        return "object"
    if kind == "array":
        items = _items(schema)
        if _has_enum(items) and _type(items) in ("string", "integer", "number"):
            return "checkboxes"
        return "array"
    if kind in ("integer", "number"):
        return "number"
    fmt = schema.get("format")
    if fmt == "textarea":
        return "textarea"
    if fmt == "date":
        return "date"
    return "text"


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


def _option_value(option: Any) -> str:
    return option if isinstance(option, str) else json.dumps(option)


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


def _resolve(schema: Mapping[str, Any], parts: Sequence[str],
             ) -> tuple[Path, Mapping[str, Any]] | None:
    """Turn encoded name parts into a JSON path checked against the schema (None if unknown)."""
    current = schema
    path: list[str | int] = []
    for raw in parts:
        kind = _type(current)
        if kind == "object":
            name = _decode_name_part(raw)
            sub = _properties(current).get(name)
            if sub is None:
                return None
            path.append(name)
            current = sub
        elif kind == "array" and _INDEX.fullmatch(raw):
            path.append(int(raw))
            current = _items(current)
        else:
            return None
    return tuple(path), current


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


def form_errors_summary(errors: Iterable[Mapping[str, Any]], *,
                        schema: Mapping[str, Any] | None = None, prefix: str = "f") -> Markup:
    """The error summary for the top of the page (GOV.UK pattern): every error, linked to its
    field's id; errors on `(form)` are listed without a link. Empty when there are no errors.

    With the schema, messages name the field and the row it is in
    ("Chronology of significant events, entry 2: 'Date' is required").
    """
    items: list[Markup] = []
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        where = str(error.get("field") or FORM_ERRORS)
        message = str(error.get("message", ""))
        if where == FORM_ERRORS:
            items.append(Markup("<li>{}</li>").format(message))
            continue
        described = _describe(schema, where) if schema is not None else None
        if described is not None:
            context, title, name = described
            message = _message(message, title, name)
            if not _REQUIRED_MESSAGE.fullmatch(message):
                context = [*context, title]
            if context:
                message = f"{', '.join(context)}: {message}"
        target = field_id(prefix, where.split("."))
        items.append(Markup('<li><a href="#{}">{}</a></li>').format(target, message))
    if not items:
        return Markup("")
    title_id = f"{_id_part(prefix)}--error-summary-title"
    return Markup(
        '<div class="error-summary" role="alert" tabindex="-1" aria-labelledby="{}">'
        '<h2 id="{}">There is a problem</h2><ul class="error-summary-list">{}</ul></div>'
    ).format(title_id, title_id, Markup("").join(items))


# --------------------------------------------------------------------------------------------
# Rendering


def _attrs(**attributes: str | bool | None) -> Markup:
    """` name="value"` pairs, escaped; True gives a bare attribute, False/None leaves it out.
    A trailing `_` is dropped and `_` becomes `-` (`class_`, `aria_describedby`)."""
    parts: list[Markup] = []
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        if value is True:
            parts.append(Markup(" {}").format(name))
        else:
            parts.append(Markup(' {}="{}"').format(name, value))
    return Markup("").join(parts)


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


def _required_marker(required: bool) -> Markup:
    return Markup(' <span class="field-required">(required)</span>') if required else Markup("")


@dataclass
class _Field:
    """What every kind of field needs: where it is, what it is called, what to say about it."""

    path: Path
    label: str
    required: bool
    hint: str | None
    messages: list[str]
    prefix: str
    extra: Markup = field(default_factory=Markup)

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

    def notes(self) -> Markup:
        """The hint, then the error message, as GOV.UK places them (before the input)."""
        html = Markup("")
        if self.hint:
            html += Markup('<p class="field-hint" id="{}">{}</p>').format(self.hint_id, self.hint)
        if self.messages:
            text = Markup("<br>").join(escape(message) for message in self.messages)
            html += Markup(
                '<p class="field-error" id="{}"><span class="visually-hidden">Error:</span> {}</p>'
            ).format(self.error_id, text)
        return html


class _Renderer:
    def __init__(self, prefix: str, errors: dict[str, list[str]]) -> None:
        self.prefix = prefix
        self.errors = errors

    def messages(self, path: Path, title: str) -> list[str]:
        name = str(path[-1]) if path else ""
        return [_message(message, title, name) for message in self.errors.get(path_key(path), [])]

    def properties(self, schema: Mapping[str, Any], values: Any, path: Path) -> Markup:
        values = values if isinstance(values, Mapping) else {}
        required = set(schema.get("required") or [])
        hints = _conditional_hints(schema)
        html = Markup("")
        for name, sub in _properties(schema).items():
            title = _title(sub, name)
            spec = _Field(path=(*path, name), label=title, required=name in required,
                          hint=_join_hints(sub.get("description"), hints.get(name)),
                          messages=self.messages((*path, name), title), prefix=self.prefix)
            html += self.field(sub, values.get(name), spec)
        return html

    def field(self, schema: Mapping[str, Any], value: Any, spec: _Field) -> Markup:
        widget = _widget(schema)
        if widget == "object":
            return self.object(schema, value, spec)
        if widget == "array":
            return self.array(schema, value, spec)
        if widget == "checkboxes":
            return self.checkboxes(schema, value, spec)
        if widget == "yesno":
            return self.radios([("yes", "Yes"), ("no", "No")], _text_value(value), spec)
        if widget == "radios":
            current = _option_value(value) if value is not None else ""
            return self.radios(_options(schema), current, spec)
        if widget == "select":
            return self.select(schema, value, spec)
        return self.input(widget, schema, value, spec)

    def input(self, widget: str, schema: Mapping[str, Any], value: Any, spec: _Field) -> Markup:
        common = _attrs(id=spec.id, name=spec.name,
                        aria_required="true" if spec.required else None,
                        aria_invalid="true" if spec.messages else None,
                        aria_describedby=spec.describedby)
        text = _text_value(value)
        if widget == "textarea":
            # The newline after the tag is eaten by the HTML parser, so a value that starts
            # with a newline keeps it.
            control = Markup('<textarea class="field-textarea" rows="5"{}>\n{}</textarea>').format(
                common, text)
        else:
            if widget == "number":
                integer = _type(schema) == "integer"
                extra = _attrs(type="number", step="1" if integer else "any",
                               inputmode="numeric" if integer else "decimal")
            else:
                extra = _attrs(type="date" if widget == "date" else "text")
            control = Markup('<input class="field-input"{}{}{}>').format(
                extra, common, _attrs(value=text))
        return Markup('<div class="{}"><label class="field-label" for="{}">{}{}</label>'
                      "{}{}{}</div>").format(spec.css(widget), spec.id, spec.label,
                                             _required_marker(spec.required), spec.notes(),
                                             control, spec.extra)

    def select(self, schema: Mapping[str, Any], value: Any, spec: _Field) -> Markup:
        current = _option_value(value) if value is not None else ""
        options = Markup('<option value="">Choose one</option>')
        for submitted, label in _options(schema):
            options += Markup("<option{}>{}</option>").format(
                _attrs(value=submitted, selected=submitted == current), label)
        control = Markup('<select class="field-select"{}>{}</select>').format(
            _attrs(id=spec.id, name=spec.name,
                   aria_required="true" if spec.required else None,
                   aria_invalid="true" if spec.messages else None,
                   aria_describedby=spec.describedby), options)
        return Markup('<div class="{}"><label class="field-label" for="{}">{}{}</label>'
                      "{}{}{}</div>").format(spec.css("select"), spec.id, spec.label,
                                             _required_marker(spec.required), spec.notes(),
                                             control, spec.extra)

    def _choices(self, kind: str, options: list[tuple[str, str]], checked: set[str],
                 spec: _Field) -> Markup:
        html = Markup("")
        for index, (submitted, label) in enumerate(options):
            option_id = spec.id if index == 0 else f"{spec.id}--{index}"
            html += Markup('<div class="option"><input{}> <label for="{}">{}</label></div>').format(
                _attrs(type=kind, id=option_id, name=spec.name, value=submitted,
                       checked=submitted in checked),
                option_id, label)
        return html

    def radios(self, options: list[tuple[str, str]], current: str, spec: _Field) -> Markup:
        return Markup('<fieldset{}><legend class="field-legend">{}{}</legend>{}{}{}</fieldset>'
                      ).format(
            _attrs(class_=spec.css("radios"), role="radiogroup",
                   aria_required="true" if spec.required else None,
                   aria_invalid="true" if spec.messages else None,
                   aria_describedby=spec.describedby),
            spec.label, _required_marker(spec.required), spec.notes(),
            self._choices("radio", options, {current}, spec), spec.extra)

    def checkboxes(self, schema: Mapping[str, Any], value: Any, spec: _Field) -> Markup:
        chosen = {_option_value(item) for item in value} if isinstance(value, list) else set()
        marker = Markup('<input type="hidden"{}>').format(_attrs(name=spec.name, value=""))
        return Markup('<fieldset{}><legend class="field-legend">{}{}</legend>{}{}{}{}</fieldset>'
                      ).format(
            _attrs(class_=spec.css("checkboxes"), aria_describedby=spec.describedby),
            spec.label, _required_marker(spec.required), spec.notes(), marker,
            self._choices("checkbox", _options(_items(schema)), chosen, spec), spec.extra)

    def object(self, schema: Mapping[str, Any], value: Any, spec: _Field,
               marker: bool = False) -> Markup:
        hidden = Markup('<input type="hidden"{}>').format(_attrs(name=spec.name, value="")) \
            if marker else Markup("")
        return Markup('<fieldset{}><legend class="field-legend">{}{}</legend>{}{}{}{}</fieldset>'
                      ).format(
            _attrs(class_=spec.css("object"), id=spec.id, tabindex="-1",
                   aria_describedby=spec.describedby),
            spec.label, _required_marker(spec.required), spec.notes(), hidden,
            self.properties(schema, value, spec.path), spec.extra)

    def array(self, schema: Mapping[str, Any], value: Any, spec: _Field) -> Markup:
        items = _items(schema)
        if isinstance(value, list):
            rows: list[Any] = value
        elif value is None:
            rows = [None] * _min_items(schema)
        else:
            rows = []
        html = Markup('<input type="hidden"{}>').format(_attrs(name=spec.name, value=""))
        for index, row in enumerate(rows):
            label = _row_label(items, index)
            row_path = (*spec.path, index)
            remove = Markup(
                '<div class="row-actions"><button type="submit" class="button secondary"{}>'
                "Remove</button></div>").format(_attrs(
                    name=ACTION_FIELD, value=f"remove:{_action_path(row_path)}",
                    aria_label=f"Remove {_lower_first(label)} from {spec.label}"))
            row_spec = _Field(path=row_path, label=label, required=False,
                              hint=_join_hints(items.get("description")),
                              messages=self.messages(row_path, label), prefix=self.prefix,
                              extra=remove)
            if _widget(items) == "object":
                html += self.object(items, row, row_spec, marker=True)
            else:
                html += self.field(items, row, row_spec)
        titled = isinstance(items.get("title"), str) and items["title"].strip()
        add_label = (f"Add {_lower_first(items['title'])}" if titled
                     else f"Add entry to {_lower_first(spec.label)}")
        html += Markup('<div class="array-actions"><button type="submit" class="button secondary"'
                       "{}>{}</button></div>").format(
            _attrs(name=ACTION_FIELD, value=f"add:{_action_path(spec.path)}"), add_label)
        return Markup('<fieldset{}><legend class="field-legend">{}{}</legend>{}{}{}</fieldset>'
                      ).format(
            _attrs(class_=spec.css("array"), id=spec.id, tabindex="-1",
                   aria_describedby=spec.describedby),
            spec.label, _required_marker(spec.required), spec.notes(), html, spec.extra)


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
    renderer = _Renderer(prefix, errors_by_field(errors))
    return renderer.properties(schema, values or {}, ())


# --------------------------------------------------------------------------------------------
# Parsing


@dataclass
class _Node:
    """The submitted values at one path, and those below it."""

    values: list[str] = field(default_factory=list)
    children: dict[str | int, _Node] = field(default_factory=dict)


def _form_items(form: FormItems) -> Iterable[tuple[Any, Any]]:
    multi = getattr(form, "multi_items", None)
    if callable(multi):  # Starlette's FormData: every value of a repeated name
        return list(multi())
    if isinstance(form, Mapping):
        return list(form.items())
    return list(form)


def _parse_number(raw: str, integer: bool) -> Any:
    text = raw.strip()
    try:
        if _INTEGER.fullmatch(text):
            return int(text)
        if _NUMBER.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                if integer:
                    return int(number) if number.is_integer() else raw
                return number
    except (ValueError, OverflowError):
        pass
    return raw  # left as typed: the validator reports the type error on this field


def _parse_scalar(schema: Mapping[str, Any], raw: str) -> Any:
    """One submitted string as the schema's type; blank is missing; unparseable stays a string."""
    if not raw.strip():
        return _MISSING
    if _has_enum(schema) and _type(schema) != "boolean":
        for option in schema["enum"]:
            if _option_value(option) == raw:
                return option
        return raw
    kind = _type(schema)
    if kind == "boolean":
        answer = raw.strip().lower()
        return True if answer == "yes" else False if answer == "no" else raw
    if kind in ("integer", "number"):
        return _parse_number(raw, kind == "integer")
    if schema.get("format") == "date":
        return raw.strip()
    return raw.replace("\r\n", "\n")


def _convert(schema: Mapping[str, Any], node: _Node, *, row: bool, keep_blank: bool) -> Any:
    kind = _type(schema)
    if kind == "object":
        result: dict[str, Any] = {}
        for name, sub in _properties(schema).items():
            child = node.children.get(name)
            if child is not None:
                value = _convert(sub, child, row=False, keep_blank=keep_blank)
                if value is not _MISSING:
                    result[name] = value
        return result if result or row else _MISSING
    if kind == "array":
        items = _items(schema)
        found: list[Any] = []
        if _widget(schema) == "checkboxes":
            for raw in node.values:
                value = _parse_scalar(items, raw)
                if value is not _MISSING and value not in found:
                    found.append(value)
        else:
            for index in sorted(key for key in node.children if isinstance(key, int)):
                value = _convert(items, node.children[index], row=True, keep_blank=keep_blank)
                if value is _MISSING and keep_blank:
                    value = [] if _type(items) == "array" else ""
                if value is not _MISSING:
                    found.append(value)
        if found:
            return found
        if node.values and (keep_blank or not _min_items(schema)):
            return []  # the array was on the form and the user left it empty
        return _MISSING
    if not node.values:
        return _MISSING
    return _parse_scalar(schema, node.values[-1])


def parse_form(schema: Mapping[str, Any], form: FormItems, *, prefix: str = "f",
               keep_blank_items: bool = False) -> dict[str, Any]:
    """The submitted fields as JSON typed by the schema.

    `form` is Starlette's FormData, `form.multi_items()`, a dict, or (name, value) pairs.
    Only names under `prefix.` that the schema knows are read. Blank answers are left out (so
    "required" fires); integers and numbers are parsed, or kept as typed when they do not parse
    (so the validator names the field); "yes"/"no" are True/False; array rows are read in index
    order with gaps closed. Blank rows of strings are dropped unless `keep_blank_items` — use
    that before `apply_action` and for drafts, so row indexes stay those on the page.
    """
    root = _Node()
    start = prefix + "."
    for name, value in _form_items(form):
        if not isinstance(name, str) or not isinstance(value, str) or not name.startswith(start):
            continue
        resolved = _resolve(schema, name[len(start):].split("."))
        if resolved is None or not resolved[0]:
            continue
        node = root
        for part in resolved[0]:
            node = node.children.setdefault(part, _Node())
        node.values.append(value)
    result = _convert(schema, root, row=True, keep_blank=keep_blank_items)
    return result if isinstance(result, dict) else {}


# --------------------------------------------------------------------------------------------
# Add and remove rows


def _empty_item(items: Mapping[str, Any]) -> Any:
    kind = _type(items)
    if kind == "object":
        return {}
    if kind == "array":
        return []
    return ""


def _child_container(schema: Mapping[str, Any]) -> Any:
    if _type(schema) == "array":
        return [_empty_item(_items(schema)) for _ in range(_min_items(schema))]
    return {}


def apply_action(schema: Mapping[str, Any], data: Mapping[str, Any], action: str,
                 ) -> dict[str, Any]:
    """Apply an add/remove row button to the data, returning new data (the input is unchanged).

    `add:<path>` appends an empty item to the array at `<path>` (an array not yet in the data
    first gets the `minItems` rows the page showed); `remove:<path>.<index>` removes that item
    (nothing happens if it is not there). Raises ValueError for anything else, such as a path
    the schema does not have. The result is for showing again or saving as a draft, not for
    submitting: new rows are empty.
    """
    verb, colon, raw = action.partition(":")
    if not colon or verb not in ("add", "remove") or not raw:
        raise ValueError(f"not a form action: {action!r}")
    resolved = _resolve(schema, raw.split("."))
    if resolved is None:
        raise ValueError(f"the form has no {raw!r}")
    path, target = resolved
    result: dict[str, Any] = copy.deepcopy(dict(data))
    if verb == "add":
        if _type(target) != "array":
            raise ValueError(f"{raw!r} is not a list in this form")
        rows = _walk(schema, result, path, create=True)
        if not isinstance(rows, list):
            raise ValueError("the data does not match the form")
        rows.append(_empty_item(_items(target)))
        return result
    if not path or not isinstance(path[-1], int):
        raise ValueError(f"{raw!r} is not a row of a list in this form")
    rows = _walk(schema, result, path[:-1], create=False)
    if isinstance(rows, list) and path[-1] < len(rows):
        del rows[path[-1]]
    return result


def _walk(schema: Mapping[str, Any], data: dict[str, Any], path: Path, *, create: bool) -> Any:
    """The container at `path` in `data`; with `create`, missing objects and arrays are made
    (arrays with their `minItems` rows, as the page shows them)."""
    current: Any = data
    current_schema: Mapping[str, Any] = schema
    for part in path:
        if isinstance(part, str):
            sub = _properties(current_schema)[part]
            if not isinstance(current, dict):
                raise ValueError("the data does not match the form")
            if not isinstance(current.get(part), dict | list):
                if not create:
                    return None
                current[part] = _child_container(sub)
        else:
            sub = _items(current_schema)
            if not isinstance(current, list):
                raise ValueError("the data does not match the form")
            if create:
                while len(current) <= part < _min_items(current_schema):
                    current.append(_empty_item(sub))
            if part >= len(current):
                if not create:
                    return None
                raise ValueError(f"there is no row {part + 1} here")
            if not isinstance(current[part], dict | list):
                if not create:
                    return None
                current[part] = _child_container(sub)
        current = current[part]
        current_schema = sub
    return current
