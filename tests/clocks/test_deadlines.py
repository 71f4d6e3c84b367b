"""Statutory clocks and commissioning deadlines: due dates, reminders, escalation, states."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from app.clock import ManualClock
from app.services import timers
from app.services.context import ServiceContext
from tests.routes.driver import CaseDriver


def at(clock: ManualClock, *args: int) -> None:
    clock.set(dt.datetime(*args, tzinfo=dt.UTC))


def deadlines(client: TestClient, reference: str) -> dict[str, dict]:
    response = client.get(f"/api/v1/cases/{reference}/deadlines")
    assert response.status_code == 200, response.text
    return {d["id"]: d for d in response.json()}


def test_decision_clock_reminds_escalates_and_is_met(client: TestClient, ctx: ServiceContext,
                                                     clock: ManualClock) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    # severe, so a concise review: Monday 2 March 2026; incident on Friday 20 February
    driver.refer(abuse_or_neglect=True, seriously_harmed=True, interagency_concern="curiosity")
    clocks = deadlines(client, driver.reference)
    assert clocks["notification"] == {
        "id": "notification", "label": "Serious incident notified to the Board",
        "statutory": True, "kind": "deadline", "due": "2026-02-27", "state": "met",
        "met_on": "2026-03-02", "late": True}
    assert (clocks["decision"]["due"], clocks["decision"]["state"]) == ("2026-04-02", "pending")
    for clock_id in ("scr_complete", "report_to_national_panel", "national_panel_notice"):
        assert clocks[clock_id]["state"] == "not_applicable", clock_id  # no SCR here
    assert client.get("/api/v1/cases/LIR-2026-0404/deadlines").status_code == 404

    driver.screen("concise")
    [endorse] = driver.ready()
    assert endorse["due_at"] == "2026-04-03T00:00:00Z"  # the end of 2 April

    at(clock, 2026, 3, 26, 23, 59)
    assert timers.fire_due(ctx) == 0
    at(clock, 2026, 3, 27)  # five working days before the due date
    assert timers.fire_due(ctx) == 1
    [reminder] = driver.events("notification_sent")
    assert reminder["detail"]["recipient"] == "chair"
    assert reminder["detail"]["subject"].startswith("Reminder")
    assert driver.ready_ids() == ["endorse_review"]

    at(clock, 2026, 4, 3, 0, 1)
    assert timers.fire_due(ctx) == 1
    notices = [e["detail"] for e in driver.events("notification_sent")]
    assert notices[-1]["recipient"] == "chair"
    assert notices[-1]["subject"].startswith("Statutory deadline missed")
    ready = {t["bpmn_id"]: t for t in driver.ready()}
    assert set(ready) == {"endorse_review", "endorse_review_chase"}
    assert ready["endorse_review_chase"]["lane"] == "board_manager"
    overdue = client.get("/api/v1/tasks", params={"overdue": "true"}).json()["items"]
    assert [t["bpmn_id"] for t in overdue] == ["endorse_review"]
    assert deadlines(client, driver.reference)["decision"]["state"] == "overdue"

    driver.submit("endorse_review_chase", {"action_taken": "Phoned the chair",
                                           "expected_by": "2026-04-06"})
    driver.endorse()
    clocks = deadlines(client, driver.reference)
    assert (clocks["decision"]["state"], clocks["decision"]["met_on"],
            clocks["decision"]["late"]) == ("met", "2026-04-03", True)
    at(clock, 2026, 4, 4)
    assert timers.fire_due(ctx) == 0  # the endorsement's timers went with it
    assert deadlines(client, driver.reference)["scr_complete"]["state"] == "not_applicable"


def test_scr_clock_starts_when_the_chair_decides_to_hold_one(client: TestClient) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(died_in_custody=True)
    clocks = deadlines(client, driver.reference)
    assert clocks["scr_complete"]["state"] == "not_started"  # statutory, not decided yet
    driver.screen("extended")
    driver.national_panel_consulted("Proceed with a Serious Case Review.")
    driver.hold_scr()
    clocks = deadlines(client, driver.reference)
    assert (clocks["scr_complete"]["due"], clocks["scr_complete"]["state"]) == (
        "2026-09-02", "pending")
    assert clocks["national_panel_notice"]["state"] == "not_applicable"


def test_commissioning_deadlines_drive_timers(client: TestClient, ctx: ServiceContext,
                                              clock: ManualClock) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(parents_charged_neglect=True)
    driver.screen("single_agency")
    driver.endorse()
    driver.submit("commission_single_agency_review", {
        "agency": "health", "terms_of_reference": "t", "due_date": "2026-04-30"})
    [task] = driver.ready()
    assert task["due_at"] == "2026-05-01T00:00:00Z"
    at(clock, 2026, 4, 24)  # 30 April less five working days is 23 April
    assert timers.fire_due(ctx) == 1
    assert driver.events("notification_sent")[-1]["detail"]["recipient"] == "agency_lead"
    at(clock, 2026, 5, 1, 9)
    assert timers.fire_due(ctx) == 1
    assert "carry_out_single_agency_review_chase" in driver.ready_ids()


def test_extended_route_records_every_clock(client: TestClient, ctx: ServiceContext,
                                            clock: ManualClock) -> None:
    driver = CaseDriver(client)
    driver.deploy()
    driver.refer(abuse_or_neglect=True, child_died=True)
    driver.screen("extended")
    driver.national_panel_consulted("Proceed")
    driver.hold_scr()
    driver.full_review_to_end(extended=True)
    driver.submit("publish_report", {"publish": True, "national_panel_sent_on": "2026-08-20",
                                     "published_on": "2026-09-01", "published_format": "whole",
                                     "location": "Board website"})
    clocks = deadlines(client, driver.reference)
    assert clocks["agency_reviews"]["state"] == "met"
    assert clocks["report"]["state"] == "met"
    assert clocks["report_to_national_panel"] == {
        "id": "report_to_national_panel", "label": "Final report sent to the national panel",
        "statutory": True, "kind": "deadline", "due": "2026-08-25", "state": "met",
        "met_on": "2026-08-20", "late": False}
    assert clocks["publication"]["met_on"] == "2026-09-01"
    assert clocks["scr_complete"]["state"] == "met"
    assert (clocks["kept_published"]["due"], clocks["kept_published"]["state"]) == (
        "2027-09-01", "pending")
    at(clock, 2027, 9, 2)
    assert deadlines(client, driver.reference)["kept_published"]["state"] == "met"
