"""Error messages as GOV.UK writes them: each says what to do ("Enter the reasons", "Select at
least one agency", "Date of the incident must be a real date"), from the validator's message,
the field's schema and its label. Messages this does not know are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REQUIRED = re.compile(r"'(?P<name>.*)' is required")
_EMPTY = re.compile(r".* (?:should be non-empty|is too short|does not have enough items)$")
_TOO_LONG = re.compile(r".* (?:is too long|is expected to be empty)$")
_NOT_TYPE = re.compile(r".* is not of type '(?P<type>\w+)'$")
_NOT_FORMAT = re.compile(r".* is not a '(?P<format>[\w-]+)'$")
_NOT_ONE_OF = re.compile(r".* is not one of .*|.* was expected$")
_NOT_UNIQUE = re.compile(r".* has non-unique elements$")
_NO_ARTICLE = {"why", "how", "what", "where", "when", "who", "which", "whether", "the", "a",
               "an", "your", "any", "other", "each", "every", "one", "this", "these", "its"}


def lower_first(text: str) -> str:
    """`Lesson` -> `lesson`, but `SMART actions` stays as it is."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def the(title: str) -> str:
    """`Reasons` -> `the reasons`; `Why the grade should change` stays a clause."""
    words = title.split()
    text = lower_first(title.strip())
    if not words or words[0].lower() in _NO_ARTICLE:
        return text
    return f"the {text}"


def _noun(schema: Mapping[str, Any], title: str) -> str:
    """What one choice of a list is called: `agency`, or `option for how staff…`."""
    items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
    if schema.get("x-agency") or (isinstance(items, Mapping) and items.get("x-agency")):
        return "agency"
    return f"option for {lower_first(title)}"


def required_message(schema: Mapping[str, Any], title: str, widget: str) -> str:
    """What to do about a field left blank."""
    if widget in ("radios", "select"):
        return "Select an agency" if schema.get("x-agency") else f"Select {the(title)}"
    if widget == "yesno":
        return f"Select yes or no: {title}"
    if widget == "checkboxes":
        return f"Select at least one {_noun(schema, title)}"
    if widget == "array":
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        row = items.get("title") if isinstance(items, Mapping) else None
        if isinstance(row, str) and row.strip():
            return f"Add at least one {lower_first(row.strip())} to {lower_first(title)}"
        return f"Add at least one entry to {lower_first(title)}"
    if widget == "object":
        return f"Answer the questions under {lower_first(title)}"
    if widget == "date" and "date" not in title.lower():
        return f"Enter a date for {lower_first(title)}"
    return f"Enter {the(title)}"


def guidance(message: str, schema: Mapping[str, Any], title: str, name: str,
             widget: str) -> tuple[str, bool]:
    """(the message to show, whether it names the field itself). A message it does not know
    is returned unchanged (and does not name the field)."""
    found = _REQUIRED.fullmatch(message)
    if found and found.group("name") == name:
        return required_message(schema, title, widget), True
    if _EMPTY.fullmatch(message):
        return required_message(schema, title, widget), True
    kind = _NOT_TYPE.fullmatch(message)
    if kind and kind.group("type") == "integer":
        return f"{upper_first(title)} must be a whole number, like 4", True
    if kind and kind.group("type") == "number":
        return f"{upper_first(title)} must be a number, like 4 or 2.5", True
    fmt = _NOT_FORMAT.fullmatch(message)
    if fmt and fmt.group("format") == "date":
        return f"{upper_first(title)} must be a real date", True
    if _NOT_ONE_OF.fullmatch(message) and widget in ("radios", "select", "checkboxes",
                                                     "yesno"):
        return required_message(schema, title, widget if widget != "checkboxes" else "radios"
                                ), True
    if _TOO_LONG.fullmatch(message):
        limit = schema.get("maxLength")
        if isinstance(limit, int):
            return f"{upper_first(title)} must be {limit:,} characters or fewer", True
    if _NOT_UNIQUE.fullmatch(message):
        return f"{upper_first(title)}: choose each answer once", True
    return message, False
