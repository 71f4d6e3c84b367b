"""Working-day calendar for review deadlines: weekends and UK bank holidays are not working days.

Pure functions of their arguments: no database and no wall clock. Dates may be given as `date`,
`datetime` or ISO 8601 strings (as they come from process data); every result has the kind of
the value given, so a string in gives an ISO string out and process data stays JSON.

Counting rule of `add_working_days` (and its inverse `working_days_between`): a start that is not
a working day is first moved forward to the next working day (as a notice received on a Saturday
counts as received on the Monday), then the result is the working day `n` working days after
(n > 0) or before (n < 0) it. So Friday + 5 is the next Friday, Saturday + 0 is Monday, Saturday
+ 1 is Tuesday and Saturday - 1 is Friday. A datetime keeps its time of day and offset; the day
used is the date in the value's own offset.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from typing import TypeVar, cast

import holidays

__all__ = ["REGIONS", "DateLike", "WorkingCalendar", "format_like", "parse_date_like"]

# Subdivision codes of holidays.country_holidays("GB"); England and Wales share bank holidays.
REGIONS: dict[str, str] = {
    "ENG": "England",
    "WLS": "Wales",
    "SCT": "Scotland",
    "NIR": "Northern Ireland",
}

DateLike = TypeVar("DateLike", dt.date, dt.datetime, str)


def parse_date_like(value: dt.date | dt.datetime | str) -> dt.date | dt.datetime:
    """Return a date or datetime from a date, datetime or ISO 8601 string.

    A string with only a date ("2026-12-24") gives a date; one with a time gives a datetime
    ("2026-12-24T10:00:00Z" gives an aware datetime, one without an offset a naive one).
    """
    if isinstance(value, dt.date):  # datetime is a subclass of date
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date or date-time: {value!r}") from None
    raise TypeError(f"expected a date, datetime or ISO 8601 string, got {type(value).__name__}")


def _format_datetime(value: dt.datetime, zulu: bool) -> str:
    text = value.isoformat()
    if zulu and text.endswith("+00:00"):
        return text[:-6] + "Z"
    return text


def format_like(result: dt.date | dt.datetime, original: DateLike) -> DateLike:
    """Give `result` the kind of `original`: an ISO string if `original` was a string.

    A string ending in "Z" gets a result ending in "Z" rather than "+00:00".
    """
    if isinstance(original, str):
        if isinstance(result, dt.datetime):
            zulu = original.strip().upper().endswith("Z")
            return _format_datetime(result, zulu)
        return result.isoformat()
    # `result` is of `original`'s kind (both come from one parsed value); the cast is needed
    # when DateLike is datetime and redundant when it is date, hence the ignore.
    return cast(DateLike, result)  # type: ignore[redundant-cast]


def _day_of(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _move_to(value: dt.date | dt.datetime, day: dt.date) -> dt.date | dt.datetime:
    """Put `value` on `day`, keeping a datetime's time of day, tzinfo and fold."""
    if isinstance(value, dt.datetime):
        return value.replace(year=day.year, month=day.month, day=day.day)
    return day


def _as_int(n: int | float, name: str = "n") -> int:
    # Numbers from JSON process data may arrive as 15.0.
    if isinstance(n, bool):
        raise TypeError(f"{name} must be a whole number, got {n!r}")
    if isinstance(n, int):
        return n
    if isinstance(n, float) and n.is_integer():
        return int(n)
    raise TypeError(f"{name} must be a whole number, got {n!r}")


def _weekdays_up_to(day: dt.date) -> int:
    """Number of Mondays to Fridays from 0001-01-01 (a Monday) up to and including `day`."""
    days = day.toordinal()
    weeks, rest = divmod(days, 7)
    return 5 * weeks + min(rest, 5)


