"""The Jinja environment of the documents rendered here (the annual report page, the
briefing), and the filters every page uses (`app.web.templating` registers them too)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

TEMPLATES_DIR = Path(__file__).parent / "templates"


LONDON = ZoneInfo("Europe/London")
"""The Board's time zone: every date and time is shown as the clocks in England show it."""


def _parsed(value: dt.datetime | dt.date | str) -> dt.datetime | dt.date | str:
    """An ISO text as a date or date-time; any other text as it is."""
    if not isinstance(value, str):
        return value
    try:
        return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    except ValueError:
        return value


def _ends_day(moment: dt.datetime) -> bool:
    """Whether `moment` is the end of a day rather than a time in it.

    A due date given as a date alone is stored as the midnight that ends it: midnight UTC
    (`app.engine.scripting.due_moment`, the engine's end of the day), which is 1:00am London
    time in summer; and a date-time given at midnight London time ends the day before too."""
    local = moment.astimezone(LONDON)
    whole = moment.second == 0 and moment.microsecond == 0
    utc = moment.astimezone(dt.UTC)
    return whole and ((local.hour, local.minute) == (0, 0) or (utc.hour, utc.minute) == (0, 0))


def _london_day(moment: dt.datetime) -> dt.date:
    """The London day `moment` falls in; an end of day (`_ends_day`) is the day it ends."""
    local = moment.astimezone(LONDON)
    if not _ends_day(moment):
        return local.date()
    ending = local if (local.hour, local.minute) == (0, 0) else moment.astimezone(dt.UTC)
    return (ending - dt.timedelta(minutes=1)).date()


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # stored times are UTC


def _date_text(value: dt.date) -> str:
    return f"{value.day} {value.strftime('%B %Y')}"


def _time_text(local: dt.datetime) -> str:
    """GOV.UK style: 9:00am, 5:30pm, midday."""
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"


def when(value: dt.datetime | dt.date | str | None) -> str:
    """A date or time as people write it, in London time (GOV.UK style): 15 January 2027, or
    15 January 2027 at 9:00am.

    A time that ends a day (`_ends_day`: a task due on a date, stored as the midnight after it)
    is shown on the day it ends, as 15 January 2027 at 11:59pm: the day the deadlines table
    shows, never the next day's 00:00 (nothing stored changes; this is only how it reads)."""
    if value is None or value == "":
        return "—"
    value = _parsed(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        moment = _aware(value)
        if _ends_day(moment):
            return f"{_date_text(_london_day(moment))} at 11:59pm"
        local = moment.astimezone(LONDON)
        return f"{_date_text(local.date())} at {_time_text(local)}"
    return _date_text(value)


def day(value: dt.datetime | dt.date | str | None) -> str:
    """The day of a date or time, as people write it, in London time: 15 January 2027 (a time
    that ends a day is on the day it ends, as `when` shows it)."""
    if value is None or value == "":
        return "—"
    value = _parsed(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return _date_text(_london_day(_aware(value)))
    return _date_text(value)


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
