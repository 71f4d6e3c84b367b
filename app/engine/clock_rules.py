"""Deadline rules: when each statutory clock or commissioning deadline of a case falls due.

The rules are configuration (`processes/clocks.json`), not code: a change of regime edits the file.
Every date here is an ISO date string, as it is in process data and in the case's key dates.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.engine.calendar import WorkingCalendar


class ClockRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    from_: str | None = Field(None, alias="from", description="key date the clock runs from")
    on: str | None = Field(None, description="key date that is itself the deadline")
    before: str | None = Field(None, description="key date the clock ends `days` before")
    days: int = 0
    working_days: int = 0
    months: int = 0
    met_by: str | None = Field(None, description="key date recorded when the clock is met")
    kind: Literal["deadline", "minimum"] = "deadline"
    statutory: bool = False

    @model_validator(mode="after")
    def _one_anchor(self) -> ClockRule:
        anchors = [a for a in (self.from_, self.on, self.before) if a]
        if len(anchors) != 1:
            raise ValueError(f"clock '{self.id}' needs exactly one of from, on or before")
        if self.kind == "deadline" and not self.met_by:
            raise ValueError(f"clock '{self.id}' needs met_by")
        return self

    def due(self, key_dates: dict[str, str], calendar: WorkingCalendar) -> str | None:
        """The due date, or None while the key date it counts from is not known."""
        anchor = key_dates.get(self.from_ or self.on or self.before or "")
        if not anchor:
            return None
        day = dt.date.fromisoformat(str(anchor)[:10])
        if self.before:
            return (day - dt.timedelta(days=self.days)).isoformat()
        return add_offset(day, self, calendar).isoformat()


def add_offset(day: dt.date, rule: ClockRule, calendar: WorkingCalendar) -> dt.date:
    result = calendar.add_months(day, rule.months) if rule.months else day
    if rule.working_days:
        result = calendar.add_working_days(result, rule.working_days)
    return result + dt.timedelta(days=rule.days)  # type: ignore[operator]


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

    def get(self, clock_id: str) -> ClockRule:
        for clock in self.clocks:
            if clock.id == clock_id:
                return clock
        raise KeyError(f"no clock '{clock_id}' (known: {', '.join(c.id for c in self.clocks)})")


def load_rules(path: Path) -> ClockRules:
    return ClockRules.model_validate(json.loads(path.read_text(encoding="utf-8")))


EMPTY_RULES = ClockRules(regime="none", clocks=[])
