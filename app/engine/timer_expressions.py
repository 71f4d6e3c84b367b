"""Timer expressions: ISO 8601 literals as modellers write them, and working-day helpers.

SpiffWorkflow 3.2.0 evaluates the text of bpmn:timeDate, bpmn:timeDuration and bpmn:timeCycle
as a Python expression, so `PT2H` as Camunda Modeler writes it fails (and `2026-12-31` silently
evaluates to the integer 1983); only the quoted `"PT2H"` works. `normalize_timer_expression`
quotes such literals and leaves real expressions alone; `rewrite_timer_literals` does it for a
whole parsed BPMN tree before the tree is given to SpiffWorkflow.

What the evaluated expression must be (SpiffWorkflow/bpmn/specs/event_definitions/timer.py):

- timeDate: a string, an ISO 8601 date-time ("2026-12-01T09:00:00Z"; without an offset it is
  taken in the server's local zone) or ISO week date. Not a datetime object: the value is stored
  in the task's internal data and parsed with str methods.
- timeDuration: a string, an ISO 8601 duration ("PT2H", "P5D"); SpiffWorkflow adds it to its own
  wall clock when the timer is reached. Not a timedelta.
- timeCycle: a string, an ISO 8601 repeating interval ("R3/PT1H", "R/P1D",
  "R3/2026-12-01T09:00:00Z/P1D").

The helpers returned by `expression_helpers` therefore return ISO strings when given strings,
and `working_days_from` / `working_days_duration` always return strings fit for timers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from app.engine.calendar import WorkingCalendar, parse_date_like

__all__ = [
    "TIMER_ELEMENTS",
    "expression_helpers",
    "is_iso_timer_literal",
    "normalize_timer_expression",
    "rewrite_timer_literals",
    "working_days_duration",
    "working_days_from",
]

BPMN_MODEL_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
TIMER_ELEMENTS = ("timeDate", "timeDuration", "timeCycle")

_NUM = r"\d+(?:[.,]\d+)?"
# Designators are upper case as ISO 8601 and the modellers write them: a lower-case `p5d` is left
# alone, as it could be a variable name.
_DURATION = (
    rf"P(?=\d|T\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
)
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
_TIME_EXTENDED = rf"\d{{2}}(?::\d{{2}}(?::\d{{2}}(?:[.,]\d+)?)?)?{_OFFSET}?"
_TIME_BASIC = rf"\d{{2}}(?:\d{{2}}(?:\d{{2}}(?:[.,]\d+)?)?)?{_OFFSET}?"
_DATE_TIME = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]{_TIME_EXTENDED})?"  # 2026-12-01T09:00:00Z
    rf"|\d{{8}}(?:T{_TIME_BASIC})?"  # 20261201T090000Z
    rf"|\d{{4}}-?W\d{{2}}-?\d(?:T{_TIME_EXTENDED})?)"  # 2026-W49-2T09:00
)
_REPEATING = rf"R\d*(?:/|--)(?:{_DURATION}|{_DATE_TIME})(?:(?:/|--)(?:{_DURATION}|{_DATE_TIME}))?"

_LITERAL = re.compile(rf"(?:{_DURATION}|{_DATE_TIME}|{_REPEATING})")


def is_iso_timer_literal(text: str) -> bool:
    """Whether `text` (stripped) is an ISO 8601 duration, date-time or repeating interval."""
    return _LITERAL.fullmatch(text.strip()) is not None


def normalize_timer_expression(text: str) -> str:
    """Return a Python expression for a timer definition's text.

    An ISO 8601 literal (`PT2H`, `P5D`, `2026-12-01T09:00:00Z`, `R3/PT1H`, `R/PT1H`,
    `R3/2026-12-01T09:00:00Z/P1D`) becomes a quoted string literal. Anything else is an
    expression and is returned as given except for surrounding whitespace, which is removed
    because `eval` rejects a leading newline or indent (as a pretty-printed XML file has).
    A variable named like a duration (`P1D`) would be quoted too: do not name data that way.
    """
    stripped = text.strip()
    if _LITERAL.fullmatch(stripped):
        return f'"{stripped}"'
    return stripped


def _timer_owner_id(node: etree._Element) -> str:
    """The id of the event that holds this timer text (else the nearest ancestor's id)."""
    definition = node.getparent()
    if definition is not None:
        event = definition.getparent()
        if event is not None and event.get("id"):
            return str(event.get("id"))
    current: etree._Element | None = node
    while current is not None:
        if current.get("id"):
            return str(current.get("id"))
        current = current.getparent()
    return ""


def rewrite_timer_literals(root: etree._Element | etree._ElementTree) -> list[str]:
    """Normalize every bpmn:timeDate/timeDuration/timeCycle text of a parsed BPMN tree in place.

    Returns the ids of the events whose timer text changed, in document order (an element
    without an id anywhere above it gives ""). Call it before handing the tree to SpiffWorkflow.
    """
    element = root.getroot() if isinstance(root, etree._ElementTree) else root
    touched: list[str] = []
    tags = {f"{{{BPMN_MODEL_NS}}}{name}" for name in TIMER_ELEMENTS}
    for node in element.iter(*tags):
        if node.text is None:
            continue
        normalized = normalize_timer_expression(node.text)
        if normalized != node.text:
            node.text = normalized
            touched.append(_timer_owner_id(node))
    return touched


def _as_aware(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(value, dt.time(0, 0), dt.UTC)


def _timer_datetime_text(value: dt.datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def working_days_from(calendar: WorkingCalendar, start: dt.date | dt.datetime | str, n: int) -> str:
    """An ISO date-time string for a timeDate timer: `n` working days from `start`.

    Counts as `WorkingCalendar.add_working_days`. A date-time keeps its time of day and offset
    (a naive one is taken as UTC); a date alone gives 00:00 UTC of the resulting day, i.e. the
    timer fires as that day begins. Always has an offset, so the server's zone does not matter.
    """
    moved = calendar.add_working_days(parse_date_like(start), n)
    return _timer_datetime_text(_as_aware(moved))


def working_days_duration(calendar: WorkingCalendar, now: dt.datetime, n: int) -> str:
    """An ISO duration for a timeDuration timer: from `now` to the same time `n` working days on.

    A whole number of calendar days: on a Friday, n=1 gives "P3D" (to Monday). SpiffWorkflow adds
    it to its own wall clock when the timer is reached, so prefer a timeDate with
    `working_days_from` when the start date is in the process data.
    """
    today = now.date()
    target = calendar.add_working_days(today, n)
    return f"P{(target - today).days}D"


def expression_helpers(
    calendar: WorkingCalendar, now: Callable[[], dt.datetime] | None = None
) -> dict[str, Callable[..., Any]]:
    """Functions that BPMN scripts, conditions and timer expressions may call.

    Put them in the script engine's environment globals. With `now` (an injected clock, e.g.
    `clock.now`) `now()`, `today()` and `working_days_duration(n)` are added; without it nothing
    reads a clock. All return ISO strings when given strings, so results can go in task data.
    """
    helpers: dict[str, Callable[..., Any]] = {
        "add_working_days": calendar.add_working_days,
        "add_days": calendar.add_days,
        "add_months": calendar.add_months,
        "working_days_between": calendar.working_days_between,
        "is_working_day": calendar.is_working_day,
    }

    def _working_days_from(start: dt.date | dt.datetime | str, n: int) -> str:
        return working_days_from(calendar, start, n)

    helpers["working_days_from"] = _working_days_from

    if now is not None:
        clock = now

        def _now() -> str:
            """The injected clock's time as an ISO date-time string."""
            return _timer_datetime_text(_as_aware(clock()))

        def _today() -> str:
            """The injected clock's date (in the clock's own offset) as an ISO date string."""
            return clock().date().isoformat()

        def _working_days_duration(n: int) -> str:
            return working_days_duration(calendar, clock(), n)

        helpers["now"] = _now
        helpers["today"] = _today
        helpers["working_days_duration"] = _working_days_duration
    return helpers
