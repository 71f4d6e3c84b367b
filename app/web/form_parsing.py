"""User-task forms in the browser, the data side: field names, reading the schema, and turning
submitted fields into JSON (`parse_form`) or adding and removing rows (`apply_action`).

No JavaScript: rows of arrays are added and removed by ordinary submit buttons
(`name="_action" value="add:<path>"` / `value="remove:<path>.<index>"`); the page parses the
form, calls `apply_action` and renders the form again with everything typed kept
(`app.web.form_rendering`).

Naming: every field is named by its JSON path under a prefix, `f.chronology.0.date`,
`f.genogram.people.1.name` (a `.` or `%` inside a property name is written `%2E` / `%25`).
Its id is the same path joined by `-` (`f-chronology-0-date`); ids that belong to a field but
are not its input end in `--<what>` (`f-analysis--error`, `f-analysis--hint`), which no path
can produce. Array containers and rows of objects also submit an empty hidden field named by
their own path, so an emptied array and a blank row are still seen by `parse_form`.

A date (`format: date`) is GOV.UK's date input, three fields named `<name>-day`, `-month` and
`-year`; `parse_form` reads them back as one ISO date, or, when they are not a real date, as
what was typed (`typed_date`), which the validator refuses as not a date and the page shows
again as it was typed (`date_parts`).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

ACTION_FIELD: Final = "_action"
"""Name of the submit buttons that add or remove rows (and of the page's own buttons)."""
RADIO_LIMIT: Final = 4
"""Enums with at most this many options are radios; longer ones are a <select>."""
MAX_INDEX_DIGITS: Final = 6
"""Row indexes in field names longer than this are ignored (no one types a million rows)."""
DATE_PARTS: Final = ("day", "month", "year")
"""A date is three fields, GOV.UK's date input: `<name>-day`, `<name>-month`, `<name>-year`."""

Path = tuple[str | int, ...]
FormItems = Mapping[str, Any] | Iterable[tuple[str, Any]]

_SAFE_ID_PART = re.compile(r"[A-Za-z0-9_]+")
_INDEX = re.compile(rf"[0-9]{{1,{MAX_INDEX_DIGITS}}}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TYPED = "typed: "
_TYPED_SEPARATOR = " / "
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


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


def date_parts(value: Any) -> dict[str, str]:
    """What the three fields of a date input show for a value: an ISO date as numbers
    ("2026-03-05" -> 5, 3, 2026), a date kept as typed (`typed_date`) as it was typed."""
    if not isinstance(value, str) or not value.strip():
        return {}
    text = value.strip()
    iso = _ISO_DATE.fullmatch(text)
    if iso:
        return {"day": str(int(iso.group(3))), "month": str(int(iso.group(2))),
                "year": iso.group(1)}
    if text.startswith(_TYPED) and text.count(_TYPED_SEPARATOR) == 2:
        return dict(zip(DATE_PARTS, text[len(_TYPED):].split(_TYPED_SEPARATOR), strict=True))
    return {"day": text}


def typed_date(day: str, month: str, year: str) -> str | None:
    """The three fields of a date input as an ISO date; what was typed (marked, so the page
    shows it again and the validator refuses it as not a date) when they are not a real date;
    None when all three are blank."""
    parts = [part.strip() for part in (day, month, year)]
    if not any(parts):
        return None
    if all(part.isdigit() for part in parts) and len(parts[2]) == 4:
        try:
            return dt.date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
        except ValueError:
            pass
    return _TYPED + _TYPED_SEPARATOR.join(part.replace(_TYPED_SEPARATOR, " ") for part in parts)


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
        if schema.get("x-agency"):  # the register's agencies, by name: radios, as GOV.UK asks
            return "radios"
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


def _option_value(option: Any) -> str:
    return option if isinstance(option, str) else json.dumps(option)


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


def _date_part(schema: Mapping[str, Any], name: str) -> tuple[Path, str] | None:
    """(the date field's path, "day") for `published_on-day`; None if it is not one."""
    base, dash, part = name.rpartition("-")
    if not dash or part not in DATE_PARTS:
        return None
    resolved = _resolve(schema, base.split("."))
    if resolved is None or not resolved[0] or _widget(resolved[1]) != "date":
        return None
    return resolved[0], part


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
    dates: dict[Path, dict[str, str]] = {}
    for name, value in _form_items(form):
        if not isinstance(name, str) or not isinstance(value, str) or not name.startswith(start):
            continue
        resolved = _resolve(schema, name[len(start):].split("."))
        if resolved is None:
            date_field = _date_part(schema, name[len(start):])
            if date_field is not None:
                dates.setdefault(date_field[0], {})[date_field[1]] = value
            continue
        if not resolved[0]:
            continue
        node = root
        for part in resolved[0]:
            node = node.children.setdefault(part, _Node())
        node.values.append(value)
    for path, parts in dates.items():  # a date input's three fields, as one value
        combined = typed_date(*(parts.get(part, "") for part in DATE_PARTS))
        target = root
        for step in path:
            target = target.children.setdefault(step, _Node())
        target.values.append(combined or "")
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
