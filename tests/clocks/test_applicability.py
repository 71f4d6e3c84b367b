"""Clocks apply to the cases they belong to (issue 16, point 7): the SCR clocks to cases on the
SCR path, the notice of a decision not to hold one to those cases only; the others show
`not_applicable`. The national panel's week counts back from the actual publication date, and a
publication stays on the register exactly 12 calendar months (never less).

Cases are rows in the real database here (the decision whether to hold an SCR, `scr_held`, is
the routes' to record); the clocks are read through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.clock import ManualClock
from app.db.models import ReviewCase
from app.engine.calendar import WorkingCalendar
from app.engine.clock_rules import ClockRule, ClockRules
from app.services.context import ServiceContext

SCR_CLOCKS = ("scr_complete", "report_to_national_panel")
CASE_KEY_DATES = {
    "incident": "2026-01-05", "referred": "2026-01-07", "decided": "2026-01-20",
    "scr_commissioned": "2026-01-20", "declined_scr": "2026-01-20",
    "national_panel_notified": "2026-01-30", "review_completed": "2026-06-30",
    "publication_due": "2026-09-01", "national_panel_report_sent": "2026-08-20"}


def add_case(ctx: ServiceContext, sequence: int, *, statutory: bool | None,
             scr_held: bool | None, key_dates: dict[str, str], route: str | None = "extended",
             outcome: dict[str, Any] | None = None) -> str:
    """A case row as the routes leave it (the clock's key dates, the SCR decision)."""
    reference = f"LIR-2026-{sequence:04d}"
    now = ctx.clock.now()
    with ctx.uow() as uow:
        uow.session.add(ReviewCase(
            reference=reference, year=2026, sequence=sequence, child_pseudonym="Child A",
            agencies=["police"], incident_date=dt.date(2026, 1, 5), summary="A case.",
            facts={}, status="in_review", grade="catastrophic" if statutory else "severe",
            route=route, review_type=None, statutory=statutory, scr_held=scr_held,
            scr_not_held_reason="Known learning." if scr_held is False else None,
            key_dates=key_dates, outcome=outcome or {}, referral_instance_id=None,
            created_at=now, updated_at=now, closed_at=None))
        uow.commit()
    return reference


def deadlines(client: TestClient, reference: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{reference}/deadlines")
    assert response.status_code == 200, response.text
    return {d["id"]: d for d in response.json()}


def test_scr_clocks_apply_only_where_an_scr_is_held(client: TestClient,
                                                    ctx: ServiceContext) -> None:
    held = deadlines(client, add_case(ctx, 1, statutory=True, scr_held=True,
                                      key_dates=CASE_KEY_DATES))
    assert (held["scr_complete"]["state"], held["scr_complete"]["due"]) == ("met", "2026-07-20")
    assert held["report_to_national_panel"]["state"] == "met"
    assert held["national_panel_notice"] == {
        "id": "national_panel_notice", "statutory": True, "kind": "deadline", "due": None,
        "state": "not_applicable", "met_on": None, "late": False,
        "label": "Decision not to hold an SCR sent to the national panel with reasons"}

    # "A concise review shows 'Serious Case Review completed: met'": no more
    concise = deadlines(client, add_case(ctx, 2, statutory=False, scr_held=None,
                                         key_dates=CASE_KEY_DATES, route="concise"))
    for clock_id in (*SCR_CLOCKS, "national_panel_notice"):
        assert concise[clock_id]["state"] == "not_applicable", clock_id
        assert concise[clock_id]["due"] is None and concise[clock_id]["met_on"] is None
    assert concise["notification"]["state"] == "met"  # the clocks of every case still run

    # the chair decided not to hold an SCR: the 14 days' notice applies, the SCR's clocks not
    declined = deadlines(client, add_case(ctx, 3, statutory=True, scr_held=False,
                                          key_dates=CASE_KEY_DATES, route="concise"))
    assert (declined["national_panel_notice"]["due"], declined["national_panel_notice"]["state"],
            declined["national_panel_notice"]["late"]) == ("2026-02-03", "met", False)
    assert [declined[c]["state"] for c in SCR_CLOCKS] == ["not_applicable"] * 2

    # a statutory case whose chair has not decided yet: every SCR clock may still apply
    undecided = deadlines(client, add_case(ctx, 4, statutory=True, scr_held=None,
                                           key_dates={"incident": "2026-01-05",
                                                      "referred": "2026-01-07"}))
    for clock_id in (*SCR_CLOCKS, "national_panel_notice"):
        assert undecided[clock_id]["state"] == "not_started", clock_id
    # a route's own clock is not a case's deadline
    assert "urgent_concern" not in held


def test_the_national_panels_week_counts_back_from_the_actual_publication(
        client: TestClient, ctx: ServiceContext, clock: ManualClock) -> None:
    planned = {**CASE_KEY_DATES, "publication_due": "2026-09-01",
               "national_panel_report_sent": "2026-08-28"}
    reference = add_case(ctx, 1, statutory=True, scr_held=True, key_dates=planned)
    clock.set(dt.datetime(2026, 8, 1, 9, tzinfo=dt.UTC))
    before = deadlines(client, reference)["report_to_national_panel"]
    assert (before["due"], before["state"], before["late"]) == ("2026-08-25", "met", True)

    # published a fortnight later than planned: the report went a week and more before it
    with ctx.uow() as uow:
        case = uow.session.query(ReviewCase).filter_by(reference=reference).one()
        case.key_dates = {**planned, "published": "2026-09-15"}
        uow.commit()
    after = deadlines(client, reference)
    assert (after["report_to_national_panel"]["due"], after["report_to_national_panel"]["state"],
            after["report_to_national_panel"]["late"]) == ("2026-09-08", "met", False)
    # and it stays on the website exactly 12 calendar months from the day it was published
    assert (after["kept_published"]["due"], after["kept_published"]["state"]) == (
        "2027-09-15", "pending")
    clock.set(dt.datetime(2027, 9, 14, 23, tzinfo=dt.UTC))
    assert deadlines(client, reference)["kept_published"]["state"] == "pending"
    clock.set(dt.datetime(2027, 9, 15, 0, tzinfo=dt.UTC))
    assert deadlines(client, reference)["kept_published"]["state"] == "met"


@pytest.mark.parametrize(("published", "until"), [
    ("2026-01-31", "2027-01-31"), ("2026-03-30", "2027-03-30"), ("2028-02-29", "2029-02-28"),
    ("2026-12-31", "2027-12-31")])
def test_kept_published_is_exactly_twelve_calendar_months(published: str, until: str) -> None:
    rule = ClockRules.model_validate({"regime": "r", "clocks": [{
        "id": "kept_published", "label": "Kept", "from": "published", "months": 12,
        "kind": "minimum"}]}).get("kept_published")
    assert rule.due({"published": published}, WorkingCalendar()) == until


def test_a_publication_stays_on_the_register_twelve_calendar_months(
        client: TestClient, ctx: ServiceContext) -> None:
    reference = add_case(ctx, 1, statutory=True, scr_held=True, key_dates=CASE_KEY_DATES)
    item = {"case_reference": reference, "kind": "report", "title": "Child A: the SCR",
            "location": "Board website"}
    added = client.post("/api/v1/publications", json={**item, "published_on": "2026-01-31"})
    assert added.status_code == 201, added.text
    assert added.json()["available_until"] == "2027-01-31"  # not the 28th
    leap = client.post("/api/v1/publications", json={**item, "published_on": "2024-02-29"})
    assert leap.json()["available_until"] == "2025-02-28"

    shorter = client.post("/api/v1/publications", json={
        **item, "published_on": "2026-01-31", "available_until": "2027-01-30"})
    assert shorter.status_code == 422
    body = shorter.json()
    assert body["field"] == "available_until" and "2027-01-31" in body["detail"], body
    months = client.post("/api/v1/publications", json={
        **item, "published_on": "2026-01-31", "months_available": 6})
    assert months.status_code == 422
    assert [e["field"] for e in months.json()["errors"]] == ["months_available"]

    longer = client.post("/api/v1/publications", json={
        **item, "published_on": "2026-01-31", "available_until": "2028-01-31"})
    assert longer.status_code == 201 and longer.json()["available_until"] == "2028-01-31"
    assert client.get("/api/v1/publications").json()["total"] == 3


def test_clock_rules_name_the_cases_they_apply_to() -> None:
    base = {"id": "c", "label": "C", "from": "referred", "days": 1, "met_by": "decided"}
    with pytest.raises(ValidationError, match="applies_to"):
        ClockRule.model_validate({**base, "applies_to": "concise_only"})
    with pytest.raises(ValidationError, match="remind_hours_before needs day_ends"):
        ClockRule.model_validate({**base, "remind_hours_before": 2})
    with pytest.raises(ValidationError, match="day_ends"):
        ClockRule.model_validate({**base, "day_ends": "25:00"})
    table = {  # (statutory, scr_held) -> applies
        "all": {(None, None): True, (False, None): True, (True, True): True},
        "statutory": {(False, None): False, (True, None): True, (True, False): True},
        "scr_held": {(False, None): False, (True, None): None, (True, True): True,
                     (True, False): False, (None, None): False},
        "scr_not_held": {(False, None): False, (True, None): None, (True, True): False,
                         (True, False): True},
        "task": {(True, True): False, (False, None): False},
    }
    for applies_to, cases in table.items():
        rule = ClockRule.model_validate({**base, "applies_to": applies_to})
        for (statutory, scr_held), expected in cases.items():
            assert rule.applies(statutory, scr_held) is expected, (applies_to, statutory,
                                                                   scr_held)
    rules = ClockRules.model_validate({"regime": "r", "clocks": [base]})
    with pytest.raises(KeyError, match="no reminder"):
        rules.get("c.reminder")
