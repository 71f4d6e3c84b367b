"""An urgent protection concern has a clock (issue 16, point 11): the board manager's escalation
task is due the same working day (`urgent_concern` in processes/clocks.json), with a reminder
hours before the end of that day and, when it is not acted on, an escalation to the chair: a
notice and a task of the chair's to see that it is acted on. The timers run on the injected
clock through the worker's `fire_due`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from app.clock import ManualClock
from app.engine.calendar import WorkingCalendar
from app.engine.clock_rules import ClockRules
from app.services import timers
from app.services.context import ServiceContext
from tests.clocks.test_applicability import add_case
from tests.conftest import PROCESSES, upload
from tests.routes.driver import CaseDriver

ESCALATION = {"escalated_to": "childrens_social_care", "procedure": "Child protection referral",
              "action_taken": "Strategy discussion held"}


def at(clock: ManualClock, *args: int) -> None:
    clock.set(dt.datetime(*args, tzinfo=dt.UTC))


def concern(client: TestClient, ctx: ServiceContext) -> CaseDriver:
    """A case in review, and the urgent concern process beside it."""
    upload(client, PROCESSES / "urgent_concern.bpmn",
           PROCESSES / "forms" / "urgent_concern.schema.json",
           PROCESSES / "forms" / "chase_overdue.schema.json")
    driver = CaseDriver(client)
    driver.reference = add_case(ctx, 1, statutory=False, scr_held=None, key_dates={})
    response = client.post(f"/api/v1/cases/{driver.reference}/concerns",
                           json={"description": "A sibling is at home with the same adult."})
    assert response.status_code == 201, response.text
    return driver


def notices(driver: CaseDriver) -> list[tuple[str, str]]:
    return [(e["detail"]["recipient"], e["detail"]["subject"])
            for e in driver.events("notification_sent")]


def task(driver: CaseDriver, bpmn_id: str) -> dict[str, Any]:
    [found] = [t for t in driver.ready() if t["bpmn_id"] == bpmn_id]
    return found


def test_a_concern_not_escalated_that_day_reminds_then_goes_to_the_chair(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    driver = concern(client, ctx)  # Monday 2 March 2026, 09:00 (GMT)
    escalate = task(driver, "escalate_concern")
    assert (escalate["lane"], escalate["due_at"]) == ("board_manager", "2026-03-02T17:00:00Z")
    assert notices(driver) == [("board_manager", "Urgent protection concern")]

    at(clock, 2026, 3, 2, 13, 59, 59)
    assert timers.fire_due(ctx) == 0
    at(clock, 2026, 3, 2, 14, 0, 1)  # three hours before the working day ends
    assert timers.fire_due(ctx) == 1
    assert notices(driver)[-1] == ("board_manager",
                                   "Reminder: escalate the urgent protection concern today")
    assert driver.ready_ids() == ["escalate_concern"]
    assert client.get("/api/v1/tasks", params={"overdue": "true"}).json()["total"] == 0

    at(clock, 2026, 3, 2, 16, 59, 59)
    assert timers.fire_due(ctx) == 0
    at(clock, 2026, 3, 2, 17, 0, 1)
    assert timers.fire_due(ctx) == 1
    assert notices(driver)[-1] == ("chair", "Urgent protection concern not escalated on time")
    check = task(driver, "escalate_concern_chair_check")
    assert check["lane"] == "chair"
    assert driver.ready_ids() == ["escalate_concern", "escalate_concern_chair_check"]
    overdue = client.get("/api/v1/tasks", params={"overdue": "true"}).json()["items"]
    assert [t["bpmn_id"] for t in overdue] == ["escalate_concern"]

    driver.submit("escalate_concern_chair_check", {
        "action_taken": "Rang the board manager; the referral goes today",
        "expected_by": "2026-03-03"})
    at(clock, 2026, 3, 3, 10)
    driver.submit("escalate_concern", {**ESCALATION, "escalated_on": "2026-03-03"})
    recorded = driver.decisions()["urgent_concern_escalated"]
    assert (recorded["escalated_on"], recorded["due"], recorded["raised_at"]) == (
        "2026-03-03", "2026-03-02T17:00:00+00:00", "2026-03-02T09:00:00Z")
    assert driver.ready() == []
    at(clock, 2026, 4, 1)
    assert timers.fire_due(ctx) == 0
    assert len(notices(driver)) == 3


def test_a_concern_escalated_in_time_sends_nothing_more(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    driver = concern(client, ctx)
    at(clock, 2026, 3, 2, 11)
    driver.submit("escalate_concern", {**ESCALATION, "escalated_on": "2026-03-02"})
    at(clock, 2026, 3, 3, 9)
    assert timers.fire_due(ctx) == 0
    assert notices(driver) == [("board_manager", "Urgent protection concern")]
    assert driver.ready() == []


def test_after_hours_the_same_working_day_is_the_next_one(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    at(clock, 2026, 3, 27, 17, 30)  # Friday after 17:00; summer time starts on Sunday 29th
    driver = concern(client, ctx)
    assert task(driver, "escalate_concern")["due_at"] == "2026-03-30T16:00:00Z"  # 17:00 BST
    at(clock, 2026, 3, 30, 12, 59)
    assert timers.fire_due(ctx) == 0
    at(clock, 2026, 3, 30, 13, 0, 1)  # 14:00 BST, three hours before the day ends: reminded
    assert timers.fire_due(ctx) == 1
    assert notices(driver)[-1][0] == "board_manager"


def test_the_urgent_concern_clock_is_configuration() -> None:
    rules = ClockRules.model_validate({"regime": "r", "clocks": [{
        "id": "urgent_concern", "label": "Escalated", "from": "raised", "working_days": 1,
        "day_ends": "16:30", "remind_hours_before": 1, "met_by": "escalated",
        "applies_to": "task"}]})
    calendar = WorkingCalendar()
    raised = {"raised": "2026-12-24T10:00:00Z"}  # Christmas Eve: next working day is the 29th
    assert rules.get("urgent_concern").due(raised, calendar) == "2026-12-29T16:30:00+00:00"
    assert rules.get("urgent_concern.reminder").due(raised, calendar) == \
        "2026-12-29T15:30:00+00:00"
    assert rules.case_clocks == []
    shipped = ClockRules.model_validate_json((PROCESSES / "clocks.json").read_text())
    same_day = shipped.get("urgent_concern")
    assert (same_day.working_days, same_day.day_ends, same_day.remind_hours_before) == (
        0, "17:00", 3)
    assert same_day.due({"raised": "2026-03-02T09:00:00Z"}, calendar) == \
        "2026-03-02T17:00:00+00:00"
    # raised on a Saturday: the same working day is Monday
    assert same_day.due({"raised": "2026-03-07T09:00:00Z"}, calendar) == \
        "2026-03-09T17:00:00+00:00"