class WorkingCalendar:
    """Working days of one UK region: Monday to Friday except that region's bank holidays."""

    def __init__(self, region: str = "ENG") -> None:
        code = region.strip().upper() if isinstance(region, str) else ""
        if code not in REGIONS:
            known = ", ".join(f"{key} ({name})" for key, name in REGIONS.items())
            raise ValueError(f"unknown region {region!r}: expected one of {known}")
        self.region: str = code
        self._by_year: dict[int, dict[dt.date, str]] = {}

    def __repr__(self) -> str:
        return f"WorkingCalendar(region={self.region!r})"

    # Bank holidays -----------------------------------------------------------------------------

    def bank_holidays(self, year: int) -> dict[dt.date, str]:
        """The region's bank holidays (substitute days included) falling in `year`, by date."""
        cached = self._by_year.get(year)
        if cached is None:
            # Ask for the neighbouring years too, so a substitute day that spills over a year
            # boundary is not lost; keep only the days in `year`.
            found = holidays.country_holidays(
                "GB", subdiv=self.region, years=[year - 1, year, year + 1]
            )
            cached = {day: name for day, name in sorted(found.items()) if day.year == year}
            self._by_year[year] = cached
        return dict(cached)

    def _holiday_days(self, year: int) -> dict[dt.date, str]:
        """The cached holidays of `year` (not a copy: do not modify)."""
        if year not in self._by_year:
            self.bank_holidays(year)
        return self._by_year[year]

    def _is_working(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self._holiday_days(day.year)

    def _working_days_after(self, first: dt.date, last: dt.date) -> int:
        """Number of working days `d` with `first < d <= last` (`first <= last`)."""
        weekdays = _weekdays_up_to(last) - _weekdays_up_to(first)
        holidays_on_weekdays = sum(
            1
            for year in range(first.year, last.year + 1)
            for day in self._holiday_days(year)
            if first < day <= last and day.weekday() < 5
        )
        return weekdays - holidays_on_weekdays

    def _roll_forward(self, day: dt.date) -> dt.date:
        while not self._is_working(day):
            day += dt.timedelta(days=1)
        return day

    # Public queries ----------------------------------------------------------------------------

    def is_working_day(self, value: dt.date | dt.datetime | str) -> bool:
        """Whether the (local) date of `value` is a weekday that is not a bank holiday."""
        return self._is_working(_day_of(parse_date_like(value)))

    def add_working_days(self, start: DateLike, n: int) -> DateLike:
        """The day `n` working days after (or before, if negative) `start`.

        A `start` that is not a working day is first moved to the next working day, so the result
        is always a working day: Friday + 5 is the next Friday, Saturday + 0 is Monday, Saturday
        + 1 is Tuesday, Saturday - 1 is Friday. Returns the same kind as `start`.
        """
        steps = _as_int(n)
        value = parse_date_like(start)
        day = self._roll_forward(_day_of(value))
        step = dt.timedelta(days=1 if steps > 0 else -1)
        remaining = abs(steps)
        while remaining:
            day += step
            if self._is_working(day):
                remaining -= 1
        return format_like(_move_to(value, day), start)

    def working_days_between(
        self, start: dt.date | dt.datetime | str, end: dt.date | dt.datetime | str
    ) -> int:
        """The inverse of `add_working_days`: `working_days_between(a, add_working_days(a, n))`
        is `n` for every `a` and `n`.

        For a working day `start` on or before `end` it is the number of working days after
        `start` up to and including `end`; negative when `end` is earlier. A `start` that is not
        a working day counts from the next working day, as in `add_working_days`. Times of day
        are ignored.
        """
        first = self._roll_forward(_day_of(parse_date_like(start)))
        last = _day_of(parse_date_like(end))
        if first <= last:
            return self._working_days_after(first, last)
        return -self._working_days_after(last, first)

    def add_days(self, start: DateLike, n: int) -> DateLike:
        """Calendar days (weekends and holidays count). Returns the same kind as `start`."""
        value = parse_date_like(start)
        return format_like(value + dt.timedelta(days=_as_int(n)), start)

    def add_months(self, start: DateLike, n: int) -> DateLike:
        """Calendar months, clamped to the month's end: 31 January + 1 month is 28/29 February.

        A datetime keeps its time of day. Returns the same kind as `start`.
        """
        value = parse_date_like(start)
        months = value.year * 12 + (value.month - 1) + _as_int(n)
        year, month0 = divmod(months, 12)
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise OverflowError(f"{start!r} plus {n} months is out of range")
        day = min(value.day, monthrange(year, month0 + 1)[1])
        return format_like(value.replace(year=year, month=month0 + 1, day=day), start)
