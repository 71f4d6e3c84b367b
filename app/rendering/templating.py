"""The Jinja environment of the documents rendered here (the annual report page, the
briefing), and the filters every page uses (`app.web.templating` registers them too)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES_DIR = Path(__file__).parent / "templates"


def when(value: dt.datetime | dt.date | str | None) -> str:
    """A date or time as people read it: 5 Mar 2026, 09:00 (UTC)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        text = value
        try:
            value = dt.datetime.fromisoformat(text) if "T" in text \
                else dt.date.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%-d %b %Y, %H:%M")
    return value.strftime("%-d %b %Y")


def day(value: dt.datetime | dt.date | str | None) -> str:
    """The day of a date or time, as people write it: 15 January 2027."""
    shown = when(value)
    return shown.split(",")[0]


def words(value: str | None) -> str:
    """`awaiting_endorsement` -> `awaiting endorsement`."""
    return (value or "").replace("_", " ")


FILTERS = {"when": when, "day": day, "words": words}

# The same options as the /ui pages' environment (Starlette's Jinja2Templates).
ENVIRONMENT = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                                 autoescape=jinja2.select_autoescape())
ENVIRONMENT.filters.update(FILTERS)


def render(name: str, **context: Any) -> str:
    """A template of app/rendering/templates rendered to text."""
    return ENVIRONMENT.get_template(name).render(**context)
