"""The Jinja environment the pages share, with the filters they use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def when(value: dt.datetime | dt.date | str | None) -> str:
    """A date or time as people read it: 5 Mar 2026, 09:00 (UTC)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value) if "T" in value \
                else dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%-d %b %Y, %H:%M")
    return value.strftime("%-d %b %Y")


def words(value: str | None) -> str:
    """`awaiting_endorsement` -> `awaiting endorsement`."""
    return (value or "").replace("_", " ")


TEMPLATES.env.filters["when"] = when
TEMPLATES.env.filters["words"] = words
