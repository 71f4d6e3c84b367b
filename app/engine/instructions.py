"""A user task's instructions, filled in from its data when it becomes ready.

`spiffworkflow:instructionsForEndUser` may be a Jinja template, as in SpiffWorkflow's own modeler:
`The national panel's advice: {{ advice }}`. It runs in Jinja's sandbox with the task's data
only; a name the data lacks renders as nothing, and a template that does not render is shown as
written, so a designer's typo never stops a case. The result is plain text (the inbox escapes it).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_LENGTH = 20_000
"""Longer results are cut: instructions are read by a person, not a store of data."""

_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)


@lru_cache(maxsize=512)
def _template(source: str) -> Template | None:
    try:
        return _ENVIRONMENT.from_string(source)
    except TemplateError:
        return None


def render(source: str | None, data: dict[str, Any]) -> str | None:
    """The instructions for a task with `data`; None when the task has none."""
    if not source:
        return source
    if "{" not in source:
        return source
    template = _template(source)
    if template is None:
        return source
    try:
        text = template.render(data)
    except Exception:  # a sandbox refusal or a failing filter: show what the designer wrote
        return source
    return " ".join(text.split())[:MAX_LENGTH]
