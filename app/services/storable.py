"""Refuse, before anything is written, values the database cannot keep or a response cannot send.

A lone UTF-16 surrogate survives JSON (escaped as `\\ud800`) and SQLite, so it used to be
committed and then break every later answer about the instance; PostgreSQL refuses NUL in text
and JSON; and data nested hundreds of levels deep exhausts the recursion of the serializers
that follow. Each is the caller's mistake: a 422 naming the field, with nothing saved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from app.services.errors import Invalid

DEFAULT_MAX_DEPTH = 32
"""How deeply objects and lists may nest (`REVIEWFLOW_MAX_DATA_DEPTH`)."""

Problem = tuple[str, str]
"""Where (a dotted field path) and what is wrong there."""


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored and sent back, or None when it can."""
    if "\x00" in text:
        return "holds a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "holds a lone UTF-16 surrogate, which is not text"
    return None


def escaped(text: str) -> str:
    """`text` with what cannot be stored escaped (NUL as `\\0`, a lone surrogate as
    `\\udXXX`): to keep or show what a caller sent that cannot be kept as it is."""
    return text.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode()


def _join(path: str, part: object, unstorable: bool = False) -> str:
    """`path` and `part` as a field path; an `unstorable` name is escaped to be shown."""
    name = escaped(str(part)) if unstorable else str(part)
    return f"{path}.{name}" if path else name


def _items(value: Any) -> Iterable[tuple[object, Any]] | None:
    """The members of a container, keyed as a field path names them; None for a scalar."""
    if isinstance(value, Mapping):
        return value.items()
    if isinstance(value, list | tuple | set | frozenset):
        return enumerate(value)
    if isinstance(value, BaseModel):
        return ((name, getattr(value, name)) for name in type(value).model_fields)
    return None


def find_problem(value: Any, max_depth: int, path: str = "", depth: int = 0) -> Problem | None:
    """The first value in `value` that cannot be stored, with its path. Objects and lists
    count one level each; the walk never goes deeper than `max_depth + 1`."""
    if isinstance(value, str):
        problem = text_problem(value)
        return (path, problem) if problem else None
    members = _items(value)
    if members is None:
        return None
    if depth >= max_depth:
        return (path, f"is nested more than {max_depth} levels deep")
    for key, member in members:
        problem = text_problem(key) if isinstance(key, str) else None
        where = _join(path, key, unstorable=problem is not None)
        if problem:
            return where, f"is a name that {problem.replace('holds', 'contains', 1)}"
        found = find_problem(member, max_depth, where, depth + 1)
        if found is not None:
            return found
    return None


def form_problem(items: Iterable[tuple[str, Any]]) -> Problem | None:
    """The first field of a submitted form whose text cannot be stored (files are not text)."""
    for name, value in items:
        if isinstance(value, str):
            name_problem = text_problem(name)
            problem = text_problem(value) or name_problem
            if problem:
                return _join("", name, unstorable=name_problem is not None), problem
    return None


def refuse(problem: Problem, prefix: str = "") -> Invalid:
    field = ".".join(part for part in (prefix, problem[0]) if part) or "body"
    return Invalid(f"{field} {problem[1]}; it cannot be stored",
                   field=field, errors=[{"field": field, "message": problem[1]}])


def check(value: Any, max_depth: int = DEFAULT_MAX_DEPTH, prefix: str = "") -> None:
    """Raise `Invalid` (422) naming the first field that cannot be stored."""
    problem = find_problem(value, max_depth)
    if problem is not None:
        raise refuse(problem, prefix)


_DUMPED_DEPTH = 900
"""Deeper than `json.dumps` itself could have written."""
_ESCAPED_SURROGATE = re.compile(r"\\ud[89a-f][0-9a-f]{2}", re.IGNORECASE)
"""Any surrogate escape: a pair may stand for two lone halves side by side in the data, which
the text cannot tell from one character outside the BMP, so the walk decides."""


def check_dumped(text: str, data: Callable[[], Any], prefix: str) -> None:
    """Check a JSON document `json.dumps` wrote (ASCII, so a surrogate hides as an escape).
    Only when an escape is there is anything walked, to tell a lone surrogate from a pair and
    name where it is: in `data()` first (named under `prefix`), else in the document."""
    if _ESCAPED_SURROGATE.search(text) is None:
        return
    for value, where in ((data(), prefix), (json.loads(text), "state")):
        problem = find_problem(value, max_depth=_DUMPED_DEPTH)
        if problem is not None and not problem[1].startswith("is nested"):
            raise refuse(problem, where)
