"""Dates and times as people write them, in London time (the `when` and `day` filters), and
the same due day on a task and in its case's deadlines table."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.rendering.templating import day, when
from app.services.context import ServiceContext
from tests.routes.driver import CaseDriver

UTC = dt.UTC


@pytest.mark.parametrize(("value", "shown"), [
    (dt.datetime(2027, 1, 15, 9, 0, tzinfo=UTC), "15 January 2027 at 9:00am"),  # GMT
    (dt.datetime(2027, 1, 15, 17, 30, tzinfo=UTC), "15 January 2027 at 5:30pm"),
    (dt.datetime(2027, 1, 15, 12, 0, tzinfo=UTC), "15 January 2027 at midday"),
    (dt.datetime(2027, 1, 15, 0, 5, tzinfo=UTC), "15 January 2027 at 12:05am"),
    (dt.datetime(2027, 7, 15, 8, 0, tzinfo=UTC), "15 July 2027 at 9:00am"),  # BST: UTC+1
    (dt.datetime(2027, 7, 15, 23, 30, tzinfo=UTC), "16 July 2027 at 12:30am"),  # next day here
    (dt.datetime(2027, 7, 15, 9, 0, tzinfo=ZoneInfo("Europe/London")),
     "15 July 2027 at 9:00am"),
    (dt.datetime(2027, 1, 15, 9, 0), "15 January 2027 at 9:00am"),  # naive: stored UTC
    ("2027-07-15T08:00:00Z", "15 July 2027 at 9:00am"),
    ("2027-07-15T08:00:00+00:00", "15 July 2027 at 9:00am"),
    (dt.date(2027, 1, 5), "5 January 2027"),
    ("2027-01-05", "5 January 2027"),
    (None, "—"), ("", "—"), ("not a date", "not a date"),
])
def test_when_writes_london_time_as_people_do(value: object, shown: str) -> None:
    assert when(value) == shown  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "shown_day"), [
    (dt.datetime(2027, 1, 15, 9, 0, tzinfo=UTC), "15 January 2027"),
    (dt.datetime(2027, 7, 15, 23, 30, tzinfo=UTC), "16 July 2027"),  # 12:30am BST
    (dt.datetime(2027, 3, 28, 0, 30, tzinfo=UTC), "28 March 2027"),  # the clocks go forward
    (dt.date(2027, 1, 15), "15 January 2027"),
    ("2027-01-15", "15 January 2027"),
    (None, "—"),
])
def test_day_is_the_london_day(value: object, shown_day: str) -> None:
    assert day(value) == shown_day  # type: ignore[arg-type]


@pytest.mark.parametrize(("due_at", "due_day"), [
    # a date alone is due at the end of it, stored as the next midnight UTC (due_moment)
    (dt.datetime(2027, 1, 16, 0, 0, tzinfo=UTC), "15 January 2027"),  # 00:00 GMT
    (dt.datetime(2027, 7, 16, 0, 0, tzinfo=UTC), "15 July 2027"),  # 1:00am BST
    ("2027-01-16T00:00:00Z", "15 January 2027"),
    # a date-time given at midnight London time ends the day before too (summer: 23:00 UTC)
    (dt.datetime(2027, 7, 15, 23, 0, tzinfo=UTC), "15 July 2027"),
])
def test_a_due_time_that_ends_a_day_shows_that_day(due_at: object, due_day: str) -> None:
    assert when(due_at) == f"{due_day} at 11:59pm"  # type: ignore[arg-type]
    assert day(due_at) == due_day  # type: ignore[arg-type]


def test_a_time_in_the_day_is_not_the_end_of_the_day() -> None:
    assert when(dt.datetime(2027, 1, 16, 0, 0, 1, tzinfo=UTC)) == "16 January 2027 at 12:00am"
    assert when(dt.datetime(2027, 7, 16, 1, 0, tzinfo=UTC)) == "16 July 2027 at 2:00am"


def test_the_task_and_the_deadlines_table_show_the_same_day(client: TestClient,
                                                            ctx: ServiceContext) -> None:
    """The chair's endorsement is due on the decision clock's day, 2 April 2026 (summer time):
    stored as 3 April 00:00 UTC, shown on 2 April on the task, the inbox and the table."""
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    driver.screen("concise")
    [endorse] = driver.ready()
    deadlines = {d["id"]: d for d in client.get(
        f"/api/v1/cases/{driver.reference}/deadlines").json()}
    assert endorse["due_at"] == "2026-04-03T00:00:00Z"  # stored and sent as it was
    assert deadlines["decision"]["due"] == "2026-04-02"
    assert day(endorse["due_at"]) == when(deadlines["decision"]["due"]) == "2 April 2026"
    assert when(endorse["due_at"]) == "2 April 2026 at 11:59pm"
