"""Deadline rules: when each statutory clock or commissioning deadline of a case falls due.

The rules are configuration (`processes/clocks.json`), not code: a change of regime edits the file.
Every date here is an ISO date string, as it is in process data and in the case's key dates.

A clock applies to the cases named by its `applies_to` (see `ClockRule.applies`); a clock that
does not apply to a case is `not_applicable` there and is not counted. A clock with a `day_ends`
time falls due at that time of the due day (UK time) instead of at the end of the day, and
`clock_due("<id>.reminder", start)` is the moment `remind_hours_before` hours before that.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from app.engine.calendar import WorkingCalendar

AppliesTo = Literal["all", "statutory", "scr_held", "scr_not_held", "task"]
UK_TIME = ZoneInfo("Europe/London")
"""The zone of `day_ends`: the Board works in England and Wales."""
REMINDER_SUFFIX = ".reminder"


class ClockRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    from_: str | None = Field(None, alias="from", description="key date the clock runs from")
    on: str | None = Field(None, description="key date that is itself the deadline")
    before: str | None = Field(None, description="key date the clock ends `days` before")
    actual: str | None = Field(None, description="key date counted from instead of the anchor "
                                                 "once it is recorded (the actual date of a "
                                                 "planned one)")
    days: int = 0
    working_days: int = 0
    months: int = 0
    met_by: str | None = Field(None, description="key date recorded when the clock is met")
    kind: Literal["deadline", "minimum"] = "deadline"
    statutory: bool = False
    applies_to: AppliesTo = Field("all", description="the cases the clock belongs to")
    day_ends: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                 description="HH:MM, UK time: the clock falls due then on its "
                                             "due day, not at the end of the day")
    remind_hours_before: int = Field(0, ge=0, le=24 * 31)
    _lead: dt.timedelta = PrivateAttr(default_factory=dt.timedelta)

    @model_validator(mode="after")
    def _one_anchor(self) -> ClockRule:
        anchors = [a for a in (self.from_, self.on, self.before) if a]
        if len(anchors) != 1:
            raise ValueError(f"clock '{self.id}' needs exactly one of from, on or before")
        if self.kind == "deadline" and not self.met_by:
            raise ValueError(f"clock '{self.id}' needs met_by")
        if self.remind_hours_before and not self.day_ends:
            raise ValueError(f"clock '{self.id}': remind_hours_before needs day_ends")
        return self

    @property
    def anchor(self) -> str:
        return self.from_ or self.on or self.before or ""

    def applies(self, statutory: bool | None, scr_held: bool | None) -> bool | None:
        """Whether the clock belongs to a case: True, False (`not_applicable`), or None while
        that is not decided yet (a statutory case whose chair has not decided on an SCR), when
        the clock is evaluated as usual and stays `not_started` until its key date is set.

        `all`: every case. `statutory`: cases the regulation covers. `scr_held`: statutory cases
        on the Serious Case Review path. `scr_not_held`: statutory cases whose chair decided not
        to hold an SCR. `task`: none; only a route's tasks read it (`clock_due`).
        """
        if self.applies_to == "all":
            return True
        if self.applies_to == "task":
            return False
        if self.applies_to == "statutory":
            return statutory
        if scr_held is not None:
            return scr_held is (self.applies_to == "scr_held")
        return None if statutory else False

    def due(self, key_dates: dict[str, str], calendar: WorkingCalendar) -> str | None:
        """The due date (a date-time with `day_ends`), or None while the key date it counts
        from is not known."""
        anchor = (key_dates.get(self.actual) if self.actual else None) or \
            key_dates.get(self.anchor)
        if not anchor:
            return None
        text = str(anchor)
        day = dt.date.fromisoformat(text[:10])
        if self.day_ends and "T" in text and _after_hours(text, self.day_ends):
            day += dt.timedelta(days=1)  # raised after the day's end: counts from the next day
        if self.before:
            result = day - dt.timedelta(days=self.days)
        else:
            result = add_offset(day, self, calendar)
        if self.day_ends:
            return (_at(result, self.day_ends) - self._lead).isoformat()
        return result.isoformat()

    def reminder(self) -> ClockRule:
        """The same clock, falling due `remind_hours_before` hours earlier (`<id>.reminder`)."""
        rule = self.model_copy()
        rule._lead = dt.timedelta(hours=self.remind_hours_before)
        return rule


def _after_hours(moment: str, day_ends: str) -> bool:
    when = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    local = when.astimezone(UK_TIME)
    return local.strftime("%H:%M") >= day_ends


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    """`hhmm` UK time on `day`, in UTC."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), UK_TIME).astimezone(dt.UTC)


def add_offset(day: dt.date, rule: ClockRule, calendar: WorkingCalendar) -> dt.date:
    result = calendar.add_months(day, rule.months) if rule.months else day
    if rule.working_days or rule.day_ends:  # a clock with a time of day ends on a working day
        result = calendar.add_working_days(result, rule.working_days)
    return result + dt.timedelta(days=rule.days)


class ClockRules(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    comment: str | None = Field(None, alias="$comment")
    regime: str
    clocks: list[ClockRule]

    @model_validator(mode="after")
    def _unique(self) -> ClockRules:
        ids = [clock.id for clock in self.clocks]
        if len(ids) != len(set(ids)):
            raise ValueError("clock ids must be unique")
        return self

    @property
    def case_clocks(self) -> list[ClockRule]:
        """The clocks a case's deadlines and the annual report list (not the tasks' own)."""
        return [clock for clock in self.clocks if clock.applies_to != "task"]

    def get(self, clock_id: str) -> ClockRule:
        """A clock by id; `<id>.reminder` is its reminder (see `ClockRule.reminder`)."""
        base = clock_id.removesuffix(REMINDER_SUFFIX)
        for clock in self.clocks:
            if clock.id == base:
                if base == clock_id:
                    return clock
                if not clock.remind_hours_before:
                    raise KeyError(f"clock '{base}' has no reminder (remind_hours_before)")
                return clock.reminder()
        raise KeyError(f"no clock '{clock_id}' (known: {', '.join(c.id for c in self.clocks)})")


def load_rules(path: Path) -> ClockRules:
    return ClockRules.model_validate(json.loads(path.read_text(encoding="utf-8")))


EMPTY_RULES = ClockRules(regime="none", clocks=[])
