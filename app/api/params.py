"""Strict dates and date-times, for query parameters and request bodies.

Pydantic reads dates leniently: `due_before=0.5`, `since=1677` or `"incident_date": 0` become
Unix timestamps, and a date-time passes for a date. A value documented as `format: date` or
`format: date-time` accepts only the ISO 8601 text the OpenAPI document promises; anything else
is a 422 naming the field. Responses keep the plain types.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                        r"([Zz]|[+-]\d{2}:\d{2})?")


def _iso_date(value: object) -> object:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise ValueError("give a date as YYYY-MM-DD")
    if isinstance(value, str):
        if not _DATE.fullmatch(value):
            raise ValueError("give a date as YYYY-MM-DD")
        return dt.date.fromisoformat(value)  # a ValueError names an impossible day
    return value


def _iso_date_time(value: object) -> object:
    message = "give a date and time in ISO 8601, such as 2026-03-02T09:00:00Z"
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError(message)
    try:
        return dt.datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValueError(message) from None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A date written YYYY-MM-DD, nothing looser."""

IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_date_time)]
"""An ISO 8601 date and time (the offset is optional here; routers that need one check it)."""
