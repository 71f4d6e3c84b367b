"""User-task forms in the browser, the page side: a JSON Schema, the values typed so far and
the validator's errors become field specs (`_Field`), which the Jinja macros in
`templates/form_macros.html` draw as plain HTML fields (autoescaped, no inline style or script).

GOV.UK Design System markup: text inputs, textareas, radios (enums of up to four options and
Yes/No), selects, checkboxes (arrays of enums, agencies named from the register), date inputs
as day, month and year, and conditional reveal: a field that an `if`/`then` (or `else`) makes
required by one answer of a radio question is drawn inside that answer, shown only when it is
chosen. Messages say what to do (`app.web.forms_messages`); the error summary lists them in the
page's order.

Field names and ids, and reading submitted fields back, are `app.web.form_parsing`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from markupsafe import Markup

from app.web.form_parsing import (
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
    date_parts,
    field_id,
    field_name,
    path_key,
)
from app.web.form_questions import (
    _conditional_hints,
    _options,
    _requires,
    _reveals,
    _rules,
    _title,
)
from app.web.forms_messages import guidance, lower_first
from app.web.templating import TEMPLATES

FORM_ERRORS: Final = "(form)"
"""The `field` of errors that belong to the whole form rather than to one field."""
DATE_HINT: Final = "For example, 27 3 2026"
MACROS: Final = "form_macros.html"
"""The template whose macros draw the fields."""


# --------------------------------------------------------------------------------------------
# Labels and hints


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


@dataclass(frozen=True)
class _SummaryItem:
    """One line of the error summary; `target` is the id it links to (None for the form)."""

    message: str
    target: str | None = None


def form_errors_summary(errors: Iterable[Mapping[str, Any]], *,
                        schema: Mapping[str, Any] | None = None, prefix: str = "f",
                        values: Mapping[str, Any] | None = None) -> Markup:
    """The error summary for the top of the page (GOV.UK pattern): every error, linked to its
    field's id, in the order of the page; errors on `(form)` come first, without a link.
    Empty when there are no errors.

    With the schema (and the values shown, for the rows of lists), messages are those shown
    on the fields, naming the list and row they are in ("Chronology of significant events,
    entry 2: Enter the date").
    """
    errors = [error for error in errors if isinstance(error, Mapping)]
    grouped = errors_by_field(errors)
    items = [_SummaryItem(message) for message in grouped.pop(FORM_ERRORS, [])]
    if schema is not None:
        specs = _Specs(prefix, grouped).properties(schema, values or {}, ())
        for spec, context in _walk(specs, []):
            for message, named in zip(spec.messages, spec.named, strict=True):
                where = context if named else [*context, spec.label]
                text = f"{', '.join(where)}: {message}" if where else message
                items.append(_SummaryItem(text, spec.id))
            grouped.pop(path_key(spec.path), None)
    for path, messages in grouped.items():  # not on the page: listed as the validator says
        items.extend(_SummaryItem(message, field_id(prefix, path.split(".")))
                     for message in messages)
    if not items:
        return Markup("")
    return _macro("error_summary", f"{_id_part(prefix)}--error-summary-title", items)


def summary_items(summary: Iterable[_SummaryItem]) -> list[dict[str, str]]:
    """Summary items as `govuk.error_summary` takes them."""
    return [{"href": f"#{item.target}" if item.target else "#main-content",
             "text": item.message} for item in summary]


def _walk(specs: list[_Field], context: list[str]) -> Iterable[tuple[_Field, list[str]]]:
    """Every field spec in the order of the page, with the labels of the rows and groups it
    is in (revealed fields right after their question)."""
    for spec in specs:
        yield spec, context
        inner = [*context, spec.label] if spec.widget in ("object", "array") else context
        if spec.widget == "array":
            for row in spec.children:
                yield from _walk([row], [*context, spec.label])
        else:
            yield from _walk(spec.children, inner)
        for option in spec.options:
            yield from _walk(option.conditional, context)


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


@dataclass
class _Option:
    """One radio, checkbox or <option>: what it submits, its label, whether it is chosen, and
    the fields revealed when it is chosen."""

    value: str
    label: str
    checked: bool
    id: str = ""
    conditional: list[_Field] = field(default_factory=list)

    @property
    def conditional_id(self) -> str:
        return f"{self.id}--conditional"


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
    """The value of a text, textarea or number input."""
    parts: dict[str, str] = field(default_factory=dict)
    """What the day, month and year fields of a date show."""
    integer: bool = False
    options: list[_Option] = field(default_factory=list)
    children: list[_Field] = field(default_factory=list)
    """An object's properties, or an array's rows."""
    marker: bool = False
    """An object that is a row submits an empty hidden field named by its path."""
    add: _Button | None = None
    named: list[bool] = field(default_factory=list)
    """For each message, whether it names the field itself ("Enter the reasons")."""
    optional: bool = False
    """Shown with "(optional)": nothing requires it, and it is not revealed by an answer."""

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

    def group_css(self) -> str:
        return "govuk-form-group" + (" govuk-form-group--error" if self.messages else "")


class _Specs:
    """Builds the field specs of a form, with each field's messages from the validator."""

    def __init__(self, prefix: str, errors: dict[str, list[str]]) -> None:
        self.prefix = prefix
        self.errors = errors

    def properties(self, schema: Mapping[str, Any], values: Any, path: Path) -> list[_Field]:
        values = values if isinstance(values, Mapping) else {}
        required = set(schema.get("required") or [])
        hints = _conditional_hints(schema)
        reveals = _reveals(schema)
        conditional = {target for rule in _rules(schema)
                       for branch in ("then", "else") for target in _requires(rule, branch)}
        fields: dict[str, _Field] = {}
        for name, sub in _properties(schema).items():
            title = _title(sub, name)
            spec = _Field(path=(*path, name), label=title, required=name in required,
                          hint=_join_hints(sub.get("description"), hints.get(name)),
                          messages=list(self.errors.get(path_key((*path, name)), [])),
                          prefix=self.prefix,
                          optional=name not in required and name not in conditional)
            fields[name] = self.field(sub, values.get(name), spec)
        titles = {f"'{name}'": f"'{_title(sub, name)}'"
                  for name, sub in _properties(schema).items()}
        for spec in fields.values():  # a message naming another field names its question
            spec.messages = [_named(message, titles) for message in spec.messages]
        for target, (question, answer) in reveals.items():
            option = next((o for o in fields[question].options if o.value == answer), None)
            if option is not None:
                revealed = fields.pop(target)
                if not option.checked:  # not asked yet: its question's answer comes first
                    revealed.messages, revealed.named = [], []
                option.conditional.append(revealed)
        return list(fields.values())

    def field(self, schema: Mapping[str, Any], value: Any, spec: _Field) -> _Field:
        spec.widget = widget = _widget(schema)
        name = str(spec.path[-1]) if spec.path else ""
        shown = [guidance(message, schema, spec.label, name, widget)
                 for message in spec.messages]
        spec.messages = [message for message, _ in shown]
        spec.named = [named for _, named in shown]
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
        elif widget == "date":
            spec.parts = date_parts(value)
            spec.hint = _join_hints(spec.hint, DATE_HINT)
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
                             f"Remove {lower_first(label)} from {spec.label}")
            row_spec = _Field(path=row_path, label=label, required=False,
                              hint=_join_hints(items.get("description")),
                              messages=list(self.errors.get(path_key(row_path), [])),
                              prefix=self.prefix, remove=remove)
            row_spec = self.field(items, row, row_spec)
            row_spec.marker = row_spec.widget == "object"
            spec.children.append(row_spec)
        titled = isinstance(items.get("title"), str) and items["title"].strip()
        add_label = (f"Add {lower_first(items['title'])}" if titled
                     else f"Add entry to {lower_first(spec.label)}")
        spec.add = _Button(f"add:{_action_path(spec.path)}", add_label)


def _named(message: str, titles: Mapping[str, str]) -> str:
    """`give the reason in 'late_reason'` -> `give the reason in 'Why later'`."""
    for quoted, title in titles.items():
        message = message.replace(quoted, title)
    return message


def _join_hints(*hints: Any) -> str | None:
    texts = [hint.strip() for hint in hints if isinstance(hint, str) and hint.strip()]
    return " ".join(texts) or None


def render_form(schema: Mapping[str, Any], values: Mapping[str, Any] | None,
                errors: Iterable[Mapping[str, Any]] = (), *, prefix: str = "f") -> Markup:
    """The HTML of the form's fields (no <form>, CSRF field or buttons of the page's own).

    Every field has a label (or a legend, for groups), "(optional)" when nothing can require
    it, a "Required if …" hint for if/then requirements it cannot reveal (a field one radio
    answer requires is drawn inside that answer instead), its current value, and its error
    messages, saying what to do, next to it, referenced by aria-describedby. Arrays show one
    row per item (at least `minItems` when there is no value yet) with Remove buttons and an
    Add button, all `name="_action"` submit buttons.
    """
    specs = _Specs(prefix, errors_by_field(errors))
    return _macro("fields", specs.properties(schema, values or {}, ()))
